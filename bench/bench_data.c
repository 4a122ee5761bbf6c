/* Builds a DescribeConnections answer that looks like a busy production
 * broker: the mix of listeners, mechanisms, clients and counters decides how
 * many distinct strings the page holds and how large the tagged sections
 * are, so it is what the size and speed figures depend on. */
#include "bench_data.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The broker's clock at the snapshot (late 2025, ms since the epoch). */
#define BROKER_TIME_MS INT64_C(1764400000000)
#define DAY_MS INT64_C(86400000)

typedef struct rng {
    uint64_t s;
} rng;

/* splitmix64: tiny, fast and reproducible on every platform. */
static uint64_t rng_next(rng *g)
{
    uint64_t z = (g->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static uint32_t rng_below(rng *g, uint32_t n)
{
    return (uint32_t)(rng_next(g) % n);
}

/* True with probability pct percent. */
static bool rng_pct(rng *g, uint32_t pct)
{
    return rng_below(g, 100) < pct;
}

/* Roughly log-uniform in [1, 10^decades): request and byte counters of
 * long-lived and short-lived connections differ by orders of magnitude. */
static int64_t rng_log(rng *g, int decades)
{
    int64_t v = 1;
    int d = (int)rng_below(g, (uint32_t)decades);
    for (int i = 0; i < d; i++)
        v *= 10;
    return v + (int64_t)(rng_next(g) % (uint64_t)(v * 9));
}

#define PICK(g, arr) ((arr)[rng_below((g), (uint32_t)(sizeof(arr) / sizeof((arr)[0])))])

static const char *const services[] = {
    "orders", "payments", "inventory", "shipping", "billing", "analytics", "search",
    "notifications", "fraud-detection", "audit", "recommendations", "pricing",
};
static const char *const roles[] = {"consumer", "producer", "streams", "connect"};

typedef struct software {
    const char *name, *version;
} software;

/* KIP-511 names as the clients send them; "unknown" for clients that never
 * send ApiVersions v3 (kafka-python 2.0.2, kafkajs). */
static const software softwares[] = {
    {"librdkafka", "2.0.2"},
    {"librdkafka", "2.3.0"},
    {"apache-kafka-java", "3.6.1"},
    {"apache-kafka-java", "3.7.0"},
    {"confluent-kafka-python", "2.3.0"},
    {"unknown", "unknown"},
};

static const char *const tls_ciphers[] = {
    "TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256",
};

/* One generator run: the random source, where connection ids go, and the
 * table every other string goes to, with one hint per field as an encoder
 * keeps them (consecutive rows often repeat a field's string). */
typedef struct gen {
    rng g;
    kcp_arena *arena;
    kcp_strtab *strings;
    struct {
        int32_t listener, principal, mechanism, local_host, client_id, sw_name,
            sw_version, close_reason, tls_protocol, tls_cipher, subject, issuer, serial;
    } hint;
} gen;

/* Formats into buf (size bytes); *out views it. 0 or KCP_ERR_LENGTH. */
static int vformat(char *buf, size_t size, kcp_str *out, const char *fmt, va_list ap)
{
    int n = vsnprintf(buf, size, fmt, ap);
    if (n < 0 || (size_t)n >= size)
        return KCP_ERR_LENGTH;
    out->ptr = buf;
    out->len = n;
    return 0;
}

#if defined(__GNUC__)
#define PRINTF_LIKE(fmt_arg) __attribute__((format(printf, fmt_arg, fmt_arg + 1)))
#else
#define PRINTF_LIKE(fmt_arg)
#endif

/* Formats into a fresh arena string. */
static int arena_printf(kcp_arena *a, kcp_str *out, const char *fmt, ...) PRINTF_LIKE(3);

static int arena_printf(kcp_arena *a, kcp_str *out, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int rc = vformat(tmp, sizeof tmp, out, fmt, ap);
    va_end(ap);
    if (rc)
        return rc;
    char *p = kcp_arena_memdup(a, tmp, (size_t)out->len);
    if (!p)
        return KCP_ERR_NOMEM;
    out->ptr = p;
    return 0;
}

/* Sets *index to s's entry in the table (-1 for a null s). 0 or KCP_ERR_NOMEM. */
static int put_str(gen *g, int32_t *index, int32_t *hint, kcp_str s)
{
    int32_t i = kcp_strtab_add_hint(g->strings, s, hint);
    if (i < -1)
        return i;
    *index = i;
    return 0;
}

static int put_cstr(gen *g, int32_t *index, int32_t *hint, const char *s)
{
    return put_str(g, index, hint, kcp_str_c(s));
}

/* put_str() of a formatted string; the table keeps its own copy. */
static int put_printf(gen *g, int32_t *index, int32_t *hint, const char *fmt, ...) PRINTF_LIKE(4);

static int put_printf(gen *g, int32_t *index, int32_t *hint, const char *fmt, ...)
{
    char tmp[256];
    kcp_str s;
    va_list ap;
    va_start(ap, fmt);
    int rc = vformat(tmp, sizeof tmp, &s, fmt, ap);
    va_end(ap);
    return rc ? rc : put_str(g, index, hint, s);
}

/* Java's InetAddress.getHostAddress() writes IPv6 uncompressed, so the
 * broker's connection ids do too. The client's address is formatted into
 * buf (size bytes). */
static int client_address(rng *g, bool ipv6, char *buf, size_t size, kcp_str *client,
                          kcp_str *local)
{
    /* Drawn one by one: the order of evaluating printf's arguments is
     * unspecified, and the data must not depend on the compiler. */
    uint32_t x = rng_below(g, 40), y = rng_below(g, 0x10000), z = rng_below(g, 0xffff);
    int n;
    if (ipv6) {
        *local = kcp_str_c("fd00:10:0:0:0:0:0:12");
        n = snprintf(buf, size, "fd00:10:%x:0:0:0:%x:%x", 1 + x, y, 1 + z);
    } else {
        *local = kcp_str_c("10.0.0.12");
        n = snprintf(buf, size, "10.%u.%u.%u", 1 + x % 8, y % 256, 1 + z % 254);
    }
    if (n < 0 || (size_t)n >= size)
        return KCP_ERR_LENGTH;
    client->ptr = buf;
    client->len = n;
    return 0;
}

/* SASL_SSL connections carry what the TLS handshake negotiated; some also
 * present a client certificate. */
static int set_tls(gen *g, kcp_describe_connections_response_connection *c, const char *service)
{
    bool tls13 = rng_pct(&g->g, 85);
    int rc = put_cstr(g, &c->tls_protocol_index, &g->hint.tls_protocol,
                      tls13 ? "TLSv1.3" : "TLSv1.2");
    if (rc == 0)
        rc = put_cstr(g, &c->tls_cipher_index, &g->hint.tls_cipher,
                      tls13 ? PICK(&g->g, tls_ciphers) : "ECDHE-RSA-AES256-GCM-SHA384");
    if (rc || !rng_pct(&g->g, 40))
        return rc;
    rc = put_cstr(g, &c->peer_certificate_issuer_index, &g->hint.issuer,
                  "CN=Example Internal CA,O=Example Corp,C=US");
    if (rc == 0)
        rc = put_printf(g, &c->peer_certificate_subject_index, &g->hint.subject,
                        "CN=svc-%s,OU=platform,O=Example Corp,C=US", service);
    if (rc == 0)
        rc = put_printf(g, &c->peer_certificate_serial_index, &g->hint.serial, "%016llx",
                        (unsigned long long)rng_next(&g->g));
    return rc;
}

static int make_connection(gen *g, kcp_describe_connections_response_connection *c,
                           uint64_t index)
{
    kcp_describe_connections_response_connection_init(c);
    bool tls = rng_pct(&g->g, 10);
    const char *service = PICK(&g->g, services);
    const char *role = PICK(&g->g, roles);
    unsigned instance = 1 + rng_below(&g->g, 24);
    const software *sw = &PICK(&g->g, softwares);
    int rc;

    /* A few connections are still in the SASL exchange or already closing. */
    uint32_t roll = rng_below(&g->g, 1000);
    c->state = roll < 8 ? 0 : roll < 20 ? 2 : 1;

    if ((rc = put_cstr(g, &c->listener_name_index, &g->hint.listener,
                       tls ? "SASL_SSL" : "SASL_PLAINTEXT")) != 0)
        return rc;
    c->security_protocol = tls ? 3 : 2;
    c->local_port = tls ? 9093 : 9092;
    c->client_port = (uint16_t)(32768 + rng_below(&g->g, 28232));
    char host[64];
    kcp_str client_host, local_host;
    if ((rc = client_address(&g->g, rng_pct(&g->g, 12), host, sizeof host, &client_host,
                             &local_host)) != 0 ||
        (rc = arena_printf(g->arena, &c->client_host, "%.*s", (int)client_host.len,
                           client_host.ptr)) != 0 ||
        (rc = put_str(g, &c->local_host_index, &g->hint.local_host, local_host)) != 0)
        return rc;
    rc = arena_printf(g->arena, &c->connection_id, "%.*s:%u-%.*s:%u-%u-%llu",
                      (int)local_host.len, local_host.ptr, (unsigned)c->local_port,
                      (int)client_host.len, client_host.ptr, (unsigned)c->client_port,
                      rng_below(&g->g, 8), (unsigned long long)index);
    if (rc)
        return rc;

    c->connected_at_ms = BROKER_TIME_MS - (int64_t)(rng_next(&g->g) % (uint64_t)(14 * DAY_MS));
    if ((rc = put_cstr(g, &c->client_software_name_index, &g->hint.sw_name, sw->name)) != 0 ||
        (rc = put_cstr(g, &c->client_software_version_index, &g->hint.sw_version,
                       sw->version)) != 0)
        return rc;
    if (c->state == 0) {
        if ((rc = put_cstr(g, &c->principal_index, &g->hint.principal, "User:ANONYMOUS")) != 0)
            return rc;
        c->sasl_mechanism_index = -1;
        c->authenticated_at_ms = -1;
        c->connected_at_ms = BROKER_TIME_MS - rng_below(&g->g, 2000);
        c->last_activity_at_ms = c->connected_at_ms + rng_below(&g->g, 50);
        c->requests = 1 + rng_below(&g->g, 3);
        c->bytes_in = 60 * c->requests;
        c->bytes_out = 400 * c->requests;
        return tls ? set_tls(g, c, service) : 0;
    }

    if ((rc = put_printf(g, &c->principal_index, &g->hint.principal, "User:svc-%s-%u", service,
                         1 + rng_below(&g->g, 12))) != 0)
        return rc;
    uint32_t mech = rng_below(&g->g, 100);
    if ((rc = put_cstr(g, &c->sasl_mechanism_index, &g->hint.mechanism,
                       mech < 70   ? "SCRAM-SHA-256"
                       : mech < 95 ? "PLAIN"
                                   : "SCRAM-SHA-512")) != 0)
        return rc;
    /* client.id as services usually set it: service, role and instance. */
    if ((rc = put_printf(g, &c->client_id_index, &g->hint.client_id, "%s-%s-%u", service, role,
                         instance)) != 0)
        return rc;
    c->authenticated_at_ms = c->connected_at_ms + 5 + rng_below(&g->g, 300);
    c->last_activity_at_ms = BROKER_TIME_MS - rng_below(&g->g, 30000);
    c->requests = rng_log(&g->g, 8);
    c->bytes_in = c->requests * (40 + rng_below(&g->g, 2000));
    c->bytes_out = c->requests * (60 + rng_below(&g->g, 4000));
    if (c->state == 2) {
        if ((rc = put_cstr(g, &c->close_reason_index, &g->hint.close_reason,
                           rng_pct(&g->g, 50) ? "idle timeout" : "re-authentication expired")) != 0)
            return rc;
        c->closed_at_ms = BROKER_TIME_MS - rng_below(&g->g, 100);
    }
    /* connections.max.reauth.ms is set on the TLS listener only. */
    if (tls) {
        c->session_expires_at_ms = c->authenticated_at_ms + 3600000;
        return set_tls(g, c, service);
    }
    return 0;
}

int bench_make_response(kcp_describe_connections_response *m, kcp_strtab *strings, int32_t n,
                        uint64_t seed)
{
    kcp_describe_connections_response_init(m);
    kcp_strtab_init(strings);
    m->broker_time_ms = BROKER_TIME_MS;
    m->total_count = n;
    m->connections.v = kcp_arena_alloc(&m->arena, (size_t)n * sizeof *m->connections.v);
    if (!m->connections.v)
        return KCP_ERR_NOMEM;
    m->connections.n = n;
    gen g = {.g = {seed}, .arena = &m->arena, .strings = strings};
    memset(&g.hint, 0xff, sizeof g.hint); /* every hint -1: nothing seen yet */
    /* Apache's connection index counts every accept since the broker
     * started; the registry lists connections in that order, and a broker
     * adds each one's strings to the table as it writes the row. */
    uint64_t index = 100000 + rng_below(&g.g, 1000000);
    for (int32_t i = 0; i < n; i++) {
        index += 1 + rng_below(&g.g, 20);
        int rc = make_connection(&g, &m->connections.v[i], index);
        if (rc)
            return rc;
    }
    m->strings.n = strings->n;
    m->strings.v = strings->v;
    return 0;
}
