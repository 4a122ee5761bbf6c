/*
 * kc_jaas.h: the client side of Kafka's sasl.jaas.config, which names one
 * JAAS login module and its options, e.g.
 *   org.apache.kafka.common.security.plain.PlainLoginModule required
 *     username="alice" password="secret";
 * The syntax follows Kafka's JaasConfig (a java.io.StreamTokenizer): words
 * of letters, digits and . _ - $, strings in double or single quotes with
 * backslash escapes, // and slash-star comments, exactly one module.
 */
#ifndef KC_JAAS_H
#define KC_JAAS_H

#include <stddef.h>

enum kc_jaas_module {
    KC_JAAS_PLAIN = 1, /* ...security.plain.PlainLoginModule */
    KC_JAAS_SCRAM = 2  /* ...security.scram.ScramLoginModule */
};

typedef struct kc_jaas {
    int module;     /* enum kc_jaas_module */
    char *username; /* malloc'd */
    char *password; /* malloc'd; kc_jaas_free() wipes it */
} kc_jaas;

/* Parses text into out (need not be initialised). Returns 0, or -1 with
 * errstr naming what is wrong ("username is missing", "unterminated quoted
 * value of option 'password'"); the message never quotes an option's value,
 * since it may be a password. Free out with kc_jaas_free() either way. */
int kc_jaas_parse(const char *text, kc_jaas *out, char *errstr, size_t errstr_size);
void kc_jaas_free(kc_jaas *j);

#endif
