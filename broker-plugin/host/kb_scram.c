/*
 * kb_scram.c: SCRAM-SHA-256/512 server exchanges (RFC 5802, RFC 7677).
 *
 *   client-first   gs2-header client-first-message-bare
 *                  gs2-header = ("n" / "y") "," ["a=" saslname] ","
 *                  bare       = "n=" saslname ",r=" c-nonce
 *   server-first   "r=" c-nonce s-nonce ",s=" base64(salt) ",i=" 4096
 *   client-final   "c=" base64(gs2-header) ",r=" nonce ",p=" base64(ClientProof)
 *   server-final   "v=" base64(ServerSignature)
 *
 * What we refuse that RFC 5802 allows: channel binding ("p=" flag: we
 * offer no -PLUS mechanism, so a client asking for it is confused), the
 * reserved "m=" attribute (RFC 5802 5.1 says it must fail), and
 * extensions. Kafka's only extension is "tokenauth" (KIP-48 delegation
 * tokens, which this broker does not have), and a client that sent it
 * would otherwise be checked against the password of a user named like
 * its token id.
 *
 * What we accept that RFC 5802 does not: a client-final nonce that merely
 * ends with the server-first nonce. librdkafka (through at least 2.0.2)
 * sends its own client nonce followed by the whole server-first nonce,
 * which already starts with that client nonce, so the client nonce
 * appears twice. Apache Kafka's ScramSaslServer only checks
 * clientFinalMessage.nonce().endsWith(serverFirstMessage.nonce()), so
 * every Kafka deployment accepts it, and Cyrus libsasl2's exact
 * comparison is why SCRAM is implemented here rather than by libsasl2's
 * plugin. The nonce still has to carry the whole server nonce, so a
 * replayed client-final of another exchange is still refused, and the
 * proof is computed over the message exactly as the client sent it.
 *
 * Salt and keys come from the caller (kb_scram_cache.c): like a Kafka
 * broker, which stores each user's salt and keys, we derive them once per
 * password rather than at every login. A user that does not exist gets a
 * credential made the same way from a password nobody knows, so that
 * neither the server-first message nor its timing tells which user names
 * exist.
 *
 * User names are not SASLprep'ed, nor are passwords: Kafka's ScramFormatter
 * and librdkafka use the bytes as given, and the sasldb holds what
 * saslpasswd2 was given.
 */
#include "kb_scram.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

/* 24 random bytes give a 32-character server nonce, as long as the client
 * nonce librdkafka sends. */
#define KB_SCRAM_NONCE_BYTES 24
/* Base64 text of n bytes, without the NUL EVP_EncodeBlock adds. */
#define KB_B64_LEN(n) ((((n) + 2) / 3) * 4)

enum kb_scram_state { KB_SCRAM_FRESH, KB_SCRAM_PARSED, KB_SCRAM_AWAIT_FINAL, KB_SCRAM_FINISHED };

struct kb_scram {
    const char *mech;
    const EVP_MD *md;
    size_t hlen;
    enum kb_scram_state state;
    char *user;
    char *client_first; /* the client-first-message as received */
    size_t client_first_len;
    size_t bare_off;  /* gs2-header length: client-first-message-bare starts here */
    size_t cnonce_off; /* c-nonce within client_first */
    size_t cnonce_len;
    char *server_first;
    size_t server_first_len;
    size_t nonce_len; /* c-nonce s-nonce, at server_first + 2 */
    char *server_final;
    size_t server_final_len;
    bool known; /* false: keys from a random password, no proof matches */
    kb_scram_cred cred;
};

typedef struct kb_span {
    const char *p;
    size_t len;
} kb_span;

/* A message's comma-separated attributes, in order. */
typedef struct kb_fields {
    const char *p, *end;
    bool done;
} kb_fields;

static int kb_scram_err(char *errstr, size_t size, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int kb_scram_err(char *errstr, size_t size, int code, const char *fmt, ...)
{
    va_list ap;

    if (errstr && size) {
        va_start(ap, fmt);
        vsnprintf(errstr, size, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* RFC 5802's messages are fixed in their order, so one misplaced or missing
 * attribute is named by what was expected at its place. */
#define KB_BADPROT(s, msg, errstr, size, why)                                                     \
    kb_scram_err(errstr, size, KB_SCRAM_BADPROT, "invalid SASL/%s %s: %s", (s)->mech, msg, why)

static bool kb_next(kb_fields *fs, kb_span *f)
{
    const char *comma;

    if (fs->done)
        return false;
    comma = memchr(fs->p, ',', (size_t)(fs->end - fs->p));
    f->p = fs->p;
    f->len = (size_t)((comma ? comma : fs->end) - fs->p);
    if (comma)
        fs->p = comma + 1;
    else
        fs->done = true;
    return true;
}

/* True when f is "<name>=..."; value is what follows the '='. */
static bool kb_attr(const kb_span *f, char name, kb_span *value)
{
    if (f->len < 2 || f->p[0] != name || f->p[1] != '=')
        return false;
    value->p = f->p + 2;
    value->len = f->len - 2;
    return true;
}

/* RFC 5802 "printable": %x21-7E except ','; at least one. */
static bool kb_printable(const kb_span *v)
{
    if (v->len == 0)
        return false;
    for (size_t i = 0; i < v->len; i++)
        if (v->p[i] < 0x21 || v->p[i] > 0x7e || v->p[i] == ',')
            return false;
    return true;
}

/* RFC 5802 saslname: '=' and ',' travel as =3D and =2C, and '=' means
 * nothing else. Returns 0 with *out (malloc'd), -1 when invalid, -2 when
 * out of memory. */
static int kb_unescape(const kb_span *v, char **out)
{
    char *name;
    size_t n = 0;

    if (v->len == 0)
        return -1;
    name = malloc(v->len + 1);
    if (!name)
        return -2;
    for (size_t i = 0; i < v->len; i++) {
        if (v->p[i] != '=') {
            name[n++] = v->p[i];
        } else if (v->len - i >= 3 && memcmp(v->p + i, "=2C", 3) == 0) {
            name[n++] = ',';
            i += 2;
        } else if (v->len - i >= 3 && memcmp(v->p + i, "=3D", 3) == 0) {
            name[n++] = '=';
            i += 2;
        } else {
            free(name);
            return -1;
        }
    }
    name[n] = '\0';
    *out = name;
    return 0;
}

static int kb_b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict RFC 4648 base64: padded, no white space, no stray bits (OpenSSL's
 * decoders skip white space and do not report padding). Returns the number
 * of bytes written to out, or -1 when invalid or longer than out_size. */
static long kb_b64_decode(const kb_span *in, unsigned char *out, size_t out_size)
{
    size_t n = 0;

    if (in->len % 4)
        return -1;
    for (size_t i = 0; i < in->len; i += 4) {
        unsigned long w = 0;
        size_t pad = 0, bytes;
        for (size_t k = 0; k < 4; k++) {
            int v = 0;
            if (in->p[i + k] == '=') {
                if (i + 4 != in->len || k < 2)
                    return -1;
                pad++;
            } else if (pad || (v = kb_b64_value(in->p[i + k])) < 0) {
                return -1;
            }
            w = (w << 6) | (unsigned long)v;
        }
        if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
            return -1;
        bytes = 3 - pad;
        if (out_size - n < bytes)
            return -1;
        for (size_t k = 0; k < bytes; k++)
            out[n++] = (unsigned char)(w >> (16 - 8 * k));
    }
    return (long)n;
}

/* Writes base64 of len bytes and a NUL at out (KB_B64_LEN(len) + 1 bytes). */
static void kb_b64_encode(const unsigned char *in, size_t len, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

/* The hash of a SCRAM mechanism; NULL for any other name. */
static const EVP_MD *kb_scram_md(const char *mechanism, const char **name)
{
    static const struct {
        const char *name;
        const EVP_MD *(*md)(void);
    } hashes[] = {{"SCRAM-SHA-256", EVP_sha256}, {"SCRAM-SHA-512", EVP_sha512}};

    for (size_t i = 0; mechanism && i < sizeof hashes / sizeof hashes[0]; i++) {
        if (strcmp(mechanism, hashes[i].name) == 0) {
            *name = hashes[i].name;
            return hashes[i].md();
        }
    }
    return NULL;
}

kb_scram *kb_scram_new(const char *mechanism)
{
    const char *name;
    const EVP_MD *md = kb_scram_md(mechanism, &name);
    kb_scram *s = md ? calloc(1, sizeof *s) : NULL;

    if (!s)
        return NULL;
    s->mech = name;
    s->md = md;
    s->hlen = (size_t)EVP_MD_get_size(md);
    return s;
}

void kb_scram_free(kb_scram *s)
{
    if (!s)
        return;
    free(s->user);
    free(s->client_first);
    free(s->server_first);
    free(s->server_final);
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
}

const char *kb_scram_user(const kb_scram *s)
{
    return s->user;
}

/* gs2-header: "n" or "y", then an optional authzid; sets *authzid (NULL
 * when absent) and s->bare_off. */
static int kb_parse_gs2(kb_scram *s, kb_fields *fs, char **authzid, char *errstr, size_t size)
{
    static const char msg[] = "client-first-message";
    kb_span f, v;
    int rc;

    if (!kb_next(fs, &f) || f.len == 0)
        return KB_BADPROT(s, msg, errstr, size, "missing gs2 header");
    if (f.len >= 2 && f.p[0] == 'p' && f.p[1] == '=')
        return KB_BADPROT(s, msg, errstr, size,
                          "channel binding (p=) is not supported: no -PLUS mechanism is offered");
    if (f.len != 1 || (f.p[0] != 'n' && f.p[0] != 'y'))
        return KB_BADPROT(s, msg, errstr, size, "gs2 header must start with n or y");
    if (!kb_next(fs, &f) || fs->done)
        return KB_BADPROT(s, msg, errstr, size, "incomplete gs2 header");
    *authzid = NULL;
    if (f.len > 0) {
        if (!kb_attr(&f, 'a', &v))
            return KB_BADPROT(s, msg, errstr, size, "expected a= (authorization id) or nothing");
        rc = kb_unescape(&v, authzid);
        if (rc == -2)
            return kb_scram_err(errstr, size, KB_SCRAM_ERROR, "out of memory");
        if (rc != 0)
            return KB_BADPROT(s, msg, errstr, size,
                              "invalid authorization id a= (empty, or '=' not as =2C or =3D)");
    }
    s->bare_off = (size_t)(fs->p - s->client_first);
    return KB_SCRAM_OK;
}

/* client-first-message-bare: "n=" saslname ",r=" c-nonce, nothing more. */
static int kb_parse_bare(kb_scram *s, kb_fields *fs, char *errstr, size_t size)
{
    static const char msg[] = "client-first-message";
    kb_span f, v;
    int rc;

    if (!kb_next(fs, &f))
        return KB_BADPROT(s, msg, errstr, size, "missing n= (user name)");
    if (kb_attr(&f, 'm', &v))
        return KB_BADPROT(s, msg, errstr, size, "mandatory extension m= is not supported");
    if (!kb_attr(&f, 'n', &v))
        return KB_BADPROT(s, msg, errstr, size, "expected n= (user name)");
    rc = kb_unescape(&v, &s->user);
    if (rc == -2)
        return kb_scram_err(errstr, size, KB_SCRAM_ERROR, "out of memory");
    if (rc != 0)
        return KB_BADPROT(s, msg, errstr, size,
                          "invalid user name n= (empty, or '=' not as =2C or =3D)");
    if (!kb_next(fs, &f) || !kb_attr(&f, 'r', &v))
        return KB_BADPROT(s, msg, errstr, size, "expected r= (client nonce) after n=");
    if (!kb_printable(&v))
        return KB_BADPROT(s, msg, errstr, size,
                          "client nonce r= must be printable ASCII without ','");
    s->cnonce_off = (size_t)(v.p - s->client_first);
    s->cnonce_len = v.len;
    if (kb_next(fs, &f))
        return KB_BADPROT(s, msg, errstr, size, "SCRAM extensions are not supported");
    return KB_SCRAM_OK;
}

int kb_scram_client_first(kb_scram *s, const uint8_t *in, size_t len, char *errstr,
                          size_t errstr_size)
{
    kb_fields fs;
    char *authzid = NULL;
    int rc;

    if (s->state != KB_SCRAM_FRESH)
        return kb_scram_err(errstr, errstr_size, KB_SCRAM_ERROR,
                            "SASL/%s client-first-message out of order", s->mech);
    s->state = KB_SCRAM_FINISHED; /* until it parses */
    if (memchr(in, '\0', len))
        return KB_BADPROT(s, "client-first-message", errstr, errstr_size, "NUL byte");
    s->client_first = malloc(len + 1);
    if (!s->client_first)
        return kb_scram_err(errstr, errstr_size, KB_SCRAM_ERROR, "out of memory");
    memcpy(s->client_first, in, len);
    s->client_first[len] = '\0';
    s->client_first_len = len;
    fs = (kb_fields){s->client_first, s->client_first + len, false};
    rc = kb_parse_gs2(s, &fs, &authzid, errstr, errstr_size);
    if (rc == KB_SCRAM_OK)
        rc = kb_parse_bare(s, &fs, errstr, errstr_size);
    /* Kafka's ScramSaslServer: no acting as another user. */
    if (rc == KB_SCRAM_OK && authzid && strcmp(authzid, s->user) != 0)
        rc = kb_scram_err(errstr, errstr_size, KB_SCRAM_NOAUTHZ,
                          "the authorization id must be empty or equal to the user name");
    free(authzid);
    if (rc == KB_SCRAM_OK)
        s->state = KB_SCRAM_PARSED;
    return rc;
}

static bool kb_hmac(const kb_scram *s, const unsigned char *key, const void *data, size_t len,
                    unsigned char *out)
{
    unsigned int olen = 0;

    return HMAC(s->md, key, (int)s->hlen, data, len, out, &olen) && olen == s->hlen;
}

static bool kb_hash(const kb_scram *s, const unsigned char *in, unsigned char *out)
{
    unsigned int olen = 0;

    return EVP_Digest(in, s->hlen, out, &olen, s->md, NULL) == 1 && olen == s->hlen;
}

/* SaltedPassword := Hi(password, salt, i) (PBKDF2 with HMAC-H)
 * ClientKey := HMAC(SaltedPassword, "Client Key"), StoredKey := H(ClientKey)
 * ServerKey := HMAC(SaltedPassword, "Server Key")
 * Only StoredKey and ServerKey outlive this call. */
int kb_scram_derive(const char *mechanism, const char *password, size_t password_len,
                    const unsigned char salt[KB_SCRAM_SALT_BYTES], kb_scram_cred *out)
{
    kb_scram s = {0};
    unsigned char salted[EVP_MAX_MD_SIZE], client_key[EVP_MAX_MD_SIZE];

    if (!(s.md = kb_scram_md(mechanism, &s.mech)))
        return -1;
    s.hlen = (size_t)EVP_MD_get_size(s.md);
    memcpy(out->salt, salt, KB_SCRAM_SALT_BYTES);
    bool ok = password_len <= INT_MAX && s.hlen <= KB_SCRAM_KEY_MAX &&
              PKCS5_PBKDF2_HMAC(password, (int)password_len, salt, KB_SCRAM_SALT_BYTES,
                                KB_SCRAM_ITERATIONS, s.md, (int)s.hlen, salted) == 1 &&
              kb_hmac(&s, salted, "Client Key", 10, client_key) &&
              kb_hash(&s, client_key, out->stored_key) &&
              kb_hmac(&s, salted, "Server Key", 10, out->server_key);

    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(client_key, sizeof client_key);
    return ok ? 0 : -1;
}

int kb_scram_server_first(kb_scram *s, const kb_scram_cred *cred, bool known,
                          const uint8_t **out, size_t *out_len, char *errstr, size_t errstr_size)
{
    unsigned char snonce[KB_SCRAM_NONCE_BYTES];
    char salt64[KB_B64_LEN(KB_SCRAM_SALT_BYTES) + 1], snonce64[KB_B64_LEN(sizeof snonce) + 1];
    size_t cap;
    int n;

    *out = NULL;
    *out_len = 0;
    if (s->state != KB_SCRAM_PARSED)
        return kb_scram_err(errstr, errstr_size, KB_SCRAM_ERROR,
                            "SASL/%s server-first-message out of order", s->mech);
    s->state = KB_SCRAM_FINISHED; /* until it is sent */
    if (RAND_bytes(snonce, sizeof snonce) != 1)
        return kb_scram_err(errstr, errstr_size, KB_SCRAM_ERROR,
                            "SASL/%s: no random bytes from OpenSSL", s->mech);
    s->known = known;
    s->cred = *cred;
    kb_b64_encode(s->cred.salt, sizeof s->cred.salt, salt64);
    kb_b64_encode(snonce, sizeof snonce, snonce64);
    cap = s->cnonce_len + sizeof snonce64 + sizeof salt64 + 32;
    s->server_first = malloc(cap);
    if (!s->server_first)
        return kb_scram_err(errstr, errstr_size, KB_SCRAM_ERROR, "out of memory");
    n = snprintf(s->server_first, cap, "r=%.*s%s,s=%s,i=%d", (int)s->cnonce_len,
                 s->client_first + s->cnonce_off, snonce64, salt64, KB_SCRAM_ITERATIONS);
    if (n < 0 || (size_t)n >= cap)
        return kb_scram_err(errstr, errstr_size, KB_SCRAM_ERROR, "server-first-message too long");
    s->server_first_len = (size_t)n;
    s->nonce_len = s->cnonce_len + strlen(snonce64);
    s->state = KB_SCRAM_AWAIT_FINAL;
    *out = (const uint8_t *)s->server_first;
    *out_len = s->server_first_len;
    return KB_SCRAM_OK;
}

/* The parts of a client-final-message the proof check needs. */
typedef struct kb_final {
    size_t without_proof_len; /* client-final-message-without-proof */
    unsigned char proof[EVP_MAX_MD_SIZE];
} kb_final;

/* Without channel binding, c= carries the gs2 header the client sent,
 * byte for byte ("biws" for "n,,"). */
static int kb_check_cbind(const kb_scram *s, const kb_span *v, char *errstr, size_t size)
{
    static const char msg[] = "client-final-message";
    unsigned char *cbind = malloc(v->len / 4 * 3 + 1);
    long n;
    bool same;

    if (!cbind)
        return kb_scram_err(errstr, size, KB_SCRAM_ERROR, "out of memory");
    n = kb_b64_decode(v, cbind, v->len / 4 * 3 + 1);
    same = n >= 0 && (size_t)n == s->bare_off && memcmp(cbind, s->client_first, s->bare_off) == 0;
    free(cbind);
    if (n < 0)
        return KB_BADPROT(s, msg, errstr, size, "channel binding c= is not valid base64");
    if (!same)
        return KB_BADPROT(s, msg, errstr, size,
                          "channel binding c= does not match the client-first gs2 header");
    return KB_SCRAM_OK;
}

/* "c=" base64(gs2-header) ",r=" nonce ",p=" base64(ClientProof). */
static int kb_parse_final(kb_scram *s, const char *in, size_t len, kb_final *fin, char *errstr,
                          size_t size)
{
    static const char msg[] = "client-final-message";
    kb_fields fs = {in, in + len, false};
    const char *nonce;
    kb_span f, v;
    long n;
    int rc;

    if (!kb_next(&fs, &f) || !kb_attr(&f, 'c', &v))
        return KB_BADPROT(s, msg, errstr, size, "expected c= (channel binding) first");
    rc = kb_check_cbind(s, &v, errstr, size);
    if (rc != KB_SCRAM_OK)
        return rc;
    if (!kb_next(&fs, &f) || !kb_attr(&f, 'r', &v))
        return KB_BADPROT(s, msg, errstr, size, "expected r= (nonce) after c=");
    if (!kb_printable(&v))
        return KB_BADPROT(s, msg, errstr, size, "nonce r= must be printable ASCII without ','");
    /* Kafka's leniency, see the top of this file. */
    nonce = s->server_first + 2;
    if (v.len < s->nonce_len || memcmp(v.p + v.len - s->nonce_len, nonce, s->nonce_len) != 0)
        return KB_BADPROT(s, msg, errstr, size,
                          "nonce r= does not end with the server-first-message nonce");
    if (!kb_next(&fs, &f))
        return KB_BADPROT(s, msg, errstr, size, "missing p= (client proof)");
    fin->without_proof_len = (size_t)(f.p - 1 - in);
    if (!kb_attr(&f, 'p', &v))
        return KB_BADPROT(s, msg, errstr, size,
                          f.len >= 2 && f.p[1] == '=' ? "SCRAM extensions are not supported"
                                                      : "expected p= (client proof) after r=");
    if (kb_next(&fs, &f))
        return KB_BADPROT(s, msg, errstr, size, "p= (client proof) must come last");
    if (v.len > KB_B64_LEN(s->hlen))
        return kb_scram_err(errstr, size, KB_SCRAM_BADPROT,
                            "invalid SASL/%s %s: client proof p= has more than %zu bytes",
                            s->mech, msg, s->hlen);
    n = kb_b64_decode(&v, fin->proof, sizeof fin->proof);
    if (n < 0)
        return KB_BADPROT(s, msg, errstr, size, "client proof p= is not valid base64");
    if ((size_t)n != s->hlen)
        return kb_scram_err(errstr, size, KB_SCRAM_BADPROT,
                            "invalid SASL/%s %s: client proof p= has %ld bytes, not %zu", s->mech,
                            msg, n, s->hlen);
    return KB_SCRAM_OK;
}

/* AuthMessage := client-first-message-bare "," server-first-message ","
 *                client-final-message-without-proof */
static char *kb_auth_message(const kb_scram *s, const char *final, size_t final_len,
                             size_t *len)
{
    size_t bare_len = s->client_first_len - s->bare_off;
    size_t total = bare_len + 1 + s->server_first_len + 1 + final_len;
    char *m = malloc(total);

    if (!m)
        return NULL;
    memcpy(m, s->client_first + s->bare_off, bare_len);
    m[bare_len] = ',';
    memcpy(m + bare_len + 1, s->server_first, s->server_first_len);
    m[bare_len + 1 + s->server_first_len] = ',';
    memcpy(m + bare_len + 2 + s->server_first_len, final, final_len);
    *len = total;
    return m;
}

/* ClientKey := ClientProof XOR HMAC(StoredKey, AuthMessage); the client
 * knew the password when H(ClientKey) is StoredKey. On success writes
 * server-final "v=" base64(HMAC(ServerKey, AuthMessage)). */
static int kb_verify(kb_scram *s, const char *auth, size_t auth_len, const kb_final *fin,
                     char *errstr, size_t size)
{
    unsigned char sig[EVP_MAX_MD_SIZE], key[EVP_MAX_MD_SIZE], stored[EVP_MAX_MD_SIZE];
    bool crypto_ok, match;
    int rc = KB_SCRAM_OK;

    crypto_ok = kb_hmac(s, s->cred.stored_key, auth, auth_len, sig);
    for (size_t i = 0; i < s->hlen; i++)
        key[i] = fin->proof[i] ^ sig[i];
    crypto_ok = crypto_ok && kb_hash(s, key, stored);
    match = crypto_ok && CRYPTO_memcmp(stored, s->cred.stored_key, s->hlen) == 0;
    if (!crypto_ok)
        rc = kb_scram_err(errstr, size, KB_SCRAM_ERROR, "SASL/%s: HMAC failed in OpenSSL",
                          s->mech);
    else if (!s->known)
        rc = kb_scram_err(errstr, size, KB_SCRAM_BADAUTH, "no such user");
    else if (!match)
        rc = kb_scram_err(errstr, size, KB_SCRAM_BADAUTH,
                          "client proof does not match the stored password");
    else if (!kb_hmac(s, s->cred.server_key, auth, auth_len, sig))
        rc = kb_scram_err(errstr, size, KB_SCRAM_ERROR, "SASL/%s: HMAC failed in OpenSSL",
                          s->mech);
    if (rc == KB_SCRAM_OK) {
        s->server_final_len = 2 + KB_B64_LEN(s->hlen);
        s->server_final = malloc(s->server_final_len + 1);
        if (!s->server_final) {
            rc = kb_scram_err(errstr, size, KB_SCRAM_ERROR, "out of memory");
        } else {
            memcpy(s->server_final, "v=", 2);
            kb_b64_encode(sig, s->hlen, s->server_final + 2);
        }
    }
    OPENSSL_cleanse(sig, sizeof sig);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(stored, sizeof stored);
    return rc;
}

int kb_scram_client_final(kb_scram *s, const uint8_t *in, size_t len, const uint8_t **out,
                          size_t *out_len, char *errstr, size_t errstr_size)
{
    kb_final fin;
    char *auth;
    size_t auth_len = 0;
    int rc;

    *out = NULL;
    *out_len = 0;
    if (s->state != KB_SCRAM_AWAIT_FINAL)
        return kb_scram_err(errstr, errstr_size, KB_SCRAM_ERROR,
                            "SASL/%s client-final-message out of order", s->mech);
    s->state = KB_SCRAM_FINISHED;
    if (memchr(in, '\0', len))
        rc = KB_BADPROT(s, "client-final-message", errstr, errstr_size, "NUL byte");
    else
        rc = kb_parse_final(s, (const char *)in, len, &fin, errstr, errstr_size);
    if (rc == KB_SCRAM_OK) {
        auth = kb_auth_message(s, (const char *)in, fin.without_proof_len, &auth_len);
        if (!auth)
            rc = kb_scram_err(errstr, errstr_size, KB_SCRAM_ERROR, "out of memory");
        else
            rc = kb_verify(s, auth, auth_len, &fin, errstr, errstr_size);
        free(auth);
    }
    /* One client-final per exchange: the keys are of no further use. */
    OPENSSL_cleanse(s->cred.stored_key, sizeof s->cred.stored_key);
    OPENSSL_cleanse(s->cred.server_key, sizeof s->cred.server_key);
    OPENSSL_cleanse(&fin, sizeof fin);
    if (rc == KB_SCRAM_OK) {
        *out = (const uint8_t *)s->server_final;
        *out_len = s->server_final_len;
    }
    return rc;
}
