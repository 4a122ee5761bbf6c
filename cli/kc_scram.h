/*
 * kc_scram.h: the client side of SCRAM-SHA-256 and SCRAM-SHA-512
 * (RFC 5802, RFC 7677) as Kafka brokers speak it: no channel binding, no
 * authorization id, iteration counts within Kafka's 4096..16384.
 *
 * The password-based key derivation (PBKDF2, 4096 or more rounds of
 * HMAC) is most of a login's CPU. A kc_scram_keys shared by the sessions
 * of one run keeps the keys derived for each (mechanism, password, salt,
 * iterations), so brokers that offer the same salt, as Kafka brokers do
 * (a user's SCRAM credential is cluster-wide), cost one derivation in all.
 *
 * kc_sasl.c offers this to libsasl2 as the client mechanism for both
 * names. Nothing written to an error buffer holds a secret.
 */
#ifndef KC_SCRAM_H
#define KC_SCRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kafka's bounds (ScramMechanism.minIterations/maxIterations): brokers
 * cannot store a credential outside them, so an offer outside them is
 * refused rather than computed. */
#define KC_SCRAM_MIN_ITERATIONS 4096
#define KC_SCRAM_MAX_ITERATIONS 16384

typedef struct kc_scram_keys kc_scram_keys;
typedef struct kc_scram kc_scram;

/* A key store for the sessions of a run; thread-safe. NULL when out of
 * memory. */
kc_scram_keys *kc_scram_keys_new(void);
/* Wipes every key, then frees. NULL is allowed. */
void kc_scram_keys_free(kc_scram_keys *k);
/* How many derivations sessions sharing k have made so far. */
unsigned long kc_scram_keys_derivations(kc_scram_keys *k);

/* A session for mechanism ("SCRAM-SHA-256" or "SCRAM-SHA-512"), user and
 * password (password_len bytes; both copied, the copy wiped on free),
 * keeping derived keys in keys (may be NULL: derive every time). NULL
 * for another mechanism or when out of memory. */
kc_scram *kc_scram_new(const char *mechanism, const char *user, const char *password,
                       size_t password_len, kc_scram_keys *keys);
/* Wipes the session's keys and password copy, then frees. NULL is allowed. */
void kc_scram_free(kc_scram *s);

/* The client-first-message; *out (*out_len bytes) is owned by the session
 * until the next call. Returns 0, or -1 with err. */
int kc_scram_first(kc_scram *s, const char **out, size_t *out_len, char *err, size_t err_size);
/* Takes the server-first-message, returns the client-final-message as
 * kc_scram_first does. */
int kc_scram_final(kc_scram *s, const char *in, size_t in_len, const char **out, size_t *out_len,
                   char *err, size_t err_size);
/* True once the client-final-message is out: the next server message is
 * the server-final-message. */
bool kc_scram_done_sending(const kc_scram *s);
/* Checks the server-final-message: 0 when the server proved it knows the
 * credential, -1 with err otherwise (including a server's e= error). */
int kc_scram_verify(kc_scram *s, const char *in, size_t in_len, char *err, size_t err_size);

#endif
