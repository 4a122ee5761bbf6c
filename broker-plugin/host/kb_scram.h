/*
 * kb_scram.h: the server side of one SCRAM-SHA-256 or SCRAM-SHA-512
 * exchange (RFC 5802, RFC 7677) as Kafka brokers speak it, on OpenSSL.
 *
 * It knows messages and keys, not users: the caller looks the user named
 * in the client-first-message up and hands over the user's credential
 * (salt, StoredKey, ServerKey), which kb_scram_derive() makes from the
 * cleartext password and kb_scram_cache.h keeps between logins.
 *
 *   kb_scram_client_first   client-first-message in
 *   kb_scram_server_first   server-first-message out
 *   kb_scram_client_final   client-final-message in, server-final out
 *
 * Nothing a kb_scram writes to errstr holds a secret.
 */
#ifndef KB_SCRAM_H
#define KB_SCRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kb_scram_result {
    KB_SCRAM_OK = 0,
    KB_SCRAM_BADPROT = -1, /* malformed or refused message; errstr says which part */
    KB_SCRAM_NOAUTHZ = -2, /* authorization id a= other than the user */
    KB_SCRAM_BADAUTH = -3, /* unknown user or wrong proof; errstr says which, for logs */
    KB_SCRAM_ERROR = -4,   /* out of memory or a failing OpenSSL call */
};

/* SCRAM's iteration count: Kafka's minimum for both hashes
 * (ScramMechanism.minIterations), which Kafka clients also require. */
#define KB_SCRAM_ITERATIONS 4096

#define KB_SCRAM_SALT_BYTES 16
#define KB_SCRAM_KEY_MAX 64 /* SHA-512 */

/* What a SCRAM server keeps of a password (RFC 5802 section 3), as Kafka
 * stores SCRAM credentials: the keys, never the password. */
typedef struct kb_scram_cred {
    unsigned char salt[KB_SCRAM_SALT_BYTES];
    unsigned char stored_key[KB_SCRAM_KEY_MAX];
    unsigned char server_key[KB_SCRAM_KEY_MAX];
} kb_scram_cred;

/* Derives the credential of password (password_len bytes) with salt for
 * mechanism ("SCRAM-SHA-256" or "SCRAM-SHA-512"): the PBKDF2 work of a
 * login. Returns 0, or -1 for another mechanism or a failing OpenSSL. */
int kb_scram_derive(const char *mechanism, const char *password, size_t password_len,
                    const unsigned char salt[KB_SCRAM_SALT_BYTES], kb_scram_cred *out);

typedef struct kb_scram kb_scram;

/* mechanism is "SCRAM-SHA-256" or "SCRAM-SHA-512"; NULL for any other
 * name or when out of memory. */
kb_scram *kb_scram_new(const char *mechanism);
/* Wipes every key and password-derived byte, then frees. NULL is allowed. */
void kb_scram_free(kb_scram *s);

/* Parses the client-first-message (len bytes, no NUL needed). On
 * KB_SCRAM_OK and KB_SCRAM_NOAUTHZ kb_scram_user names the user. */
int kb_scram_client_first(kb_scram *s, const uint8_t *in, size_t len, char *errstr,
                          size_t errstr_size);
/* The user of the client-first-message, unescaped (=2C and =3D decoded);
 * NULL before it. Owned by s. */
const char *kb_scram_user(const kb_scram *s);

/* Answers the client-first-message with cred (copied). known is false
 * when the user does not exist: cred then only gives the salt, the answer
 * looks the same and the exchange fails at the proof. *out (owned by s)
 * stays valid until kb_scram_free. */
int kb_scram_server_first(kb_scram *s, const kb_scram_cred *cred, bool known,
                          const uint8_t **out, size_t *out_len, char *errstr, size_t errstr_size);

/* Checks the client-final-message. On KB_SCRAM_OK the client knew the
 * password and *out (owned by s) is the server-final-message. */
int kb_scram_client_final(kb_scram *s, const uint8_t *in, size_t len, const uint8_t **out,
                          size_t *out_len, char *errstr, size_t errstr_size);

#endif
