/* The CLI's TLS client on OpenSSL: context from the settings, then one
 * non-blocking session per broker with SNI and hostname verification. */
#include "kc_tls.h"

#include "kc_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct kc_tls_ctx {
    SSL_CTX *ssl_ctx;
    bool verify_hostname;
};

struct kc_tls {
    SSL *ssl;
    bool handshake_done;
    char host[256];
    char subject[256]; /* first certificate that failed verification */
};

/* The reason of the most recent OpenSSL error in this thread, or what
 * errno says when the failure came from a system call. */
static const char *ssl_reason(char *buf, size_t size)
{
    unsigned long e = ERR_peek_last_error();
    if (e == 0)
        return errno ? strerror(errno) : "connection closed";
    /* A failed fopen() and the like: the reason is an errno value. */
    if (ERR_SYSTEM_ERROR(e))
        return strerror(ERR_GET_REASON(e));
    const char *r = ERR_reason_error_string(e);
    if (r)
        return r;
    ERR_error_string_n(e, buf, size);
    return buf;
}

static void name_rfc2253(X509_NAME *name, char *buf, size_t size)
{
    buf[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
        int n = BIO_read(b, buf, (int)size - 1);
        buf[n > 0 ? n : 0] = '\0';
    }
    BIO_free(b);
}

/* Keeps verification as OpenSSL decided it; only remembers which
 * certificate failed first, for the error message. */
static int verify_cb(int ok, X509_STORE_CTX *x)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    kc_tls *t = ssl ? SSL_get_app_data(ssl) : NULL;
    X509 *cert = X509_STORE_CTX_get_current_cert(x);
    if (!ok && t && !t->subject[0] && cert)
        name_rfc2253(X509_get_subject_name(cert), t->subject, sizeof t->subject);
    return ok;
}

/* OpenSSL's default would prompt on the terminal for a key password; here
 * it comes from ssl.key.password or not at all. */
static int key_password_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    const char *pw = u;
    if (!pw || size <= 0)
        return 0;
    size_t n = strlen(pw);
    if (n > (size_t)size)
        return 0;
    memcpy(buf, pw, n);
    return (int)n;
}

static int load_ca(SSL_CTX *c, const char *path, char *err, size_t err_size)
{
    char ebuf[256];
    struct stat st;
    if (!path) {
        if (SSL_CTX_set_default_verify_paths(c) == 1)
            return 0;
        kc_fmt(err, err_size, "cannot load the system CA certificates: %s", ssl_reason(ebuf, sizeof ebuf));
        return -1;
    }
    int ok = stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? SSL_CTX_load_verify_dir(c, path)
                                                          : SSL_CTX_load_verify_file(c, path);
    if (ok == 1)
        return 0;
    kc_fmt(err, err_size, "cannot load CA certificates from %s: %s", path, ssl_reason(ebuf, sizeof ebuf));
    return -1;
}

static int load_client_cert(SSL_CTX *c, const kc_settings *s, char *err, size_t err_size)
{
    char ebuf[256];
    if (!s->ssl_certificate_location) {
        if (!s->ssl_key_location)
            return 0;
        kc_fmt(err, err_size, "a client key (%s) needs a client certificate", s->ssl_key_location);
        return -1;
    }
    if (SSL_CTX_use_certificate_chain_file(c, s->ssl_certificate_location) != 1) {
        kc_fmt(err, err_size, "cannot load client certificate %s: %s", s->ssl_certificate_location,
               ssl_reason(ebuf, sizeof ebuf));
        return -1;
    }
    /* A Kafka PEM keystore holds key and certificates in one file. */
    const char *key = s->ssl_key_location ? s->ssl_key_location : s->ssl_certificate_location;
    SSL_CTX_set_default_passwd_cb(c, key_password_cb);
    SSL_CTX_set_default_passwd_cb_userdata(c, (void *)s->ssl_key_password);
    int ok = SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM);
    SSL_CTX_set_default_passwd_cb_userdata(c, NULL);
    if (ok != 1) {
        kc_fmt(err, err_size, "cannot load client key %s: %s", key, ssl_reason(ebuf, sizeof ebuf));
        return -1;
    }
    if (SSL_CTX_check_private_key(c) != 1) {
        kc_fmt(err, err_size, "client key %s does not match certificate %s", key,
               s->ssl_certificate_location);
        return -1;
    }
    return 0;
}

kc_tls_ctx *kc_tls_ctx_new(const kc_settings *s, char *err, size_t err_size)
{
    ERR_clear_error();
    kc_tls_ctx *t = calloc(1, sizeof *t);
    SSL_CTX *c = t ? SSL_CTX_new(TLS_client_method()) : NULL;
    if (!c) {
        kc_fmt(err, err_size, "cannot create a TLS context");
        free(t);
        return NULL;
    }
    t->ssl_ctx = c;
    t->verify_hostname = s->verify_hostname;
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    /* Writes resume from the same buffer, possibly after a partial write. */
    SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, verify_cb);
    if (load_ca(c, s->ssl_ca_location, err, err_size) || load_client_cert(c, s, err, err_size)) {
        kc_tls_ctx_free(t);
        return NULL;
    }
    return t;
}

void kc_tls_ctx_free(kc_tls_ctx *ctx)
{
    if (!ctx)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    free(ctx);
}

static bool is_ip_literal(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

kc_tls *kc_tls_new(kc_tls_ctx *ctx, int fd, const char *host, char *err, size_t err_size)
{
    ERR_clear_error();
    kc_tls *t = calloc(1, sizeof *t);
    if (!t || !(t->ssl = SSL_new(ctx->ssl_ctx))) {
        kc_fmt(err, err_size, "cannot create a TLS session");
        free(t);
        return NULL;
    }
    kc_fmt(t->host, sizeof t->host, "%s", host);
    SSL_set_app_data(t->ssl, t);
    bool ip = is_ip_literal(host);
    int ok = SSL_set_fd(t->ssl, fd);
    /* SNI carries host names only (RFC 6066 section 3). */
    if (ok == 1 && !ip)
        ok = SSL_set_tlsext_host_name(t->ssl, host);
    if (ok == 1 && ctx->verify_hostname) {
        if (ip) {
            ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host);
        } else {
            SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            ok = SSL_set1_host(t->ssl, host);
        }
    }
    if (ok != 1) {
        char ebuf[256];
        kc_fmt(err, err_size, "cannot set up TLS for %s: %s", host, ssl_reason(ebuf, sizeof ebuf));
        kc_tls_free(t);
        return NULL;
    }
    SSL_set_connect_state(t->ssl);
    return t;
}

void kc_tls_free(kc_tls *t)
{
    if (!t)
        return;
    if (t->handshake_done) {
        ERR_clear_error();
        SSL_shutdown(t->ssl); /* best effort: one non-blocking attempt */
    }
    SSL_free(t->ssl);
    free(t);
}

/* Maps the outcome of a failed SSL call. */
static int failed(kc_tls *t, int rc, const char *during, char *err, size_t err_size)
{
    char ebuf[256];
    switch (SSL_get_error(t->ssl, rc)) {
    case SSL_ERROR_WANT_READ: return KC_IO_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return KC_IO_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN: return KC_IO_EOF;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0 && errno == 0)
            return KC_IO_EOF;
        break;
    case SSL_ERROR_SSL:
        if (ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
            return KC_IO_EOF;
        break;
    default: break;
    }
    kc_fmt(err, err_size, "TLS %s failed: %s", during, ssl_reason(ebuf, sizeof ebuf));
    return KC_IO_ERROR;
}

static int verify_failed(kc_tls *t, long v, char *err, size_t err_size)
{
    const char *why = X509_verify_cert_error_string(v);
    const char *subject = t->subject[0] ? t->subject : "?";
    /* The settings that decide each case, named: what an operator changes. */
    bool unknown_ca = v == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
                      v == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
                      v == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                      v == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT;
    if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH)
        kc_fmt(err, err_size,
               "TLS certificate verification failed: %s: the certificate (subject %s) is not for %s "
               "(ssl.endpoint.identification.algorithm= turns this check off)",
               why, subject, t->host);
    else
        kc_fmt(err, err_size, "TLS certificate verification failed: %s (certificate subject %s%s)", why,
               subject, unknown_ca ? "; is its CA in ssl.truststore.location / ssl.ca.location?" : "");
    return KC_IO_VERIFY;
}

int kc_tls_handshake(kc_tls *t, char *err, size_t err_size)
{
    ERR_clear_error();
    errno = 0;
    int rc = SSL_connect(t->ssl);
    if (rc == 1) {
        t->handshake_done = true;
        return KC_IO_DONE;
    }
    long v = SSL_get_verify_result(t->ssl);
    int io = failed(t, rc, "handshake", err, err_size);
    if (io == KC_IO_WANT_READ || io == KC_IO_WANT_WRITE)
        return io;
    if (v != X509_V_OK)
        return verify_failed(t, v, err, err_size);
    if (io == KC_IO_EOF) {
        kc_fmt(err, err_size, "the broker closed the connection during the TLS handshake");
        return KC_IO_ERROR;
    }
    return io;
}

int kc_tls_read(kc_tls *t, void *buf, size_t len, size_t *got, char *err, size_t err_size)
{
    ERR_clear_error();
    errno = 0;
    *got = 0;
    int rc = SSL_read_ex(t->ssl, buf, len, got);
    return rc == 1 ? KC_IO_DONE : failed(t, rc, "read", err, err_size);
}

int kc_tls_write(kc_tls *t, const void *buf, size_t len, size_t *put, char *err, size_t err_size)
{
    ERR_clear_error();
    errno = 0;
    *put = 0;
    int rc = SSL_write_ex(t->ssl, buf, len, put);
    return rc == 1 ? KC_IO_DONE : failed(t, rc, "write", err, err_size);
}
