/*
 * kc_sasl.h: the client side of a SASL exchange (PLAIN, SCRAM-SHA-256,
 * SCRAM-SHA-512) through libsasl2's client API; the SCRAM mechanism is
 * kc_sasl_scram.h's, which derives a salted password once per run and
 * salt instead of once per connection. Kafka carries the tokens
 * in SaslAuthenticate; this module only turns server tokens into client
 * tokens and checks the server's proof (SCRAM's final message).
 */
#ifndef KC_SASL_H
#define KC_SASL_H

#include <stddef.h>
#include <stdint.h>

typedef struct kc_sasl kc_sasl;

enum kc_sasl_state {
    KC_SASL_CONTINUE = 1, /* send *out and give step() the server's answer */
    KC_SASL_DONE = 0,     /* the client is satisfied; send *out if it is not empty */
    KC_SASL_FAILED = -1   /* err says why */
};

/* Initialises libsasl2's client side with this module's SCRAM, once per
 * process. Call it before librdkafka's rd_kafka_new(): librdkafka
 * initialises libsasl2 too, and the first caller decides which plugins
 * load. kc_sasl_new() calls it as well. */
void kc_sasl_global_init(void);

/* A session with broker host for username/password (copied; the password
 * copy is wiped on free). Returns NULL with err on failure. */
kc_sasl *kc_sasl_new(const char *host, const char *username, const char *password, char *err,
                     size_t err_size);
/* Starts mechanism; *out and *out_len give the first token, owned by the session
 * until the next call. Returns an enum kc_sasl_state. */
int kc_sasl_start(kc_sasl *s, const char *mechanism, const uint8_t **out, size_t *out_len, char *err,
                  size_t err_size);
/* Feeds the server's token; same outputs as kc_sasl_start. */
int kc_sasl_step(kc_sasl *s, const uint8_t *in, size_t in_len, const uint8_t **out, size_t *out_len,
                 char *err, size_t err_size);
void kc_sasl_free(kc_sasl *s);

#endif
