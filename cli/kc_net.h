/*
 * kc_net.h: small helpers shared by the network side of the CLI (bootstrap,
 * fan-out, one broker's connection): the clock, message formatting, Kafka
 * error names, and the pages of one broker's answer.
 */
#ifndef KC_NET_H
#define KC_NET_H

#include "kc_fanout.h"
#include "kc_text.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* kc_settings.timeout_ms when it is not set. */
#define KC_DEFAULT_TIMEOUT_MS 30000

/* enum kcb_security_protocol: 0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL. */
static inline bool kc_uses_tls(const kc_settings *s)
{
    return s->security_protocol == 1 || s->security_protocol == 3;
}

static inline bool kc_uses_sasl(const kc_settings *s)
{
    return s->security_protocol == 2 || s->security_protocol == 3;
}

static inline int kc_timeout_ms(const kc_settings *s)
{
    return s->timeout_ms > 0 ? s->timeout_ms : KC_DEFAULT_TIMEOUT_MS;
}

/* pthread_create() with every signal blocked in the new thread, as the
 * network side's threads all run. Returns pthread_create()'s code. */
int kc_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg);

/* Milliseconds of CLOCK_MONOTONIC: deadlines and elapsed times only. */
int64_t kc_now_ms(void);

/* snprintf that never fails silently: always NUL-terminates, truncates. */
void kc_fmt(char *buf, size_t size, const char *fmt, ...) KC_PRINTF(3, 4);
void kc_vfmt(char *buf, size_t size, const char *fmt, va_list ap) KC_PRINTF(3, 0);

/* Writes "HOST:PORT", with IPv6 literals in brackets. */
void kc_host_port(char *buf, size_t size, const char *host, uint16_t port);

/* Kafka's name for an error code (e.g. "SASL_AUTHENTICATION_FAILED"), or
 * "error N" in buf for codes this table does not know. */
const char *kc_kafka_error_name(int16_t code, char *buf, size_t size);

/* Kafka error codes the network side reacts to. */
enum {
    KC_ERR_CLUSTER_AUTHORIZATION_FAILED = 31,
    KC_ERR_UNSUPPORTED_SASL_MECHANISM = 33,
    KC_ERR_UNSUPPORTED_VERSION = 35,
    KC_ERR_SASL_AUTHENTICATION_FAILED = 58
};

/* Sets r->status and r->error to "broker ID (HOST:PORT): " + the cause. */
void kc_result_fail(kc_result *r, int status, const char *fmt, ...) KC_PRINTF(3, 4);
void kc_result_vfail(kc_result *r, int status, const char *fmt, va_list ap) KC_PRINTF(3, 0);

/* Starts r for broker b: copies it, status ok, nothing collected. Returns
 * 0, or -1 when out of memory (r->error is then set as far as possible). */
int kc_result_begin(kc_result *r, const kc_broker *b);

/* Adds one DescribeConnections page: r takes the decoded *page (moved, so
 * the caller must not free it) and frame (the malloc'd frame_len bytes it
 * was decoded from, freed here: the few bytes the page still refers to,
 * such as its strings and NextCursor, are copied into r->bodies). Rows
 * beyond max_rows (0 = no limit) are left out. Returns 0, or -1 when out of
 * memory (page freed then). */
int kc_result_add_page(kc_result *r, uint8_t *frame, size_t frame_len,
                       kcp_describe_connections_response *page, int64_t max_rows);

#endif
