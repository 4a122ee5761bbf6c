/*
 * kb_sasl.h: the broker's SASL server side: PLAIN and SCRAM-SHA-256/512
 * against a sasldb file made with `saslpasswd2 -p -c -f FILE -u REALM USER`.
 * libsasl2 (Cyrus SASL) reads the file and runs PLAIN; SCRAM is kb_scram's
 * (see kb_sasl.c for why).
 *
 * libsasl2 keeps process-wide state, so one kb_sasl_server serves the whole
 * process; sessions may run concurrently on different threads.
 */
#ifndef KB_SASL_H
#define KB_SASL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kb_sasl_status { KB_SASL_CONTINUE = 1, KB_SASL_DONE = 2, KB_SASL_FAILED = -1 };

typedef struct kb_sasl_server kb_sasl_server;
typedef struct kb_sasl_session kb_sasl_session;

/* Initialises libsasl2 for the process with the sasldb file, the realm
 * users belong to and the enabled mechanism names (copied). NULL on error
 * with errstr set (e.g. sasldb missing, or libsasl2's PLAIN or sasldb
 * plugin missing). */
kb_sasl_server *kb_sasl_server_new(const char *sasldb_path, const char *realm,
                                   char *const *mechanisms, size_t n_mechanisms, char *errstr,
                                   size_t errstr_size);
/* SCRAM salts from secret (sasl.scram.salt.secret, not kept), so that
 * every broker sharing it offers a user the same salt; call before the
 * first session. Returns 0, or -1 when out of memory. */
int kb_sasl_server_set_salt_secret(kb_sasl_server *srv, const char *secret);
/* Frees the server; no session may be alive. */
void kb_sasl_server_free(kb_sasl_server *srv);
/* True when mechanism (e.g. "SCRAM-SHA-256") is enabled. */
bool kb_sasl_enabled(const kb_sasl_server *srv, const char *mechanism);
/* Writes the enabled mechanisms into out (caller's array of n pointers,
 * static strings owned by srv); returns how many there are. */
size_t kb_sasl_mechanisms(const kb_sasl_server *srv, const char **out, size_t n);

/* Starts one authentication with an enabled mechanism; NULL with errstr. */
kb_sasl_session *kb_sasl_session_new(kb_sasl_server *srv, const char *mechanism, char *errstr,
                                     size_t errstr_size);
void kb_sasl_session_free(kb_sasl_session *s);
/* Feeds one client token. On KB_SASL_CONTINUE send *out (*out_len bytes,
 * owned by the session, valid until the next call) and wait for the next
 * token; on KB_SASL_DONE send *out if *out_len > 0, the client is
 * authenticated; on KB_SASL_FAILED errstr says why, without any secret. */
int kb_sasl_step(kb_sasl_session *s, const uint8_t *in, size_t in_len, const uint8_t **out,
                 size_t *out_len, char *errstr, size_t errstr_size);
/* After KB_SASL_DONE: the authenticated user name (UTF-8, unescaped, no
 * realm); the principal is "User:" followed by it. Owned by the session. */
const char *kb_sasl_username(const kb_sasl_session *s);
/* The session's last diagnostic ("" if none): libsasl2's for PLAIN, e.g.
 * "no secret in database" versus "Password verification failed", and for
 * SCRAM "no such user" versus "client proof does not match the stored
 * password". For the broker's own log only: the client gets the uniform
 * kb_sasl_step message so that it cannot tell unknown users from wrong
 * passwords. Owned by the session. */
const char *kb_sasl_detail(const kb_sasl_session *s);

#endif
