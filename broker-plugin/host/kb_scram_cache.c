/* SCRAM credentials by (mechanism, user), with a keyed digest of the
 * password they were derived from to notice a change. */
#include "kb_scram_cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

/* Users seen since the cache was last emptied; past this it starts again
 * rather than track which entry is oldest (a sasldb that large is not
 * this broker's case, and a full cache only costs derivations). */
#define KB_CACHE_SLOTS 1024
#define KB_TAG_BYTES 32

typedef struct kb_entry {
    char *key; /* mechanism NUL user, key_len bytes; NULL = free slot */
    size_t key_len;
    unsigned char tag[KB_TAG_BYTES]; /* HMAC-SHA-256(secret, password) */
    kb_scram_cred cred;
} kb_entry;

struct kb_scram_cache {
    pthread_mutex_t lock;
    unsigned char secret[64]; /* two keys: password digests ('p'); salts and the
                               * stand-in passwords of unknown names ('s') */
    kb_entry slots[KB_CACHE_SLOTS];
    size_t used;
};

kb_scram_cache *kb_scram_cache_new(const char *salt_secret)
{
    kb_scram_cache *c = calloc(1, sizeof *c);
    static const char purpose[] = "kafka-connections-broker SCRAM salts";
    unsigned int olen = 0;

    if (!c)
        return NULL;
    /* The salt half comes from the cluster's secret when there is one, so
     * that every broker offers a user the same salt, as Kafka's brokers
     * do with a cluster-wide SCRAM credential. */
    bool ok = RAND_bytes(c->secret, sizeof c->secret) == 1;
    if (ok && salt_secret && *salt_secret)
        ok = HMAC(EVP_sha256(), salt_secret, (int)strlen(salt_secret), (const unsigned char *)purpose,
                  sizeof purpose - 1, c->secret + sizeof c->secret / 2, &olen) &&
             olen == sizeof c->secret / 2;
    if (!ok || pthread_mutex_init(&c->lock, NULL) != 0) {
        OPENSSL_cleanse(c, sizeof *c);
        free(c);
        return NULL;
    }
    return c;
}

static void kb_clear(kb_scram_cache *c)
{
    for (size_t i = 0; i < KB_CACHE_SLOTS; i++) {
        free(c->slots[i].key);
        OPENSSL_cleanse(&c->slots[i], sizeof c->slots[i]);
    }
    c->used = 0;
}

void kb_scram_cache_free(kb_scram_cache *c)
{
    if (!c)
        return;
    kb_clear(c);
    pthread_mutex_destroy(&c->lock);
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
}

/* HMAC-SHA-256 of data under one of the cache's two secrets, so that a
 * password digest and a salt or stand-in password never share a key. */
static int kb_keyed(const kb_scram_cache *c, char which, const void *data, size_t len,
                    unsigned char out[KB_TAG_BYTES])
{
    const unsigned char *key = c->secret + (which == 'p' ? 0 : sizeof c->secret / 2);
    unsigned int olen = 0;

    return HMAC(EVP_sha256(), key, (int)(sizeof c->secret / 2), data, len, out, &olen) &&
                   olen == KB_TAG_BYTES
               ? 0
               : -1;
}

static size_t kb_home(const char *key, size_t len)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return h % KB_CACHE_SLOTS;
}

/* The slot holding key, or the free slot where it would go; caller locks. */
static kb_entry *kb_find(kb_scram_cache *c, const char *key, size_t len)
{
    size_t at = kb_home(key, len);

    while (c->slots[at].key &&
           !(c->slots[at].key_len == len && memcmp(c->slots[at].key, key, len) == 0))
        at = (at + 1) % KB_CACHE_SLOTS;
    return &c->slots[at];
}

/* Copies the cached credential when its password digest is tag. */
static bool kb_lookup(kb_scram_cache *c, const char *key, size_t len,
                      const unsigned char tag[KB_TAG_BYTES], kb_scram_cred *cred)
{
    pthread_mutex_lock(&c->lock);
    kb_entry *e = kb_find(c, key, len);
    bool hit = e->key && CRYPTO_memcmp(e->tag, tag, KB_TAG_BYTES) == 0;

    if (hit)
        *cred = e->cred;
    pthread_mutex_unlock(&c->lock);
    return hit;
}

static int kb_store(kb_scram_cache *c, const char *key, size_t len,
                    const unsigned char tag[KB_TAG_BYTES], const kb_scram_cred *cred)
{
    int rc = 0;

    pthread_mutex_lock(&c->lock);
    kb_entry *e = kb_find(c, key, len);
    if (!e->key) {
        /* Half full at most keeps the probes short. */
        if (c->used >= KB_CACHE_SLOTS / 2) {
            kb_clear(c);
            e = kb_find(c, key, len);
        }
        if ((e->key = malloc(len)) != NULL) {
            memcpy(e->key, key, len);
            e->key_len = len;
            c->used++;
        } else {
            rc = -1;
        }
    }
    if (rc == 0) {
        memcpy(e->tag, tag, KB_TAG_BYTES);
        e->cred = *cred;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int kb_scram_cache_get(kb_scram_cache *c, const char *mechanism, const char *user,
                       const char *password, size_t password_len, kb_scram_cred *cred)
{
    size_t mlen = strlen(mechanism), ulen = strlen(user), len = mlen + 1 + ulen;
    unsigned char tag[KB_TAG_BYTES], digest[KB_TAG_BYTES];
    char *key = malloc(len);
    int rc = -1;

    if (!key)
        return -1;
    memcpy(key, mechanism, mlen + 1);
    memcpy(key + mlen + 1, user, ulen);
    /* A name that does not exist gets what a user would: keys derived (once,
     * like a user's) from a password no client knows, so that neither the
     * answer nor its timing tells the two apart. */
    unsigned char unknown[KB_TAG_BYTES];
    const char *pw = password;
    size_t pw_len = password_len;
    if (!password) {
        if (kb_keyed(c, 's', key, len, unknown) != 0)
            goto out;
        pw = (const char *)unknown;
        pw_len = sizeof unknown;
    }
    if (kb_keyed(c, 'p', pw, pw_len, tag) != 0)
        goto out;
    if (kb_lookup(c, key, len, tag, cred)) {
        rc = 0;
        goto out;
    }
    /* The salt stays the same for a name and password (for the process's
     * life, or the cluster's with a salt secret), even when the cache
     * starts over; keyed, it tells nothing of the password. */
    char *salt_in = malloc(len + 1 + pw_len);
    if (!salt_in)
        goto out;
    memcpy(salt_in, key, len);
    salt_in[len] = '\0';
    memcpy(salt_in + len + 1, pw, pw_len);
    if (kb_keyed(c, 's', salt_in, len + 1 + pw_len, digest) == 0 &&
        kb_scram_derive(mechanism, pw, pw_len, digest, cred) == 0) {
        /* Storing is an optimisation: a full or failing store still logs in. */
        (void)kb_store(c, key, len, tag, cred);
        rc = 0;
    }
    OPENSSL_cleanse(salt_in, len + 1 + pw_len);
    free(salt_in);
out:
    OPENSSL_cleanse(unknown, sizeof unknown);
    OPENSSL_cleanse(tag, sizeof tag);
    OPENSSL_cleanse(digest, sizeof digest);
    free(key);
    return rc;
}
