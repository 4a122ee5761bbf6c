/* SCRAM client (RFC 5802 section 3 and 7; RFC 7677 for SHA-256; Kafka's
 * SCRAM is the same exchange without channel binding, see KIP-84). */
#include "kc_scram.h"

#include "kc_net.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 64           /* SHA-512 */
#define NONCE_BYTES 18       /* 24 base64 characters, no padding */
#define SALT_MAX 256         /* longer salts are used, not kept */
#define KEYS_KEPT 16         /* per run: one per distinct salt */

/* What a password and a salt give, before any message is signed. */
typedef struct derived {
    unsigned char client_key[KEY_MAX];
    unsigned char server_key[KEY_MAX];
} derived;

typedef struct kept {
    const EVP_MD *md;
    long iterations;
    unsigned char salt[SALT_MAX];
    size_t salt_len;
    char *password;
    size_t password_len;
    enum { SLOT_EMPTY = 0, SLOT_DERIVING, SLOT_READY } state;
    derived keys;
} kept;

struct kc_scram_keys {
    pthread_mutex_t lock;
    pthread_cond_t derived;  /* an entry became ready or was given up */
    kept entries[KEYS_KEPT];
    unsigned long derivations;
};

enum step { ST_FIRST, ST_FINAL, ST_VERIFY, ST_DONE };

struct kc_scram {
    const EVP_MD *md;
    size_t key_len;
    char *user, *password;
    size_t password_len;
    kc_scram_keys *keys;
    enum step step;
    char *client_first_bare;
    char *auth_message;
    unsigned char server_signature[KEY_MAX];
    char *out;
};

/* ---------------------------------------------------------- key store */

kc_scram_keys *kc_scram_keys_new(void)
{
    kc_scram_keys *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    pthread_mutex_init(&k->lock, NULL);
    pthread_cond_init(&k->derived, NULL);
    return k;
}

static void forget(kept *e)
{
    if (e->password) {
        OPENSSL_cleanse(e->password, e->password_len);
        free(e->password);
    }
    OPENSSL_cleanse(e, sizeof *e);
}

void kc_scram_keys_free(kc_scram_keys *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < KEYS_KEPT; i++)
        forget(&k->entries[i]);
    pthread_cond_destroy(&k->derived);
    pthread_mutex_destroy(&k->lock);
    free(k);
}

unsigned long kc_scram_keys_derivations(kc_scram_keys *k)
{
    pthread_mutex_lock(&k->lock);
    unsigned long n = k->derivations;
    pthread_mutex_unlock(&k->lock);
    return n;
}

static bool same(const kept *e, const kc_scram *s, const unsigned char *salt, size_t salt_len,
                 long iterations)
{
    return e->state != SLOT_EMPTY && e->md == s->md && e->iterations == iterations &&
           e->salt_len == salt_len && e->password_len == s->password_len &&
           memcmp(e->salt, salt, salt_len) == 0 &&
           CRYPTO_memcmp(e->password, s->password, s->password_len) == 0;
}

static int derive(const kc_scram *s, const unsigned char *salt, size_t salt_len, long iterations,
                  derived *out)
{
    if (s->keys) {
        pthread_mutex_lock(&s->keys->lock);
        s->keys->derivations++;
        pthread_mutex_unlock(&s->keys->lock);
    }
    unsigned char salted[KEY_MAX];
    unsigned len = 0;
    int ok = PKCS5_PBKDF2_HMAC(s->password, (int)s->password_len, salt, (int)salt_len, (int)iterations,
                               s->md, (int)s->key_len, salted) == 1 &&
             HMAC(s->md, salted, (int)s->key_len, (const unsigned char *)"Client Key", 10,
                  out->client_key, &len) &&
             HMAC(s->md, salted, (int)s->key_len, (const unsigned char *)"Server Key", 10,
                  out->server_key, &len);
    OPENSSL_cleanse(salted, sizeof salted);
    return ok ? 0 : -1;
}

/* The keys for this salt: from the store when another session derived
 * them already (waiting if it is deriving them now), else derived here
 * and kept. */
static int keys_for(kc_scram *s, const unsigned char *salt, size_t salt_len, long iterations,
                    derived *out)
{
    kc_scram_keys *k = s->keys;
    if (!k || salt_len > SALT_MAX)
        return derive(s, salt, salt_len, iterations, out);
    pthread_mutex_lock(&k->lock);
    kept *e = NULL, *empty = NULL;
    for (;;) {
        e = empty = NULL;
        for (size_t i = 0; i < KEYS_KEPT && !e; i++) {
            if (same(&k->entries[i], s, salt, salt_len, iterations))
                e = &k->entries[i];
            else if (!empty && k->entries[i].state == SLOT_EMPTY)
                empty = &k->entries[i];
        }
        if (!e || e->state == SLOT_READY)
            break;
        pthread_cond_wait(&k->derived, &k->lock);
    }
    if (e) {
        *out = e->keys;
        pthread_mutex_unlock(&k->lock);
        return 0;
    }
    /* A slot stays this session's while it derives: others only wait. */
    char *pw = empty ? malloc(s->password_len ? s->password_len : 1) : NULL;
    if (pw) {
        e = empty;
        *e = (kept){.md = s->md, .iterations = iterations, .salt_len = salt_len, .password = pw,
                    .password_len = s->password_len, .state = SLOT_DERIVING};
        memcpy(e->salt, salt, salt_len);
        memcpy(pw, s->password, s->password_len);
    }
    pthread_mutex_unlock(&k->lock);
    int rc = derive(s, salt, salt_len, iterations, out);
    if (!e)
        return rc;
    pthread_mutex_lock(&k->lock);
    if (rc == 0) {
        e->keys = *out;
        e->state = SLOT_READY;
    } else {
        forget(e); /* empty again: a waiter derives for itself */
    }
    pthread_cond_broadcast(&k->derived);
    pthread_mutex_unlock(&k->lock);
    return rc;
}

/* ---------------------------------------------------------- messages */

static const EVP_MD *mechanism_md(const char *mechanism)
{
    if (strcmp(mechanism, "SCRAM-SHA-256") == 0)
        return EVP_sha256();
    if (strcmp(mechanism, "SCRAM-SHA-512") == 0)
        return EVP_sha512();
    return NULL;
}

kc_scram *kc_scram_new(const char *mechanism, const char *user, const char *password,
                       size_t password_len, kc_scram_keys *keys)
{
    const EVP_MD *md = mechanism_md(mechanism);
    if (!md)
        return NULL;
    kc_scram *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->md = md;
    s->key_len = (size_t)EVP_MD_get_size(md);
    s->keys = keys;
    s->password_len = password_len;
    if (!(s->user = strdup(user)) || !(s->password = malloc(password_len ? password_len : 1))) {
        kc_scram_free(s);
        return NULL;
    }
    memcpy(s->password, password, password_len);
    return s;
}

void kc_scram_free(kc_scram *s)
{
    if (!s)
        return;
    if (s->password) {
        OPENSSL_cleanse(s->password, s->password_len);
        free(s->password);
    }
    OPENSSL_cleanse(s->server_signature, sizeof s->server_signature);
    free(s->user);
    free(s->client_first_bare);
    free(s->auth_message);
    free(s->out);
    free(s);
}

/* Base64 of n bytes into a new string; NULL when out of memory. */
static char *b64(const unsigned char *in, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (out)
        EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    return out;
}

/* Decodes base64 text (len bytes) into out (size bytes): the byte count,
 * or -1 for bad base64 or too much of it. */
static long unb64(const char *in, size_t len, unsigned char *out, size_t size)
{
    if (len == 0 || len % 4 != 0 || len / 4 * 3 > size)
        return -1;
    int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
    if (n < 0)
        return -1;
    /* EVP_DecodeBlock counts padding as zero bytes. */
    n -= (in[len - 1] == '=') + (in[len - 2] == '=');
    return n;
}

/* The user as a SCRAM saslname: ',' and '=' escaped (RFC 5802 5.1). */
static char *saslname(const char *user)
{
    size_t n = 0;
    for (const char *p = user; *p; p++)
        n += (*p == ',' || *p == '=') ? 3 : 1;
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = user; *p; p++) {
        if (*p == ',' || *p == '=') {
            memcpy(o, *p == ',' ? "=2C" : "=3D", 3);
            o += 3;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

static int fail(char *err, size_t size, const char *what)
{
    kc_fmt(err, size, "SCRAM: %s", what);
    return -1;
}

int kc_scram_first(kc_scram *s, const char **out, size_t *out_len, char *err, size_t err_size)
{
    unsigned char raw[NONCE_BYTES];
    if (s->step != ST_FIRST)
        return fail(err, err_size, "the exchange has already started");
    if (RAND_bytes(raw, sizeof raw) != 1)
        return fail(err, err_size, "no random bytes for the nonce");
    char *nonce = b64(raw, sizeof raw), *name = saslname(s->user);
    size_t bare_len = (name ? strlen(name) : 0) + sizeof ",r=" + 4 * NONCE_BYTES / 3 + 2;
    if (nonce && name && (s->client_first_bare = malloc(bare_len)) &&
        (s->out = malloc(bare_len + 3))) {
        snprintf(s->client_first_bare, bare_len, "n=%s,r=%s", name, nonce);
        /* gs2 header "n,,": no channel binding, no authorization id. */
        snprintf(s->out, bare_len + 3, "n,,%s", s->client_first_bare);
    }
    free(nonce);
    free(name);
    if (!s->out)
        return fail(err, err_size, "out of memory");
    s->step = ST_FINAL;
    *out = s->out;
    *out_len = strlen(s->out);
    return 0;
}

/* The value of attribute name in message (len bytes), which must be the
 * attribute at *pos; *pos moves past it. */
static bool attribute(const char *msg, size_t len, size_t *pos, char name, const char **value,
                      size_t *value_len)
{
    if (*pos + 2 > len || msg[*pos] != name || msg[*pos + 1] != '=')
        return false;
    size_t start = *pos + 2, end = start;
    while (end < len && msg[end] != ',')
        end++;
    *value = msg + start;
    *value_len = end - start;
    *pos = end < len ? end + 1 : end;
    return true;
}

static bool printable_without_comma(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0x21 || v[i] > 0x7e || v[i] == ',')
            return false;
    return n > 0;
}

static int sign(const kc_scram *s, const unsigned char *key, const char *msg, unsigned char *mac)
{
    unsigned len = 0;
    return HMAC(s->md, key, (int)s->key_len, (const unsigned char *)msg, strlen(msg), mac, &len) ? 0
                                                                                                : -1;
}

int kc_scram_final(kc_scram *s, const char *in, size_t in_len, const char **out, size_t *out_len,
                   char *err, size_t err_size)
{
    if (s->step != ST_FINAL)
        return fail(err, err_size, "a server-first-message out of turn");
    size_t pos = 0, nonce_len, salt_b64_len, iter_len;
    const char *nonce, *salt_b64, *iter;
    if (in_len > 0 && in[0] == 'm')
        return fail(err, err_size, "the server asks for an extension this client does not know");
    if (!attribute(in, in_len, &pos, 'r', &nonce, &nonce_len) ||
        !attribute(in, in_len, &pos, 's', &salt_b64, &salt_b64_len) ||
        !attribute(in, in_len, &pos, 'i', &iter, &iter_len))
        return fail(err, err_size, "malformed server-first-message");
    const char *client_nonce = strstr(s->client_first_bare, ",r=") + 3;
    size_t cn_len = strlen(client_nonce);
    if (nonce_len <= cn_len || memcmp(nonce, client_nonce, cn_len) != 0 ||
        !printable_without_comma(nonce, nonce_len))
        return fail(err, err_size, "the server's nonce does not extend the client's");
    long iterations = 0;
    for (size_t i = 0; i < iter_len && iterations <= KC_SCRAM_MAX_ITERATIONS; i++) {
        if (iter[i] < '0' || iter[i] > '9')
            return fail(err, err_size, "malformed iteration count");
        iterations = iterations * 10 + (iter[i] - '0');
    }
    if (iter_len == 0 || iterations < KC_SCRAM_MIN_ITERATIONS || iterations > KC_SCRAM_MAX_ITERATIONS) {
        kc_fmt(err, err_size, "SCRAM: the server asks for %.*s iterations, outside Kafka's %d..%d",
               (int)(iter_len > 12 ? 12 : iter_len), iter, KC_SCRAM_MIN_ITERATIONS,
               KC_SCRAM_MAX_ITERATIONS);
        return -1;
    }
    unsigned char salt[1024];
    long salt_len = unb64(salt_b64, salt_b64_len, salt, sizeof salt);
    if (salt_len <= 0)
        return fail(err, err_size, "malformed salt");

    /* client-final-message-without-proof: "c=biws" is base64("n,,"). */
    size_t wp_len = sizeof "c=biws,r=" + nonce_len;
    size_t am_len = strlen(s->client_first_bare) + 1 + in_len + 1 + wp_len;
    char *without_proof = malloc(wp_len);
    s->auth_message = malloc(am_len);
    if (!without_proof || !s->auth_message) {
        free(without_proof);
        return fail(err, err_size, "out of memory");
    }
    snprintf(without_proof, wp_len, "c=biws,r=%.*s", (int)nonce_len, nonce);
    snprintf(s->auth_message, am_len, "%s,%.*s,%s", s->client_first_bare, (int)in_len, in,
             without_proof);

    derived keys;
    unsigned char stored_key[KEY_MAX], signature[KEY_MAX], proof[KEY_MAX];
    int rc = keys_for(s, salt, (size_t)salt_len, iterations, &keys);
    if (rc == 0)
        rc = EVP_Digest(keys.client_key, s->key_len, stored_key, NULL, s->md, NULL) == 1 ? 0 : -1;
    if (rc == 0)
        rc = sign(s, stored_key, s->auth_message, signature);
    if (rc == 0)
        rc = sign(s, keys.server_key, s->auth_message, s->server_signature);
    char *proof_b64 = NULL;
    if (rc == 0) {
        for (size_t i = 0; i < s->key_len; i++)
            proof[i] = keys.client_key[i] ^ signature[i];
        proof_b64 = b64(proof, s->key_len);
    }
    OPENSSL_cleanse(&keys, sizeof keys);
    OPENSSL_cleanse(stored_key, sizeof stored_key);
    OPENSSL_cleanse(proof, sizeof proof);
    size_t final_len = wp_len + sizeof ",p=" + (proof_b64 ? strlen(proof_b64) : 0);
    free(s->out);
    s->out = proof_b64 ? malloc(final_len) : NULL;
    if (s->out)
        snprintf(s->out, final_len, "%s,p=%s", without_proof, proof_b64);
    free(without_proof);
    free(proof_b64);
    if (!s->out)
        return fail(err, err_size, rc == 0 ? "out of memory" : "key derivation failed in OpenSSL");
    s->step = ST_VERIFY;
    *out = s->out;
    *out_len = strlen(s->out);
    return 0;
}

bool kc_scram_done_sending(const kc_scram *s)
{
    return s->step == ST_VERIFY || s->step == ST_DONE;
}

int kc_scram_verify(kc_scram *s, const char *in, size_t in_len, char *err, size_t err_size)
{
    if (s->step != ST_VERIFY)
        return fail(err, err_size, "a server-final-message out of turn");
    s->step = ST_DONE;
    size_t pos = 0, len;
    const char *v;
    if (attribute(in, in_len, &pos, 'e', &v, &len)) {
        kc_fmt(err, err_size, "SCRAM: the server refused: %.*s", (int)(len > 200 ? 200 : len), v);
        return -1;
    }
    unsigned char signature[KEY_MAX + 3];
    long n = attribute(in, in_len, &pos, 'v', &v, &len) ? unb64(v, len, signature, sizeof signature) : -1;
    if (n != (long)s->key_len || CRYPTO_memcmp(signature, s->server_signature, s->key_len) != 0)
        return fail(err, err_size, "the server's signature is wrong: it does not know this user's "
                                   "credential");
    return 0;
}
