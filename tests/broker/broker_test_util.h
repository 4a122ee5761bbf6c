/* Shared fixtures for the broker-plugin tests: a registry with a fake clock
 * and a host authorizer, and helpers that run a describe and hand back the
 * answer as a client would decode it. Every describe is also built the
 * other way (rows as structs, encoded whole) and must give the same bytes,
 * unless another thread changes the registry meanwhile. Every answer's
 * Strings must hold each string once, each used by a row, and every row's
 * indexes must pass kcp_connections_check(). */
#ifndef BROKER_TEST_UTIL_H
#define BROKER_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kcb.h"
#include "kcb_describe.h"
#include "kcp_connections.h"

#define ADMIN "User:admin"

typedef kcp_describe_connections_response_connection row_t;
typedef kcp_describe_connections_response_principal_summary summary_t;

typedef struct test_env {
    kcb_registry *reg;
    int64_t now;
    const char *deny;   /* principal the host authorizer denies outright */
    bool concurrent;    /* another thread changes the registry: skip the comparison */
} test_env;

typedef struct test_page {
    kcp_describe_connections_response resp; /* decoded from the wire bytes */
    uint8_t *bytes;
} test_page;

typedef struct test_counts {
    uint64_t total;
    int groups;
} test_counts;

int test_setup(void **state);
int test_teardown(void **state);
kcb_conn *test_accept(test_env *e, uint32_t shard, const char *listener, int protocol,
                      const char *peer, uint16_t port);
/* A connection authenticated as principal, for calls that need a caller. */
kcb_conn *test_caller(test_env *e, const char *principal);
/* Runs req for principal; the encoded answer is decoded back into p. */
void test_describe_req(test_env *e, const char *principal,
                       const kcp_describe_connections_request *req, test_page *p);
/* Decodes the len bytes at p->bytes (malloc'd; p owns them) into p->resp
 * and checks them as every answer is checked. */
void test_decode(test_page *p, size_t len);
/* Runs a default request; what = "closed" asks for the closed history. */
void test_describe(test_env *e, const char *principal, const char *what, test_page *p);
void test_page_free(test_page *p);
/* Strings[index] of p's answer; null for -1. */
kcp_str test_str(const test_page *p, int32_t index);
/* Sets a string array to the NULL-terminated list of values. */
void test_strs(kcp_str **v, int32_t *n, kcp_arena *a, ...);
void test_count_cb(void *opaque, const char *principal, const char *listener,
                   const char *name, const char *version, uint64_t n);

static inline int str_eq(kcp_str s, const char *c)
{
    return kcp_str_eq(s, kcp_str_c(c));
}

/* Whether a row's string field (its ...Index) holds c in p's answer. */
static inline int test_str_is(const test_page *p, int32_t index, const char *c)
{
    return str_eq(test_str(p, index), c);
}

#endif
