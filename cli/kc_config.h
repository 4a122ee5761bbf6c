/*
 * kc_config.h: connection settings of kafka-connections from a properties
 * file (--command-config) and -X key=value, in Apache Kafka's client
 * property names or librdkafka's, into a kc_settings.
 *
 * Property names understood here (Kafka name / librdkafka name):
 *   security.protocol
 *   sasl.mechanism / sasl.mechanisms      PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
 *   sasl.jaas.config / sasl.username + sasl.password
 *   ssl.truststore.location / ssl.ca.location          (PEM)
 *   ssl.keystore.location (PEM: certificate and key in one file)
 *     / ssl.certificate.location + ssl.key.location
 *   ssl.key.password
 *   ssl.truststore.type, ssl.keystore.type              (PEM only)
 *   ssl.truststore.password, ssl.keystore.password      (accepted, unused with PEM)
 *   ssl.endpoint.identification.algorithm               (https, or empty/none to disable)
 *   client.id
 * Settings of Kafka's Java clients that have no effect here (TLS protocol
 * and cipher choices, JSSE algorithms, SASL login refresh, bootstrap.servers
 * which --bootstrap-server replaces) are accepted and listed in ignored[]
 * for the caller to mention. Any other name must be a librdkafka property:
 * it is checked with librdkafka and handed to the bootstrap client only
 * (kc_settings.librdkafka_props). A name neither knows is an error, so a
 * typo in a security setting never passes silently.
 */
#ifndef KC_CONFIG_H
#define KC_CONFIG_H

#include "kc_fanout.h"

#include <stdbool.h>
#include <stddef.h>

/* Kafka's security protocol ids, as kc_settings.security_protocol holds them. */
enum kc_security_protocol { KC_PLAINTEXT = 0, KC_SSL = 1, KC_SASL_PLAINTEXT = 2, KC_SASL_SSL = 3 };

/* Settings whose errors are found only once every property is read
 * (kc_config_finish), and so need to be told where they were given. */
enum kc_setting { KC_SET_MECHANISM, KC_SET_JAAS, KC_SET_CA, KC_SET_CERT, KC_SET_KEY, KC_SET_N };

/* Where a setting was given: its name as written, and "FILE:LINE" or "-X"
 * (empty when never given). */
typedef struct kc_origin {
    char name[64];
    char where[320];
} kc_origin;

typedef struct kc_config {
    kc_settings s; /* filled by kc_config_finish(); points into this struct */
    int security_protocol; /* -1 until set */
    char *sasl_mechanism, *sasl_username, *sasl_password;
    int jaas_module; /* enum kc_jaas_module of sasl.jaas.config; 0 without */
    char *ssl_ca, *ssl_cert, *ssl_key, *ssl_key_password;
    int verify_hostname; /* -1 until set */
    char *client_id;
    char **rdkafka; /* key, value, key, value, ..., NULL */
    size_t n_rdkafka;
    char **ignored; /* names of Java client settings accepted without effect */
    size_t n_ignored;
    bool tls_unused; /* set by kc_config_finish: ssl.* files given, TLS not used */
    kc_origin origin[KC_SET_N];
    const char *loading; /* the file kc_config_load() reads; NULL for -X */
    unsigned line;       /* the line of the property being read from it */
} kc_config;

void kc_config_init(kc_config *c);
/* Sets one property; later calls win. Returns 0, or -1 with errstr as
 * "KEY: cause" (values of secret properties are never quoted). */
int kc_config_set(kc_config *c, const char *key, const char *value, char *errstr,
                  size_t errstr_size);
/* Reads a --command-config file; errors are "FILE:LINE: KEY: cause". */
int kc_config_load(kc_config *c, const char *path, char *errstr, size_t errstr_size);
/* Applies one -X argument, "key=value"; errors are "-X KEY: cause". */
int kc_config_set_arg(kc_config *c, const char *arg, char *errstr, size_t errstr_size);
/* Checks the combination and fills c->s (defaults: api key 1000, timeout
 * 30000 ms, parallelism 16, client id "kafka-connections", hostname
 * verification on); sets c->tls_unused for the caller to mention. Checks
 * that the ssl.* files are readable PEM (a Java keystore is not) and that
 * an encrypted key has its password. Returns 0, or -1 with errstr naming
 * the property as written and where: "FILE:LINE: KEY: cause" or
 * "-X KEY: cause". */
int kc_config_finish(kc_config *c, char *errstr, size_t errstr_size);
/* Frees every string, wiping the secrets; safe to call twice. */
void kc_config_free(kc_config *c);

/* "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL", or NULL. */
const char *kc_security_protocol_name(int protocol);

#endif
