/*
 * kc_tls.h: the CLI's TLS client (OpenSSL): one context per fan-out built
 * from the connection settings, one non-blocking session per broker.
 */
#ifndef KC_TLS_H
#define KC_TLS_H

#include "kc_fanout.h"
#include "kc_io.h"

#include <stddef.h>

typedef struct kc_tls_ctx kc_tls_ctx;
typedef struct kc_tls kc_tls;

/* TLS 1.2 or later; CA bundle (file or directory) from ssl_ca_location or
 * the system default; client certificate and key for mTLS; hostname
 * verification per verify_hostname. Returns NULL with err on failure. Safe
 * to share between threads once built. */
kc_tls_ctx *kc_tls_ctx_new(const kc_settings *s, char *err, size_t err_size);
void kc_tls_ctx_free(kc_tls_ctx *ctx);

/* A client session on connected socket fd for broker host (sent as SNI
 * unless it is an IP address, and checked against the certificate).
 * Returns NULL with err on failure. */
kc_tls *kc_tls_new(kc_tls_ctx *ctx, int fd, const char *host, char *err, size_t err_size);
/* Sends close_notify if it can without blocking, then frees. NULL is fine. */
void kc_tls_free(kc_tls *t);

/* Each returns an enum kc_io; on KC_IO_ERROR or KC_IO_VERIFY err says why. */
int kc_tls_handshake(kc_tls *t, char *err, size_t err_size);
int kc_tls_read(kc_tls *t, void *buf, size_t len, size_t *got, char *err, size_t err_size);
int kc_tls_write(kc_tls *t, const void *buf, size_t len, size_t *put, char *err, size_t err_size);

#endif
