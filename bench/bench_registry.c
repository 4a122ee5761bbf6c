/*
 * bench_registry: the broker plugin's costs, each against a baseline
 * measured in the same run.
 *
 * - hot path: request+response events on open connections, two threads on
 *   two shards, per event vs a relaxed atomic add on a private counter;
 * - accept + authenticate + close of one connection (ns/op, reported);
 * - allocation on the hot path (bytes, must be 0);
 * - snapshot + encode of 100k connections vs memcpy of the encoded bytes,
 *   and the longest a concurrent hot-path event waited meanwhile;
 * - registry bytes per connection beyond its strings (from the allocator).
 *
 * Usage: bench_registry [--json] [--connections N] [--repetitions N]
 */
#include "bench_report.h"
#include "kcb.h"
#include "kcb_describe.h"

#include <malloc.h>
#include <sys/resource.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOT_EVENTS 4000000

static volatile uint64_t sink;
static void *(*volatile copy_bytes)(void *, const void *, size_t) = memcpy;

typedef struct hot_arg {
    kcb_conn *conn;
    _Atomic uint64_t *private_counter;
    pthread_barrier_t *start;
    int64_t elapsed_ns;
} hot_arg;

static void *hot_events(void *p)
{
    hot_arg *a = p;
    pthread_barrier_wait(a->start);
    int64_t t0 = bench_now_ns();
    for (int i = 0; i < HOT_EVENTS / 2; i++) {
        kcb_conn_request(a->conn, 3, "orders-app", 10, 120, 1000 + i);
        kcb_conn_response(a->conn, 400, 1000 + i);
    }
    a->elapsed_ns = bench_now_ns() - t0;
    return NULL;
}

static void *atomic_adds(void *p)
{
    hot_arg *a = p;
    pthread_barrier_wait(a->start);
    int64_t t0 = bench_now_ns();
    for (int i = 0; i < HOT_EVENTS; i++)
        atomic_fetch_add_explicit(a->private_counter, 1, memory_order_relaxed);
    a->elapsed_ns = bench_now_ns() - t0;
    return NULL;
}

/* Per-event nanoseconds of two threads running fn side by side. */
static double two_threads(void *(*fn)(void *), kcb_conn *c0, kcb_conn *c1)
{
    static _Alignas(64) _Atomic uint64_t counters[16];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    hot_arg a[2] = {{c0, &counters[0], &start, 0}, {c1, &counters[8], &start, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, fn, &a[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    sink += atomic_load(&counters[0]);
    int64_t slowest = a[0].elapsed_ns > a[1].elapsed_ns ? a[0].elapsed_ns : a[1].elapsed_ns;
    return (double)slowest / HOT_EVENTS;
}

static kcb_registry *new_registry(int32_t max_page)
{
    kcb_config cfg = {.struct_size = sizeof cfg, .shards = 2, .super_users = "User:admin",
                      .max_page = max_page, .default_page = max_page};
    char err[200];
    kcb_registry *reg = kcb_registry_new(NULL, &cfg, err, sizeof err);
    if (!reg) {
        fprintf(stderr, "bench_registry: %s\n", err);
        exit(1);
    }
    return reg;
}

#define PRINCIPALS 97

/* The string payload a registry of these connections must hold, with NULs:
 * each connection's id (which contains both addresses, so the registry
 * keeps no other copy of them) and, once each, the values connections share
 * and the registry interns (listener, principal, mechanism, client software,
 * client id). Counting a shared value once per connection would hide the
 * per-connection pointers and bookkeeping this figure is meant to show. */
typedef struct string_tally {
    size_t bytes;
    bool shared_counted;
    bool principal_counted[PRINCIPALS];
} string_tally;

static const char *const LISTENER = "SASL_SSL", *const MECHANISM = "SCRAM-SHA-512",
                  *const SW_NAME = "librdkafka", *const SW_VERSION = "2.0.2",
                  *const CLIENT_ID = "orders-consumer";

/* A realistic connection: SASL_SSL, authenticated, librdkafka, a client id. */
static kcb_conn *open_conn(kcb_registry *reg, uint32_t shard, uint32_t i, string_tally *tally)
{
    char peer[32], principal[32];
    snprintf(peer, sizeof peer, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    snprintf(principal, sizeof principal, "User:svc-%u", i % PRINCIPALS);
    kcb_accept_info info = {.struct_size = sizeof info, .shard = shard, .listener_name = LISTENER,
                            .security_protocol = KCB_SASL_SSL, .local_host = "127.0.0.1",
                            .local_port = 9093, .peer_host = peer, .peer_port = (uint16_t)(1024 + i % 60000),
                            .now_ms = 1000};
    kcb_conn *c = kcb_conn_accepted(reg, &info, NULL, 0);
    kcb_conn_authenticated(c, principal, MECHANISM, 3600000, 1001);
    kcb_conn_client_software(c, SW_NAME, SW_VERSION);
    kcb_conn_request(c, 3, CLIENT_ID, strlen(CLIENT_ID), 100, 1002);
    if (tally) {
        tally->bytes += strlen(kcb_conn_id(c)) + 1;
        if (!tally->principal_counted[i % PRINCIPALS]) {
            tally->principal_counted[i % PRINCIPALS] = true;
            tally->bytes += strlen(principal) + 1;
        }
        if (!tally->shared_counted) {
            tally->shared_counted = true;
            const char *shared[] = {LISTENER, MECHANISM, SW_NAME, SW_VERSION, CLIENT_ID};
            for (size_t k = 0; k < sizeof shared / sizeof shared[0]; k++)
                tally->bytes += strlen(shared[k]) + 1;
        }
    }
    return c;
}

typedef struct stall_arg {
    kcb_conn *conn;
    _Atomic int stop;
    int64_t worst_ns;
    long voluntary_waits; /* times the probe thread blocked */
    uint64_t events;
} stall_arg;

/* Runs hot-path events back to back and records the longest single one. */
static void *stall_probe(void *p)
{
    stall_arg *a = p;
    /* Waiting on a lock is a voluntary context switch; being pre-empted by
     * another process on a busy machine is not. Counting the first tells
     * blocking apart from scheduler noise in the worst event time. */
    struct rusage before, after;
    getrusage(RUSAGE_THREAD, &before);
    while (!atomic_load_explicit(&a->stop, memory_order_relaxed)) {
        int64_t t0 = bench_now_ns();
        kcb_conn_request(a->conn, 3, CLIENT_ID, strlen(CLIENT_ID), 100, 2000);
        int64_t dt = bench_now_ns() - t0;
        if (dt > a->worst_ns)
            a->worst_ns = dt;
        a->events++;
    }
    getrusage(RUSAGE_THREAD, &after);
    a->voluntary_waits = after.ru_nvcsw - before.ru_nvcsw;
    return NULL;
}

/* One describe of every connection, from the registry to the encoded body
 * a host would send. */
static double snapshot_encode_ms(kcb_registry *reg, size_t *len_out, uint8_t **wire_out)
{
    kcp_describe_connections_request req;
    kcp_describe_connections_request_init(&req);
    uint8_t *wire;
    size_t len;
    char err[256];
    int64_t t0 = bench_now_ns();
    if (kcb__describe_encoded(reg, "User:admin", &req, 0, KCB_BODY_SPLICED, &wire, &len, err, sizeof err)) {
        fprintf(stderr, "bench_registry: %s\n", err);
        exit(1);
    }
    int64_t dt = bench_now_ns() - t0;
    kcp_describe_connections_request_free(&req);
    *len_out = len;
    free(*wire_out);
    *wire_out = wire;
    return dt / 1e6;
}

int main(int argc, char **argv)
{
    bool json = false;
    int connections = 100000, reps = 7;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "--connections") == 0 && i + 1 < argc)
            connections = atoi(argv[++i]);
        else if (strcmp(argv[i], "--repetitions") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_registry [--json] [--connections N] [--repetitions N]\n");
            return 2;
        }
    }
    if (connections < 1 || reps < 1 || reps > 100) {
        fprintf(stderr, "bench_registry: --connections and --repetitions must be positive (repetitions <= 100)\n");
        return 2;
    }
    bench_figure figs[8];
    size_t nf = 0;
    double v[100], b[100];

    /* Hot path vs relaxed atomic add, two threads on two shards. */
    kcb_registry *reg = new_registry(connections);
    kcb_conn *c0 = open_conn(reg, 0, 1, NULL), *c1 = open_conn(reg, 1, 2, NULL);
    two_threads(hot_events, c0, c1); /* warm-up */
    for (int r = 0; r < reps; r++) {
        v[r] = two_threads(hot_events, c0, c1);
        b[r] = two_threads(atomic_adds, c0, c1);
    }
    figs[nf++] = (bench_figure){"hot path event (2 threads, 2 shards)", "ns", bench_median(v, (size_t)reps),
                                "relaxed atomic add", bench_median(b, (size_t)reps), 3.0};

    /* No allocation on the hot path: the allocator's bytes in use stay put. */
    size_t before = mallinfo2().uordblks;
    for (int i = 0; i < 1000000; i++)
        kcb_conn_request(c0, 1, "orders-app", 10, 100, 5000 + i);
    size_t after = mallinfo2().uordblks;
    figs[nf++] = (bench_figure){"hot path heap growth over 1M events", "bytes", (double)(after - before),
                                "zero", 1, 0.0};

    /* Accept + authenticate + close. */
    for (int r = 0; r < reps; r++) {
        int n = 20000;
        int64_t t0 = bench_now_ns();
        for (int i = 0; i < n; i++) {
            kcb_conn *c = open_conn(reg, 0, (uint32_t)i, NULL);
            kcb_conn_closed(c, KCB_CLOSE_CLIENT, 3000);
        }
        v[r] = (double)(bench_now_ns() - t0) / n;
        int64_t t1 = bench_now_ns();
        for (int i = 0; i < n; i++) {
            void *p = malloc(256);
            sink += (uintptr_t)p;
            free(p);
        }
        b[r] = (double)(bench_now_ns() - t1) / n;
    }
    figs[nf++] = (bench_figure){"accept+authenticate+close", "ns", bench_median(v, (size_t)reps),
                                "malloc+free 256 B", bench_median(b, (size_t)reps), -1.0};
    kcb_registry_free(reg);

    /* Registry bytes per connection beyond its strings. */
    reg = new_registry(connections);
    string_tally strings = {0};
    size_t base = mallinfo2().uordblks;
    kcb_conn *probe = NULL;
    for (int i = 0; i < connections; i++) {
        kcb_conn *c = open_conn(reg, (uint32_t)(i % 2), (uint32_t)i, &strings);
        if (i == 0)
            probe = c;
    }
    double per_conn = ((double)(mallinfo2().uordblks - base) - (double)strings.bytes) / connections;
    figs[nf++] = (bench_figure){"registry bytes per connection beyond strings", "bytes", per_conn,
                                "256-byte budget", 256, 1.0};

    /* Snapshot + encode vs memcpy, with a hot-path thread running. */
    uint8_t *wire = NULL, *copy = NULL;
    size_t len = 0;
    /* Warm-up: the first few describes also settle glibc's malloc
     * thresholds (page faults in each), which is not the steady state. */
    for (int w = 0; w < 4; w++)
        snapshot_encode_ms(reg, &len, &wire);
    copy = malloc(len);
    stall_arg sa = {.conn = probe};
    pthread_t st;
    pthread_create(&st, NULL, stall_probe, &sa);
    for (int r = 0; r < reps; r++) {
        v[r] = snapshot_encode_ms(reg, &len, &wire);
        int64_t t0 = bench_now_ns();
        copy_bytes(copy, wire, len);
        b[r] = (bench_now_ns() - t0) / 1e6;
        sink += copy[len / 2];
    }
    atomic_store(&sa.stop, 1);
    pthread_join(st, NULL);
    figs[nf++] = (bench_figure){"snapshot+encode of all connections", "ms", bench_median(v, (size_t)reps),
                                "memcpy of the encoded bytes", bench_median(b, (size_t)reps), 4.0};
    figs[nf++] = (bench_figure){"worst hot-path event during snapshots", "ms", sa.worst_ns / 1e6,
                                "1 ms budget", 1.0, 1.0};
    figs[nf++] = (bench_figure){"hot-path thread blocked during snapshots", "times", (double)sa.voluntary_waits,
                                "zero", 1, 0.0};
    free(wire);
    free(copy);
    kcb_registry_free(reg);

    if (json)
        bench_print_json(figs, nf);
    else {
        printf("bench_registry: %d connections, %d repetitions (median)\n", connections, reps);
        bench_print_text(figs, nf);
    }
    return 0;
}
