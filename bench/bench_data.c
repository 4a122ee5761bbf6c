/* Builds a DescribeConnections answer that looks like a busy production
 * broker: the mix of listeners, mechanisms, clients and counters decides how
 * large the strings and tagged sections are, so it is what the size and
 * speed figures depend on. */
#include "bench_data.h"

#include <stdarg.h>
#include <stdio.h>

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

/* Formats into a fresh arena string. */
static int arena_printf(kcp_arena *a, kcp_str *out, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int arena_printf(kcp_arena *a, kcp_str *out, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return KCP_ERR_LENGTH;
    char *p = kcp_arena_memdup(a, tmp, (size_t)n);
    if (!p)
        return KCP_ERR_NOMEM;
    out->ptr = p;
    out->len = n;
    return 0;
}

/* Java's InetAddress.getHostAddress() writes IPv6 uncompressed, so the
 * broker's connection ids do too. */
static int client_address(rng *g, kcp_arena *a, bool ipv6, kcp_str *client, kcp_str *local)
{
    /* Drawn one by one: the order of evaluating printf's arguments is
     * unspecified, and the data must not depend on the compiler. */
    uint32_t x = rng_below(g, 40), y = rng_below(g, 0x10000), z = rng_below(g, 0xffff);
    if (ipv6) {
        *local = kcp_str_c("fd00:10:0:0:0:0:0:12");
        return arena_printf(a, client, "fd00:10:%x:0:0:0:%x:%x", 1 + x, y, 1 + z);
    }
    *local = kcp_str_c("10.0.0.12");
    return arena_printf(a, client, "10.%u.%u.%u", 1 + x % 8, y % 256, 1 + z % 254);
}

/* SASL_SSL connections carry what the TLS handshake negotiated; some also
 * present a client certificate. */
static int set_tls(rng *g, kcp_arena *a, kcp_describe_connections_response_connection *c,
                   const char *service)
{
    c->tls_protocol = kcp_str_c(rng_pct(g, 85) ? "TLSv1.3" : "TLSv1.2");
    c->tls_cipher = c->tls_protocol.len == 7 && c->tls_protocol.ptr[6] == '3'
                        ? kcp_str_c(PICK(g, tls_ciphers))
                        : kcp_str_c("ECDHE-RSA-AES256-GCM-SHA384");
    if (!rng_pct(g, 40))
        return 0;
    c->peer_certificate_issuer = kcp_str_c("CN=Example Internal CA,O=Example Corp,C=US");
    int rc = arena_printf(a, &c->peer_certificate_subject, "CN=svc-%s,OU=platform,O=Example Corp,C=US",
                          service);
    if (rc == 0)
        rc = arena_printf(a, &c->peer_certificate_serial, "%016llx",
                          (unsigned long long)rng_next(g));
    return rc;
}

static int make_connection(rng *g, kcp_arena *a, kcp_describe_connections_response_connection *c,
                           uint64_t index)
{
    kcp_describe_connections_response_connection_init(c);
    bool tls = rng_pct(g, 10);
    const char *service = PICK(g, services);
    const char *role = PICK(g, roles);
    unsigned instance = 1 + rng_below(g, 24);
    const software *sw = &PICK(g, softwares);
    int rc;

    /* A few connections are still in the SASL exchange or already closing. */
    uint32_t roll = rng_below(g, 1000);
    c->state = roll < 8 ? 0 : roll < 20 ? 2 : 1;

    c->listener_name = kcp_str_c(tls ? "SASL_SSL" : "SASL_PLAINTEXT");
    c->security_protocol = tls ? 3 : 2;
    c->local_port = tls ? 9093 : 9092;
    c->client_port = (uint16_t)(32768 + rng_below(g, 28232));
    if ((rc = client_address(g, a, rng_pct(g, 12), &c->client_host, &c->local_host)) != 0)
        return rc;
    rc = arena_printf(a, &c->connection_id, "%.*s:%u-%.*s:%u-%u-%llu", (int)c->local_host.len,
                      c->local_host.ptr, (unsigned)c->local_port, (int)c->client_host.len,
                      c->client_host.ptr, (unsigned)c->client_port, rng_below(g, 8),
                      (unsigned long long)index);
    if (rc)
        return rc;

    c->connected_at_ms = BROKER_TIME_MS - (int64_t)(rng_next(g) % (uint64_t)(14 * DAY_MS));
    c->client_software_name = kcp_str_c(sw->name);
    c->client_software_version = kcp_str_c(sw->version);
    if (c->state == 0) {
        c->principal = kcp_str_c("User:ANONYMOUS");
        c->sasl_mechanism = KCP_STR_NULL;
        c->authenticated_at_ms = -1;
        c->connected_at_ms = BROKER_TIME_MS - rng_below(g, 2000);
        c->last_activity_at_ms = c->connected_at_ms + rng_below(g, 50);
        c->requests = 1 + rng_below(g, 3);
        c->bytes_in = 60 * c->requests;
        c->bytes_out = 400 * c->requests;
        return tls ? set_tls(g, a, c, service) : 0;
    }

    if ((rc = arena_printf(a, &c->principal, "User:svc-%s-%u", service, 1 + rng_below(g, 12))) != 0)
        return rc;
    uint32_t mech = rng_below(g, 100);
    c->sasl_mechanism = kcp_str_c(mech < 70 ? "SCRAM-SHA-256" : mech < 95 ? "PLAIN" : "SCRAM-SHA-512");
    /* client.id as services usually set it: service, role and instance. */
    if ((rc = arena_printf(a, &c->client_id, "%s-%s-%u", service, role, instance)) != 0)
        return rc;
    c->authenticated_at_ms = c->connected_at_ms + 5 + rng_below(g, 300);
    c->last_activity_at_ms = BROKER_TIME_MS - rng_below(g, 30000);
    c->requests = rng_log(g, 8);
    c->bytes_in = c->requests * (40 + rng_below(g, 2000));
    c->bytes_out = c->requests * (60 + rng_below(g, 4000));
    if (c->state == 2) {
        c->close_reason = kcp_str_c(rng_pct(g, 50) ? "idle timeout" : "re-authentication expired");
        c->closed_at_ms = BROKER_TIME_MS - rng_below(g, 100);
    }
    /* connections.max.reauth.ms is set on the TLS listener only. */
    if (tls) {
        c->session_expires_at_ms = c->authenticated_at_ms + 3600000;
        return set_tls(g, a, c, service);
    }
    return 0;
}

int bench_make_response(kcp_describe_connections_response *m, int32_t n, uint64_t seed)
{
    kcp_describe_connections_response_init(m);
    m->broker_time_ms = BROKER_TIME_MS;
    m->total_count = n;
    m->connections.v = kcp_arena_alloc(&m->arena, (size_t)n * sizeof *m->connections.v);
    if (!m->connections.v)
        return KCP_ERR_NOMEM;
    m->connections.n = n;
    rng g = {seed};
    /* Apache's connection index counts every accept since the broker
     * started; the registry lists connections in that order, and copies
     * each one's strings out in the same order. */
    uint64_t index = 100000 + rng_below(&g, 1000000);
    for (int32_t i = 0; i < n; i++) {
        index += 1 + rng_below(&g, 20);
        int rc = make_connection(&g, &m->arena, &m->connections.v[i], index);
        if (rc)
            return rc;
    }
    return 0;
}
