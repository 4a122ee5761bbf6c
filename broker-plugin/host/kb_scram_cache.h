/*
 * kb_scram_cache.h: SCRAM credentials kept between logins. The sasldb holds
 * cleartext passwords, and deriving SCRAM keys from one costs 4096 rounds
 * of HMAC (milliseconds of CPU); a Kafka broker derives them once, when the
 * credential is created, and so does this cache: once per user, mechanism
 * and password. A changed password is noticed at the next login, which
 * gets keys derived from the new one.
 */
#ifndef KB_SCRAM_CACHE_H
#define KB_SCRAM_CACHE_H

#include "kb_scram.h"

typedef struct kb_scram_cache kb_scram_cache;

/* An empty cache with a fresh random secret; salts come from salt_secret
 * (sasl.scram.salt.secret, the same on every broker of a cluster) when it
 * is not NULL or empty, else from the random secret (per process). NULL
 * when out of memory or without random bytes. */
kb_scram_cache *kb_scram_cache_new(const char *salt_secret);
/* Wipes every credential, then frees. NULL is allowed. */
void kb_scram_cache_free(kb_scram_cache *c);

/* Fills *cred for user's login with mechanism. password (password_len
 * bytes, not kept) is the user's cleartext password from the sasldb, or
 * NULL when there is no such user: *cred is then derived, once, as a
 * user's would be, from a secret password no client knows, so that the
 * salt and the time taken tell nothing. A name's salt stays the same while
 * its password does. Thread-safe; never holds its lock while deriving.
 * Returns 0 or -1 (memory or OpenSSL). */
int kb_scram_cache_get(kb_scram_cache *c, const char *mechanism, const char *user,
                       const char *password, size_t password_len, kb_scram_cred *cred);

#endif
