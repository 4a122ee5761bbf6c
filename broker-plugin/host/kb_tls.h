/*
 * kb_tls.h: the broker's TLS side through OpenSSL 3: a context from PEM
 * files (Kafka's ssl.keystore.type=PEM) and non-blocking sessions on
 * accepted sockets.
 */
#ifndef KB_TLS_H
#define KB_TLS_H

#include <stddef.h>
#include <sys/types.h>

enum kb_tls_status {
    KB_TLS_OK = 0,
    KB_TLS_WANT_READ = -2,  /* retry when the socket is readable */
    KB_TLS_WANT_WRITE = -3, /* retry when the socket is writable */
    KB_TLS_ERROR = -1,      /* fatal; errstr says why */
    KB_TLS_RESET = -4       /* fatal: the peer reset the connection */
};

typedef struct kb_tls_ctx kb_tls_ctx;
typedef struct kb_tls kb_tls;

/* TLS 1.2+ server context. keystore: PEM with the private key and the
 * certificate chain; key_password may be NULL; truststore: PEM CA bundle for
 * client certificates (may be NULL when client_auth is none); client_auth:
 * enum kb_client_auth. NULL with errstr naming the file and the cause. */
kb_tls_ctx *kb_tls_ctx_new(const char *keystore, const char *key_password, const char *truststore,
                           int client_auth, char *errstr, size_t errstr_size);
void kb_tls_ctx_free(kb_tls_ctx *ctx);

/* A server session on a connected non-blocking socket (not owned). Writes
 * go through write(2): the process must ignore SIGPIPE. */
kb_tls *kb_tls_new(kb_tls_ctx *ctx, int fd, char *errstr, size_t errstr_size);
void kb_tls_free(kb_tls *t);
/* Sends close_notify once, best effort, without waiting for the peer's;
 * does nothing before the handshake completed or after a fatal error. */
void kb_tls_shutdown(kb_tls *t);
/* Advances the handshake: KB_TLS_OK when done, WANT_READ/WANT_WRITE, or
 * KB_TLS_ERROR (e.g. garbage instead of a ClientHello, a required client
 * certificate missing or not trusted). */
int kb_tls_handshake(kb_tls *t, char *errstr, size_t errstr_size);
/* Reads decrypted bytes: > 0 read, 0 the peer closed, or a kb_tls_status. */
ssize_t kb_tls_read(kb_tls *t, void *buf, size_t len, char *errstr, size_t errstr_size);
/* Writes bytes: > 0 written (may be fewer than len), or a kb_tls_status.
 * After WANT_READ/WANT_WRITE call it again with at least the same bytes;
 * they may have moved to another address. */
ssize_t kb_tls_write(kb_tls *t, const void *buf, size_t len, char *errstr, size_t errstr_size);
/* Decrypted bytes already buffered inside OpenSSL (read them before waiting
 * on the socket again). */
size_t kb_tls_pending(const kb_tls *t);
/* Negotiated protocol ("TLSv1.3") and cipher suite by its IANA name
 * ("TLS_AES_256_GCM_SHA384"), as Java reports them; static strings, the
 * cipher NULL before the handshake. */
const char *kb_tls_protocol(const kb_tls *t);
const char *kb_tls_cipher(const kb_tls *t);
/* The client certificate's subject and issuer in RFC 2253 form (as Java's
 * X500Principal.getName(), which Kafka's mTLS principal uses) and serial in
 * lowercase hex without leading zeros (as Java's BigInteger.toString(16)),
 * as malloc'd strings the caller frees; all NULL when the client sent no
 * certificate. Returns 0, or -1 when out of memory. */
int kb_tls_peer(const kb_tls *t, char **subject, char **issuer, char **serial);

#endif
