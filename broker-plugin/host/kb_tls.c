/*
 * kb_tls.c: TLS for the reference broker through OpenSSL 3. One SSL_CTX per
 * TLS listener, one non-blocking SSL per accepted socket, and the client
 * certificate's names printed the way Kafka's SSL principal prints them.
 */
#include "kb_tls.h"

#include "kb_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

struct kb_tls_ctx {
    SSL_CTX *ssl_ctx;
};

struct kb_tls {
    SSL *ssl;
    bool failed; /* a fatal error happened: OpenSSL forbids SSL_shutdown then */
};

/* ---- errors ---------------------------------------------------------- */

/* OpenSSL's error queue is per thread and a thread serves many connections:
 * every operation starts from an empty queue and leaves it empty, so that a
 * reason recorded for one connection is never reported for another (and
 * SSL_get_error() never sees a stale entry). */

static void put_err(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void vput_err(char *errstr, size_t errstr_size, const char *fmt, va_list ap)
{
    if (errstr != NULL && errstr_size > 0)
        vsnprintf(errstr, errstr_size, fmt, ap);
}

static void put_err(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vput_err(errstr, errstr_size, fmt, ap);
    va_end(ap);
}

/* The oldest queued error is the root cause (e.g. fopen's ENOENT under
 * "PEM lib"); takes it, with the detail OpenSSL attached to it (e.g. "No
 * supported data to decode"), and empties the queue. */
static void take_openssl_reason(char *buf, size_t size)
{
    const char *data = NULL;
    int flags = 0;
    unsigned long e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags);
    if (e == 0) {
        snprintf(buf, size, "no reason given by OpenSSL");
    } else {
        ERR_error_string_n(e, buf, size);
        /* A system error's detail only repeats the file name. */
        size_t n = strlen(buf);
        if ((flags & ERR_TXT_STRING) && data != NULL && data[0] != '\0' && ERR_GET_LIB(e) != ERR_LIB_SYS &&
            n + 1 < size)
            snprintf(buf + n, size - n, " (%s)", data);
    }
    ERR_clear_error();
}

/* put_err's message followed by ": " and the reason OpenSSL queued, which
 * is taken (so the queue is left empty) even when there is no errstr. */
static void put_openssl_err(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void put_openssl_err(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    char reason[256];
    take_openssl_reason(reason, sizeof reason);
    va_list ap;
    va_start(ap, fmt);
    vput_err(errstr, errstr_size, fmt, ap);
    va_end(ap);
    if (errstr != NULL && errstr_size > 0) {
        size_t n = strlen(errstr);
        put_err(errstr + n, errstr_size - n, ": %s", reason);
    }
}

static unsigned long first_reason(void)
{
    return ERR_GET_REASON(ERR_peek_error());
}

/* ---- context ------------------------------------------------------------ */

struct key_password {
    const char *password; /* ssl.key.password, may be NULL */
    bool asked;           /* the key turned out to be encrypted */
};

/* Never let OpenSSL fall back to prompting on the terminal: a broker has
 * none, and a missing ssl.key.password must be an error. */
static int key_password_cb(char *buf, int size, int rwflag, void *userdata)
{
    (void)rwflag;
    struct key_password *kp = userdata;
    kp->asked = true;
    if (kp->password == NULL)
        return -1;
    size_t n = strlen(kp->password);
    if (n > (size_t)size)
        return -1;
    memcpy(buf, kp->password, n);
    return (int)n;
}

static int load_keystore(SSL_CTX *c, const char *keystore, const char *key_password, char *errstr,
                         size_t errstr_size)
{
    if (SSL_CTX_use_certificate_chain_file(c, keystore) != 1) {
        put_openssl_err(errstr, errstr_size, "ssl.keystore.location %s: cannot read the certificate chain",
                        keystore);
        return -1;
    }
    struct key_password kp = {key_password, false};
    SSL_CTX_set_default_passwd_cb(c, key_password_cb);
    SSL_CTX_set_default_passwd_cb_userdata(c, &kp);
    int ok = SSL_CTX_use_PrivateKey_file(c, keystore, SSL_FILETYPE_PEM) == 1;
    /* kp lives on this stack frame: unhook it before returning. */
    SSL_CTX_set_default_passwd_cb(c, NULL);
    SSL_CTX_set_default_passwd_cb_userdata(c, NULL);
    if (ok && SSL_CTX_check_private_key(c) == 1)
        return 0;

    bool mismatch = first_reason() == X509_R_KEY_VALUES_MISMATCH;
    char reason[256];
    take_openssl_reason(reason, sizeof reason);
    if (ok || mismatch)
        put_err(errstr, errstr_size,
                "ssl.keystore.location %s: the private key does not match the certificate: %s",
                keystore, reason);
    else if (kp.asked && key_password == NULL)
        put_err(errstr, errstr_size,
                "ssl.keystore.location %s: the private key is encrypted and ssl.key.password is not set",
                keystore);
    else if (kp.asked)
        put_err(errstr, errstr_size,
                "ssl.keystore.location %s: cannot decrypt the private key (wrong ssl.key.password?): %s",
                keystore, reason);
    else
        put_err(errstr, errstr_size, "ssl.keystore.location %s: cannot read the private key: %s",
                keystore, reason);
    return -1;
}

static int load_truststore(SSL_CTX *c, const char *truststore, char *errstr, size_t errstr_size)
{
    if (SSL_CTX_load_verify_file(c, truststore) != 1) {
        put_openssl_err(errstr, errstr_size, "ssl.truststore.location %s: cannot read the CA certificates",
                        truststore);
        return -1;
    }
    /* The CertificateRequest lists these CAs so that a client holding
     * several certificates picks one we accept, as Java brokers do. */
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(truststore);
    if (names == NULL) {
        put_openssl_err(errstr, errstr_size, "ssl.truststore.location %s: no CA certificate in it",
                        truststore);
        return -1;
    }
    SSL_CTX_set_client_CA_list(c, names);
    return 0;
}

static int set_client_auth(SSL_CTX *c, const char *truststore, int client_auth, char *errstr,
                           size_t errstr_size)
{
    int mode;
    switch (client_auth) {
    case KB_CLIENT_AUTH_NONE:
        mode = SSL_VERIFY_NONE;
        break;
    case KB_CLIENT_AUTH_REQUESTED:
        mode = SSL_VERIFY_PEER;
        break;
    case KB_CLIENT_AUTH_REQUIRED:
        mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        break;
    default:
        put_err(errstr, errstr_size, "ssl.client.auth: unknown value %d", client_auth);
        return -1;
    }
    if (mode != SSL_VERIFY_NONE && truststore == NULL) {
        put_err(errstr, errstr_size, "ssl.client.auth=%s needs ssl.truststore.location",
                client_auth == KB_CLIENT_AUTH_REQUIRED ? "required" : "requested");
        return -1;
    }
    SSL_CTX_set_verify(c, mode, NULL);
    return 0;
}

kb_tls_ctx *kb_tls_ctx_new(const char *keystore, const char *key_password, const char *truststore,
                           int client_auth, char *errstr, size_t errstr_size)
{
    if (keystore == NULL) {
        put_err(errstr, errstr_size, "ssl.keystore.location is not set");
        return NULL;
    }
    ERR_clear_error();
    kb_tls_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        put_err(errstr, errstr_size, "out of memory");
        return NULL;
    }
    SSL_CTX *c = ctx->ssl_ctx = SSL_CTX_new(TLS_server_method());
    if (c == NULL) {
        put_openssl_err(errstr, errstr_size, "cannot create a TLS context");
        free(ctx);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    /* Kafka clients never renegotiate; refusing it closes a CPU-exhaustion
     * vector on a listener open to anyone. */
    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* Partial writes and a moving buffer let the caller keep its own send
     * queue (compacted between retries); released buffers keep the many
     * idle Kafka connections cheap. */
    SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
    /* Resumed sessions are refused unless the cache has a context id once
     * client certificates are verified. */
    static const unsigned char sid_ctx[] = "kafka-connections-broker";
    SSL_CTX_set_session_id_context(c, sid_ctx, sizeof sid_ctx - 1);

    if (load_keystore(c, keystore, key_password, errstr, errstr_size) != 0 ||
        (truststore != NULL && load_truststore(c, truststore, errstr, errstr_size) != 0) ||
        set_client_auth(c, truststore, client_auth, errstr, errstr_size) != 0) {
        kb_tls_ctx_free(ctx);
        ERR_clear_error();
        return NULL;
    }
    return ctx;
}

void kb_tls_ctx_free(kb_tls_ctx *ctx)
{
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    free(ctx);
}

/* ---- sessions ------------------------------------------------------------ */

kb_tls *kb_tls_new(kb_tls_ctx *ctx, int fd, char *errstr, size_t errstr_size)
{
    ERR_clear_error();
    kb_tls *t = calloc(1, sizeof *t);
    if (t == NULL) {
        put_err(errstr, errstr_size, "out of memory");
        return NULL;
    }
    t->ssl = SSL_new(ctx->ssl_ctx);
    if (t->ssl == NULL || SSL_set_fd(t->ssl, fd) != 1) {
        put_openssl_err(errstr, errstr_size, "cannot create a TLS session");
        kb_tls_free(t);
        return NULL;
    }
    SSL_set_accept_state(t->ssl);
    return t;
}

void kb_tls_free(kb_tls *t)
{
    if (t == NULL)
        return;
    SSL_free(t->ssl);
    free(t);
}

void kb_tls_shutdown(kb_tls *t)
{
    if (t->failed || !SSL_is_init_finished(t->ssl))
        return;
    ERR_clear_error();
    (void)SSL_shutdown(t->ssl);
    ERR_clear_error();
}

/* Reasons that mean the first bytes were not a TLS record at all. */
static bool not_tls(unsigned long reason)
{
    return reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_HTTP_REQUEST ||
           reason == SSL_R_HTTPS_PROXY_REQUEST || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
           reason == SSL_R_UNKNOWN_PROTOCOL;
}

/* Maps a failed SSL_* call (ret, with errno as it was right after it) to a
 * kb_tls_status, describing fatal errors. */
static int map_result(kb_tls *t, int ret, int saved_errno, const char *what, char *errstr,
                      size_t errstr_size)
{
    switch (SSL_get_error(t->ssl, ret)) {
    case SSL_ERROR_WANT_READ:
        return KB_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return KB_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        put_err(errstr, errstr_size, "%s: the peer closed the TLS session", what);
        break;
    case SSL_ERROR_SYSCALL:
        if (saved_errno != 0)
            put_err(errstr, errstr_size, "%s: %s", what, strerror(saved_errno));
        else
            put_err(errstr, errstr_size, "%s: the peer closed the connection", what);
        if (saved_errno == ECONNRESET || saved_errno == EPIPE) {
            ERR_clear_error();
            t->failed = true;
            return KB_TLS_RESET; /* the client's doing, not the network's */
        }
        break;
    case SSL_ERROR_SSL: {
        bool hint = not_tls(first_reason());
        char reason[256];
        take_openssl_reason(reason, sizeof reason);
        long verify = SSL_get_verify_result(t->ssl);
        if (verify != X509_V_OK)
            put_err(errstr, errstr_size, "%s: %s (client certificate: %s)", what, reason,
                    X509_verify_cert_error_string(verify));
        else
            put_err(errstr, errstr_size, "%s: %s%s", what, reason,
                    hint ? " (is the client speaking TLS? a PLAINTEXT client on an SSL listener?)" : "");
        break;
    }
    default:
        put_openssl_err(errstr, errstr_size, "%s", what);
        break;
    }
    ERR_clear_error();
    t->failed = true;
    return KB_TLS_ERROR;
}

int kb_tls_handshake(kb_tls *t, char *errstr, size_t errstr_size)
{
    ERR_clear_error();
    errno = 0;
    int ret = SSL_do_handshake(t->ssl);
    int saved_errno = errno;
    if (ret == 1)
        return KB_TLS_OK;
    return map_result(t, ret, saved_errno, "TLS handshake failed", errstr, errstr_size);
}

ssize_t kb_tls_read(kb_tls *t, void *buf, size_t len, char *errstr, size_t errstr_size)
{
    if (len == 0)
        return 0;
    ERR_clear_error();
    errno = 0;
    size_t n = 0;
    int ret = SSL_read_ex(t->ssl, buf, len, &n);
    int saved_errno = errno;
    if (ret == 1)
        return (ssize_t)n;
    int err = SSL_get_error(t->ssl, ret);
    /* close_notify, or a plain EOF: clients that close the socket without
     * close_notify are common, and Kafka frames carry their own length, so
     * a truncation cannot pass for a complete request. */
    if (err == SSL_ERROR_ZERO_RETURN ||
        (err == SSL_ERROR_SYSCALL && saved_errno == 0 && ERR_peek_error() == 0) ||
        (err == SSL_ERROR_SSL && first_reason() == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
        ERR_clear_error();
        return 0;
    }
    return map_result(t, ret, saved_errno, "TLS read failed", errstr, errstr_size);
}

ssize_t kb_tls_write(kb_tls *t, const void *buf, size_t len, char *errstr, size_t errstr_size)
{
    if (len == 0)
        return 0;
    ERR_clear_error();
    errno = 0;
    size_t n = 0;
    int ret = SSL_write_ex(t->ssl, buf, len, &n);
    int saved_errno = errno;
    if (ret == 1)
        return (ssize_t)n;
    return map_result(t, ret, saved_errno, "TLS write failed", errstr, errstr_size);
}

size_t kb_tls_pending(const kb_tls *t)
{
    int n = SSL_pending(t->ssl);
    return n > 0 ? (size_t)n : 0;
}

const char *kb_tls_protocol(const kb_tls *t)
{
    return SSL_get_version(t->ssl);
}

const char *kb_tls_cipher(const kb_tls *t)
{
    const SSL_CIPHER *c = SSL_get_current_cipher(t->ssl);
    if (c == NULL)
        return NULL;
    /* The IANA name, as Java's SSLSession.getCipherSuite() reports it and as
     * Kafka's ssl.cipher.suites spells it. */
    const char *name = SSL_CIPHER_standard_name(c);
    return name != NULL ? name : SSL_CIPHER_get_name(c);
}

/* ---- names as Java prints them ------------------------------------------ */

/* Kafka's default SSL principal is "User:" + X500Principal.getName(), and
 * ACLs are written against that string, so it is reproduced exactly rather
 * than through X509_NAME_print_ex(XN_FLAG_RFC2253), which differs from it:
 * Java also escapes '=' and a '#' anywhere, keeps the DER order inside a
 * multi-valued RDN, keeps non-ASCII characters as they are, prints
 * attributes without an RFC 2253 keyword (emailAddress, title, ...) as
 * OID=#hex-of-DER, and decodes every string type's bytes as UTF-8. The
 * rules below are those of OpenJDK 17's sun.security.x509.AVA. */

typedef struct strbuf {
    char *p;
    size_t len, cap;
    bool oom;
} strbuf;

static void sb_putn(strbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(strbuf *b, const char *s)
{
    sb_putn(b, s, strlen(s));
}

static void sb_putc(strbuf *b, char c)
{
    sb_putn(b, &c, 1);
}

static void sb_put_utf8(strbuf *b, unsigned long cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    sb_putn(b, u, n);
}

#define REPLACEMENT 0xFFFDul

static bool is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* Decodes one character of s[0..n) (n >= 1) the way Java's UTF-8 decoder
 * does with replacement: each malformed sequence becomes one U+FFFD, and
 * how many bytes it swallows follows Java (not always Unicode's "maximal
 * subpart"). Returns the bytes consumed; *stop is set when Java abandons
 * the rest of the input (a truncated sequence at its end). */
static size_t java_utf8_next(const unsigned char *s, size_t n, unsigned long *cp, bool *stop)
{
    unsigned char b1 = s[0];
    *cp = REPLACEMENT;
    if (b1 < 0x80) {
        *cp = b1;
        return 1;
    }
    if (b1 >= 0xC2 && b1 <= 0xDF) {
        if (n < 2) {
            *stop = true;
            return 1;
        }
        if (!is_cont(s[1]))
            return 1;
        *cp = ((unsigned long)(b1 & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if (b1 >= 0xE0 && b1 <= 0xEF) {
        bool overlong = b1 == 0xE0 && n >= 2 && (s[1] & 0xE0) == 0x80;
        if (n >= 3) {
            if (overlong || !is_cont(s[1]) || !is_cont(s[2]))
                return overlong || !is_cont(s[1]) ? 1 : 2;
            unsigned long c = ((unsigned long)(b1 & 0x0F) << 12) | ((unsigned long)(s[1] & 0x3F) << 6) |
                              (s[2] & 0x3F);
            if (c < 0xD800 || c > 0xDFFF) /* a lone surrogate is malformed */
                *cp = c;
            return 3;
        }
        if (n == 2 && (overlong || !is_cont(s[1])))
            return 1;
        *stop = true;
        return n;
    }
    if (b1 >= 0xF0 && b1 <= 0xF7) {
        bool bad2 = n >= 2 && (b1 > 0xF4 || (b1 == 0xF0 && (s[1] < 0x90 || s[1] > 0xBF)) ||
                               (b1 == 0xF4 && (s[1] & 0xF0) != 0x80) || !is_cont(s[1]));
        if (n >= 4) {
            unsigned long c = ((unsigned long)(b1 & 0x07) << 18) | ((unsigned long)(s[1] & 0x3F) << 12) |
                              ((unsigned long)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
            if (is_cont(s[1]) && is_cont(s[2]) && is_cont(s[3]) && c >= 0x10000 && c <= 0x10FFFF) {
                *cp = c;
                return 4;
            }
            return bad2 ? 1 : !is_cont(s[2]) ? 2 : 3;
        }
        if (b1 > 0xF4 || bad2)
            return 1;
        if (n == 3 && !is_cont(s[2]))
            return 2;
        *stop = true;
        return n;
    }
    return 1; /* a continuation byte, C0, C1 or F8..FF on its own */
}

/* Java's RFC 2253 form of a string value: escape , = + < > # ; " \ and NUL
 * anywhere, then leading and trailing spaces and CRs. */
static void put_java_string_value(strbuf *b, const unsigned char *s, size_t n)
{
    strbuf v = {0};
    bool stop = false;
    for (size_t i = 0; i < n && !stop;) {
        unsigned long cp;
        i += java_utf8_next(s + i, n - i, &cp, &stop);
        if (cp == 0)
            sb_puts(&v, "\\00");
        else if (cp < 0x80 && strchr(",=+<>#;\"\\", (int)cp) != NULL) {
            sb_putc(&v, '\\');
            sb_putc(&v, (char)cp);
        } else
            sb_put_utf8(&v, cp);
    }
    if (v.oom) {
        b->oom = true;
        free(v.p);
        return;
    }
    size_t lead = 0, trail = v.len;
    while (lead < v.len && (v.p[lead] == ' ' || v.p[lead] == '\r'))
        lead++;
    while (trail > lead && (v.p[trail - 1] == ' ' || v.p[trail - 1] == '\r'))
        trail--;
    for (size_t i = 0; i < v.len; i++) {
        if (i < lead || i >= trail)
            sb_putc(b, '\\');
        sb_putc(b, v.p[i]);
    }
    free(v.p);
}

/* '#' and the value's DER in lowercase hex: the entry re-encoded, minus its
 * SEQUENCE header and the attribute type's OID. */
static void put_der_hex_value(strbuf *b, const X509_NAME_ENTRY *e)
{
    unsigned char *der = NULL;
    int der_len = i2d_X509_NAME_ENTRY(e, &der);
    if (der_len <= 0) {
        b->oom = true;
        return;
    }
    const unsigned char *p = der;
    long len;
    int tag, cls;
    int r1 = ASN1_get_object(&p, &len, &tag, &cls, der_len);         /* SEQUENCE */
    int r2 = ASN1_get_object(&p, &len, &tag, &cls, der + der_len - p); /* OID */
    if ((r1 & 0x80) || (r2 & 0x80) || len > der + der_len - p) {
        b->oom = true; /* cannot happen with what i2d produced */
    } else {
        p += len;
        sb_putc(b, '#');
        for (; p < der + der_len; p++) {
            char hex[3];
            snprintf(hex, sizeof hex, "%02x", *p);
            sb_putn(b, hex, 2);
        }
    }
    OPENSSL_free(der);
}

/* The attribute types Java's RFC 2253 output names by keyword; any other is
 * printed as its dotted OID. */
static const char *java_rfc2253_keyword(int nid)
{
    switch (nid) {
    case NID_commonName: return "CN";
    case NID_countryName: return "C";
    case NID_localityName: return "L";
    case NID_stateOrProvinceName: return "ST";
    case NID_organizationName: return "O";
    case NID_organizationalUnitName: return "OU";
    case NID_streetAddress: return "STREET";
    case NID_domainComponent: return "DC";
    case NID_userId: return "UID";
    default: return NULL;
    }
}

/* The ASN.1 string types Java prints as text; others become #hex. */
static bool java_has_string_form(int type)
{
    switch (type) {
    case V_ASN1_PRINTABLESTRING:
    case V_ASN1_T61STRING:
    case V_ASN1_IA5STRING:
    case V_ASN1_GENERALSTRING:
    case V_ASN1_BMPSTRING:
    case V_ASN1_UTF8STRING:
        return true;
    default:
        return false;
    }
}

static void put_ava(strbuf *b, const X509_NAME_ENTRY *e)
{
    const char *kw = java_rfc2253_keyword(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)));
    char oid[128];
    if (kw == NULL) {
        if (OBJ_obj2txt(oid, sizeof oid, X509_NAME_ENTRY_get_object(e), 1) <= 0) {
            b->oom = true;
            return;
        }
        kw = oid;
    }
    sb_puts(b, kw);
    sb_putc(b, '=');
    const ASN1_STRING *v = X509_NAME_ENTRY_get_data(e);
    if (kw == oid || !java_has_string_form(ASN1_STRING_type(v)))
        put_der_hex_value(b, e);
    else
        put_java_string_value(b, ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v));
}

/* Most specific RDN first (the reverse of the DER order), ',' between RDNs,
 * '+' between the values of one RDN in their DER order. */
static char *java_x500_name(const X509_NAME *name)
{
    strbuf b = {0};
    sb_puts(&b, "");
    int end = X509_NAME_entry_count(name);
    while (end > 0) {
        int set = X509_NAME_ENTRY_set(X509_NAME_get_entry(name, end - 1));
        int start = end - 1;
        while (start > 0 && X509_NAME_ENTRY_set(X509_NAME_get_entry(name, start - 1)) == set)
            start--;
        if (b.len > 0)
            sb_putc(&b, ',');
        for (int i = start; i < end; i++) {
            if (i > start)
                sb_putc(&b, '+');
            put_ava(&b, X509_NAME_get_entry(name, i));
        }
        end = start;
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* As Java's BigInteger.toString(16): lowercase, no leading zeros, '-' for
 * a (malformed but parseable) negative serial. */
static char *java_hex_serial(const ASN1_INTEGER *serial)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
    char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
    BN_free(bn);
    if (hex == NULL)
        return NULL;
    const char *digits = hex[0] == '-' ? hex + 1 : hex;
    while (digits[0] == '0' && digits[1] != '\0')
        digits++;
    char *out = malloc(strlen(digits) + 2);
    if (out != NULL) {
        char *o = out;
        if (hex[0] == '-')
            *o++ = '-';
        for (; *digits; digits++)
            *o++ = (char)(*digits >= 'A' && *digits <= 'F' ? *digits - 'A' + 'a' : *digits);
        *o = '\0';
    }
    OPENSSL_free(hex);
    return out;
}

int kb_tls_peer(const kb_tls *t, char **subject, char **issuer, char **serial)
{
    *subject = *issuer = *serial = NULL;
    X509 *cert = SSL_get0_peer_certificate(t->ssl);
    if (cert == NULL)
        return 0;
    ERR_clear_error();
    *subject = java_x500_name(X509_get_subject_name(cert));
    *issuer = java_x500_name(X509_get_issuer_name(cert));
    *serial = java_hex_serial(X509_get0_serialNumber(cert));
    ERR_clear_error();
    if (*subject == NULL || *issuer == NULL || *serial == NULL) {
        free(*subject);
        free(*issuer);
        free(*serial);
        *subject = *issuer = *serial = NULL;
        return -1;
    }
    return 0;
}
