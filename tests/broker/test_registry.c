/* Registry lifecycle, filters, authorization, paging, history and summary,
 * driven through the public ABI (include/kcb.h) with encoded requests. */
#include "broker_test_util.h"

#include <pthread.h>

static kcb_conn *accept_sasl(test_env *e, uint32_t shard, const char *peer, uint16_t port)
{
    return test_accept(e, shard, "SASL_PLAINTEXT", KCB_SASL_PLAINTEXT, peer, port);
}

static void lifecycle_of_a_sasl_connection(void **state)
{
    test_env *e = *state;
    kcb_conn *c = accept_sasl(e, 0, "10.1.2.3", 50000);
    assert_non_null(c);
    assert_string_equal(kcb_conn_id(c), "127.0.0.1:9092-10.1.2.3:50000-0-1");

    test_page p;
    test_describe(e, ADMIN, NULL, &p);
    assert_int_equal(p.resp.connections.n, 1);
    row_t *r = &p.resp.connections.v[0];
    assert_int_equal(r->state, KCB_STATE_AUTHENTICATING);
    assert_true(str_eq(r->principal, "User:ANONYMOUS"));
    assert_true(str_eq(r->client_software_name, "unknown"));
    assert_int_equal(r->authenticated_at_ms, -1);
    test_page_free(&p);

    e->now = 2000;
    kcb_conn_client_software(c, "librdkafka", "2.0.2");
    kcb_conn_sasl_mechanism(c, "SCRAM-SHA-256");
    kcb_conn_authenticated(c, "User:alice", "SCRAM-SHA-256", 60000, e->now);
    kcb_conn_request(c, 3, "orders-app", 10, 100, 2100);
    kcb_conn_response(c, 250, 2101);
    kcb_conn_request(c, 3, "orders-app", 10, 50, 2200);

    test_describe(e, ADMIN, NULL, &p);
    r = &p.resp.connections.v[0];
    assert_int_equal(r->state, KCB_STATE_OPEN);
    assert_true(str_eq(r->principal, "User:alice"));
    assert_true(str_eq(r->sasl_mechanism, "SCRAM-SHA-256"));
    assert_true(str_eq(r->client_id, "orders-app"));
    assert_true(str_eq(r->client_software_name, "librdkafka"));
    assert_true(str_eq(r->client_software_version, "2.0.2"));
    assert_true(str_eq(r->client_host, "10.1.2.3"));
    assert_int_equal(r->client_port, 50000);
    assert_int_equal(r->requests, 2);
    assert_int_equal(r->bytes_in, 150);
    assert_int_equal(r->bytes_out, 250);
    assert_int_equal(r->authenticated_at_ms, 2000);
    assert_int_equal(r->last_activity_at_ms, 2200);
    assert_int_equal(r->session_expires_at_ms, 62000);
    assert_int_equal(r->close_reason.len, -1);
    test_page_free(&p);

    /* KIP-368 re-authentication moves the expiry and keeps the record. */
    e->now = 50000;
    kcb_conn_authenticated(c, "User:alice", "SCRAM-SHA-256", 60000, e->now);
    test_describe(e, ADMIN, NULL, &p);
    assert_int_equal(p.resp.connections.v[0].session_expires_at_ms, 110000);
    test_page_free(&p);

    kcb_conn_closing(c, KCB_CLOSE_IDLE_TIMEOUT);
    test_describe(e, ADMIN, NULL, &p);
    assert_int_equal(p.resp.connections.v[0].state, KCB_STATE_CLOSING);
    assert_true(str_eq(p.resp.connections.v[0].close_reason, "idle timeout"));
    test_page_free(&p);

    kcb_conn_closed(c, KCB_CLOSE_NONE, 50001);
    test_describe(e, ADMIN, NULL, &p);
    assert_int_equal(p.resp.connections.n, 0);
    test_page_free(&p);

    test_describe(e, ADMIN, "closed", &p);
    assert_int_equal(p.resp.connections.n, 1);
    r = &p.resp.connections.v[0];
    assert_int_equal(r->state, KCB_STATE_CLOSED);
    assert_true(str_eq(r->close_reason, "idle timeout"));
    assert_int_equal(r->closed_at_ms, 50001);
    assert_true(str_eq(r->principal, "User:alice"));
    test_page_free(&p);

    kcb_stats st;
    kcb_registry_stats(e->reg, &st);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.closed, 1);
    assert_int_equal(st.open, 0);
}

static void close_before_authentication_is_recorded(void **state)
{
    test_env *e = *state;
    kcb_conn *c = accept_sasl(e, 0, "10.0.0.9", 40000);
    kcb_conn_sasl_mechanism(c, "PLAIN");
    kcb_conn_auth_failed(c, 1500);
    kcb_conn_closed(c, KCB_CLOSE_AUTH_FAILED, 1501);
    test_page p;
    test_describe(e, ADMIN, "closed", &p);
    assert_int_equal(p.resp.connections.n, 1);
    assert_true(str_eq(p.resp.connections.v[0].close_reason, "authentication failed"));
    assert_true(str_eq(p.resp.connections.v[0].principal, "User:ANONYMOUS"));
    assert_int_equal(p.resp.connections.v[0].authenticated_at_ms, -1);
    test_page_free(&p);
    kcb_stats st;
    kcb_registry_stats(e->reg, &st);
    assert_int_equal(st.auth_failures, 1);
}

static void plaintext_and_tls_connections_start_open(void **state)
{
    test_env *e = *state;
    kcb_conn *c = test_accept(e, 1, "SSL", KCB_SSL, "::1", 40001);
    kcb_conn_tls(c, "TLSv1.3", "TLS_AES_256_GCM_SHA384", "CN=client,O=Example", "CN=ca", "1a2b");
    kcb_conn_authenticated(c, "User:CN=client,O=Example", "MTLS", 0, 1000);
    test_page p;
    test_describe(e, ADMIN, NULL, &p);
    row_t *r = &p.resp.connections.v[0];
    assert_int_equal(r->state, KCB_STATE_OPEN);
    assert_int_equal(r->security_protocol, KCB_SSL);
    assert_true(str_eq(r->tls_protocol, "TLSv1.3"));
    assert_true(str_eq(r->tls_cipher, "TLS_AES_256_GCM_SHA384"));
    assert_true(str_eq(r->peer_certificate_subject, "CN=client,O=Example"));
    assert_true(str_eq(r->peer_certificate_issuer, "CN=ca"));
    assert_true(str_eq(r->peer_certificate_serial, "1a2b"));
    assert_true(str_eq(r->sasl_mechanism, "MTLS"));
    assert_int_equal(r->session_expires_at_ms, -1);
    assert_true(strstr(kcb_conn_id(c), "127.0.0.1:9092-::1:40001-1-") == kcb_conn_id(c));
    test_page_free(&p);
}

/* Six connections with distinct traits, for the filter tests. */
static void add_population(test_env *e)
{
    struct {
        const char *peer, *principal, *listener, *sw, *ver, *client_id;
        int64_t last;
    } pop[] = {
        {"10.0.0.1", "User:alice", "SASL_PLAINTEXT", "librdkafka", "2.0.2", "a1", 1000},
        {"10.0.0.2", "User:alice", "SASL_SSL", "librdkafka", "2.3.0", "a2", 9000},
        {"10.0.1.1", "User:bob", "SASL_PLAINTEXT", NULL, NULL, "b1", 1000},
        {"192.168.1.5", "User:bob", "SASL_SSL", "confluent-kafka-python", "1.7.0", NULL, 9500},
        {"2001:db8::7", "User:carol", "SASL_SSL", "librdkafka", "2.0.2", "c1", 5000},
        {"::ffff:10.0.0.3", "User:carol", "SASL_PLAINTEXT", NULL, NULL, "c2", 1000},
    };
    for (size_t i = 0; i < sizeof pop / sizeof pop[0]; i++) {
        kcb_conn *c = test_accept(e, (uint32_t)(i % 2), pop[i].listener,
                                  strcmp(pop[i].listener, "SASL_SSL") ? KCB_SASL_PLAINTEXT : KCB_SASL_SSL,
                                  pop[i].peer, (uint16_t)(40000 + i));
        kcb_conn_authenticated(c, pop[i].principal, "PLAIN", 0, 900);
        kcb_conn_client_software(c, pop[i].sw, pop[i].ver);
        if (pop[i].client_id)
            kcb_conn_request(c, 3, pop[i].client_id, strlen(pop[i].client_id), 10, pop[i].last);
        else
            kcb_conn_response(c, 10, pop[i].last);
    }
    e->now = 10000;
}

static int count_matching(test_env *e, void (*set)(kcp_describe_connections_request *, kcp_arena *))
{
    kcp_describe_connections_request req;
    kcp_describe_connections_request_init(&req);
    set(&req, &req.arena);
    test_page p;
    test_describe_req(e, ADMIN, &req, &p);
    kcp_describe_connections_request_free(&req);
    assert_int_equal(p.resp.error_code, 0);
    int n = p.resp.connections.n;
    assert_int_equal(p.resp.total_count, n);
    test_page_free(&p);
    return n;
}

static void f_principal(kcp_describe_connections_request *r, kcp_arena *a) { test_strs(&r->principals.v, &r->principals.n, a, "User:bob", NULL); }
static void f_listener(kcp_describe_connections_request *r, kcp_arena *a) { test_strs(&r->listeners.v, &r->listeners.n, a, "SASL_SSL", NULL); }
static void f_cidr4(kcp_describe_connections_request *r, kcp_arena *a) { test_strs(&r->client_addresses.v, &r->client_addresses.n, a, "10.0.0.0/24", NULL); }
static void f_cidr6(kcp_describe_connections_request *r, kcp_arena *a) { test_strs(&r->client_addresses.v, &r->client_addresses.n, a, "2001:db8::/32", NULL); }
static void f_ip(kcp_describe_connections_request *r, kcp_arena *a) { test_strs(&r->client_addresses.v, &r->client_addresses.n, a, "192.168.1.5", NULL); }
static void f_sw_name(kcp_describe_connections_request *r, kcp_arena *a) { test_strs(&r->client_software.v, &r->client_software.n, a, "librdkafka", NULL); }
static void f_sw_ver(kcp_describe_connections_request *r, kcp_arena *a) { test_strs(&r->client_software.v, &r->client_software.n, a, "librdkafka/2.0.2", NULL); }
static void f_sw_unknown(kcp_describe_connections_request *r, kcp_arena *a) { test_strs(&r->client_software.v, &r->client_software.n, a, "unknown", NULL); }
static void f_client_id(kcp_describe_connections_request *r, kcp_arena *a) { test_strs(&r->client_ids.v, &r->client_ids.n, a, "a1", "c2", NULL); }
static void f_idle(kcp_describe_connections_request *r, kcp_arena *a) { (void)a; r->min_idle_ms = 5000; }
static void f_empty_list(kcp_describe_connections_request *r, kcp_arena *a) { r->principals.n = 0; (void)a; }
static void f_combined(kcp_describe_connections_request *r, kcp_arena *a)
{
    test_strs(&r->principals.v, &r->principals.n, a, "User:alice", "User:carol", NULL);
    test_strs(&r->client_software.v, &r->client_software.n, a, "librdkafka/2.0.2", NULL);
    test_strs(&r->listeners.v, &r->listeners.n, a, "SASL_PLAINTEXT", NULL);
}
static void f_states(kcp_describe_connections_request *r, kcp_arena *a)
{
    r->states.n = 1;
    r->states.v = kcp_arena_alloc(a, 1);
    r->states.v[0] = KCB_STATE_AUTHENTICATING;
}

static void each_filter_alone_and_combined(void **state)
{
    test_env *e = *state;
    add_population(e);
    assert_int_equal(count_matching(e, f_principal), 2);
    assert_int_equal(count_matching(e, f_listener), 3);
    assert_int_equal(count_matching(e, f_cidr4), 3); /* .1, .2 and the v4-mapped .3 */
    assert_int_equal(count_matching(e, f_cidr6), 1);
    assert_int_equal(count_matching(e, f_ip), 1);
    assert_int_equal(count_matching(e, f_sw_name), 3);
    assert_int_equal(count_matching(e, f_sw_ver), 2);
    assert_int_equal(count_matching(e, f_sw_unknown), 2);
    assert_int_equal(count_matching(e, f_client_id), 2);
    assert_int_equal(count_matching(e, f_idle), 4); /* last activity <= 5000 at now 10000 */
    assert_int_equal(count_matching(e, f_empty_list), 0);
    assert_int_equal(count_matching(e, f_states), 0);
    assert_int_equal(count_matching(e, f_combined), 1);
}

static void expect_invalid(test_env *e, void (*set)(kcp_describe_connections_request *, kcp_arena *),
                           const char *filter_name)
{
    kcp_describe_connections_request req;
    kcp_describe_connections_request_init(&req);
    set(&req, &req.arena);
    test_page p;
    test_describe_req(e, ADMIN, &req, &p);
    kcp_describe_connections_request_free(&req);
    assert_int_equal(p.resp.error_code, 42);
    assert_true(p.resp.error_message.len > 0);
    char msg[300];
    snprintf(msg, sizeof msg, "%.*s", p.resp.error_message.len, p.resp.error_message.ptr);
    if (!strstr(msg, filter_name))
        fail_msg("error '%s' does not name %s", msg, filter_name);
    assert_int_equal(p.resp.connections.n, 0);
    test_page_free(&p);
}

static void b_cidr(kcp_describe_connections_request *r, kcp_arena *a) { test_strs(&r->client_addresses.v, &r->client_addresses.n, a, "10.0.0.0/33", NULL); }
static void b_ip(kcp_describe_connections_request *r, kcp_arena *a) { test_strs(&r->client_addresses.v, &r->client_addresses.n, a, "not-an-ip", NULL); }
static void b_sw(kcp_describe_connections_request *r, kcp_arena *a) { test_strs(&r->client_software.v, &r->client_software.n, a, "librdkafka/", NULL); }
static void b_state(kcp_describe_connections_request *r, kcp_arena *a)
{
    r->states.n = 1;
    r->states.v = kcp_arena_alloc(a, 1);
    r->states.v[0] = 9;
}
static void b_idle(kcp_describe_connections_request *r, kcp_arena *a) { (void)a; r->min_idle_ms = -5; }
static void b_limit(kcp_describe_connections_request *r, kcp_arena *a) { (void)a; r->limit = -1; }
static void b_cursor(kcp_describe_connections_request *r, kcp_arena *a)
{
    static const uint8_t junk[3] = {9, 9, 9};
    (void)a;
    r->cursor.ptr = junk;
    r->cursor.len = 3;
}

static void invalid_filters_answer_invalid_request(void **state)
{
    test_env *e = *state;
    add_population(e);
    expect_invalid(e, b_cidr, "ClientAddresses");
    expect_invalid(e, b_ip, "ClientAddresses");
    expect_invalid(e, b_sw, "ClientSoftware");
    expect_invalid(e, b_state, "States");
    expect_invalid(e, b_idle, "MinIdleMs");
    expect_invalid(e, b_limit, "Limit");
    expect_invalid(e, b_cursor, "Cursor");
}

static void authorization_matrix(void **state)
{
    test_env *e = *state;
    add_population(e);
    test_page p;
    test_describe(e, ADMIN, NULL, &p); /* a super user */
    assert_int_equal(p.resp.connections.n, 6);
    assert_false(p.resp.restricted);
    test_page_free(&p);

    test_describe(e, "User:bob", NULL, &p); /* anyone else: own connections */
    assert_int_equal(p.resp.error_code, 0);
    assert_true(p.resp.restricted);
    assert_int_equal(p.resp.connections.n, 2);
    for (int i = 0; i < p.resp.connections.n; i++)
        assert_true(str_eq(p.resp.connections.v[i].principal, "User:bob"));
    test_page_free(&p);

    e->deny = "User:mallory"; /* the host's authorizer refuses outright */
    test_describe(e, "User:mallory", NULL, &p);
    assert_int_equal(p.resp.error_code, 31);
    assert_int_equal(p.resp.connections.n, 0);
    test_page_free(&p);
}

static void summary_equals_counts_of_rows(void **state)
{
    test_env *e = *state;
    add_population(e);
    kcp_describe_connections_request req;
    kcp_describe_connections_request_init(&req);
    req.summary_only = true;
    test_page p;
    test_describe_req(e, ADMIN, &req, &p);
    assert_int_equal(p.resp.connections.n, 0);
    assert_int_equal(p.resp.summaries.n, 3);
    assert_int_equal(p.resp.total_count, 6);
    int sum = 0;
    for (int i = 0; i < p.resp.summaries.n; i++) {
        summary_t *s = &p.resp.summaries.v[i];
        char principal[64];
        snprintf(principal, sizeof principal, "%.*s", s->principal.len, s->principal.ptr);
        /* The rows of that principal must count the same. */
        test_page rows;
        kcp_describe_connections_request q;
        kcp_describe_connections_request_init(&q);
        test_strs(&q.principals.v, &q.principals.n, &q.arena, principal, NULL);
        test_describe_req(e, ADMIN, &q, &rows);
        assert_int_equal(rows.resp.connections.n, s->connections);
        int by_listener = 0, by_sw = 0;
        for (int j = 0; j < s->listeners.n; j++)
            by_listener += s->listeners.v[j].connections;
        for (int j = 0; j < s->client_software.n; j++)
            by_sw += s->client_software.v[j].connections;
        assert_int_equal(by_listener, s->connections);
        assert_int_equal(by_sw, s->connections);
        sum += s->connections;
        test_page_free(&rows);
        kcp_describe_connections_request_free(&q);
    }
    assert_int_equal(sum, 6);
    test_page_free(&p);
    kcp_describe_connections_request_free(&req);
}

static void history_evicts_by_size_and_age(void **state)
{
    test_env *e = *state; /* history_size 4, max age 10 s */
    for (int i = 0; i < 6; i++) {
        kcb_conn *c = test_accept(e, 0, "PLAINTEXT", KCB_PLAINTEXT, "10.9.9.9", (uint16_t)(1000 + i));
        kcb_conn_closed(c, KCB_CLOSE_CLIENT, 1000 + i);
    }
    test_page p;
    test_describe(e, ADMIN, "closed", &p);
    assert_int_equal(p.resp.connections.n, 4);
    assert_int_equal(p.resp.connections.v[0].client_port, 1002); /* the two oldest went */
    test_page_free(&p);

    e->now = 1000 + 4 + 10001; /* older than 10 s: the first two left go too */
    test_describe(e, ADMIN, "closed", &p);
    assert_int_equal(p.resp.connections.n, 1);
    assert_int_equal(p.resp.connections.v[0].client_port, 1005);
    test_page_free(&p);
}

static void counts_for_metrics(void **state)
{
    test_env *e = *state;
    add_population(e);
    test_counts got = {0};
    assert_int_equal(kcb_registry_counts(e->reg, test_count_cb, &got), 0);
    assert_int_equal(got.total, 6);
    assert_int_equal(got.groups, 6); /* every (principal, listener, software) differs */
}

/* ---- paging ---------------------------------------------------------------- */

static void collect_all_pages(test_env *e, int32_t limit, uint64_t *seen_ports, int *pages)
{
    kcp_describe_connections_request req;
    kcp_describe_connections_request_init(&req);
    req.limit = limit;
    uint8_t cursor[64];
    *pages = 0;
    for (;;) {
        test_page p;
        test_describe_req(e, ADMIN, &req, &p);
        assert_int_equal(p.resp.error_code, 0);
        assert_true(p.resp.connections.n <= limit);
        for (int i = 0; i < p.resp.connections.n; i++)
            seen_ports[p.resp.connections.v[i].client_port]++;
        (*pages)++;
        assert_true(*pages < 10000);
        if (p.resp.next_cursor.len < 0) {
            test_page_free(&p);
            break;
        }
        assert_true(p.resp.next_cursor.len <= (int32_t)sizeof cursor);
        memcpy(cursor, p.resp.next_cursor.ptr, (size_t)p.resp.next_cursor.len);
        req.cursor.ptr = cursor;
        req.cursor.len = p.resp.next_cursor.len;
        test_page_free(&p);
    }
    kcp_describe_connections_request_free(&req);
}

static void pages_cover_every_connection_once(void **state)
{
    test_env *e = *state;
    for (int i = 0; i < 25; i++)
        test_accept(e, (uint32_t)(i % 2), "PLAINTEXT", KCB_PLAINTEXT, "10.0.0.1", (uint16_t)(100 + i));
    static uint64_t seen[65536];
    memset(seen, 0, sizeof seen);
    int pages;
    collect_all_pages(e, 10, seen, &pages);
    assert_int_equal(pages, 3);
    for (int i = 0; i < 25; i++)
        assert_int_equal(seen[100 + i], 1);
}

typedef struct churn_arg {
    test_env *e;
    _Atomic int stop;
    int cycles;
} churn_arg;

/* Opens and closes connections on shard 1 until told to stop. */
static void *churn(void *p)
{
    churn_arg *a = p;
    kcb_conn *open[8] = {0};
    for (int i = 0; i < 200000 && !atomic_load(&a->stop); i++) {
        int k = i % 8;
        if (open[k])
            kcb_conn_closed(open[k], KCB_CLOSE_CLIENT, 1000);
        open[k] = test_accept(a->e, 1, "PLAINTEXT", KCB_PLAINTEXT, "10.7.7.7", (uint16_t)(20000 + k));
        a->cycles++;
    }
    for (int k = 0; k < 8; k++)
        if (open[k])
            kcb_conn_closed(open[k], KCB_CLOSE_CLIENT, 1000);
    return NULL;
}

static void pages_under_churn_have_no_duplicates_or_gaps(void **state)
{
    test_env *e = *state;
    /* 300 connections stay open on shard 0 through the whole listing. */
    for (int i = 0; i < 300; i++)
        test_accept(e, 0, "PLAINTEXT", KCB_PLAINTEXT, "10.0.0.1", (uint16_t)(1000 + i));
    churn_arg arg = {.e = e};
    pthread_t t;
    pthread_create(&t, NULL, churn, &arg);
    static uint64_t seen[65536];
    for (int round = 0; round < 20; round++) {
        memset(seen, 0, sizeof seen);
        int pages;
        collect_all_pages(e, 7, seen, &pages);
        for (int i = 0; i < 300; i++)
            assert_int_equal(seen[1000 + i], 1);
    }
    atomic_store(&arg.stop, 1);
    pthread_join(t, NULL);
    assert_true(arg.cycles > 0);
}

static void abi_version_is_checked(void **state)
{
    (void)state;
    kcb_host host = {.abi_version = KCB_ABI_VERSION + 1, .struct_size = sizeof host};
    char err[200] = "";
    assert_null(kcb_registry_new(&host, NULL, err, sizeof err));
    assert_non_null(strstr(err, "abi_version"));
    host.abi_version = KCB_ABI_VERSION;
    host.struct_size = 4;
    assert_null(kcb_registry_new(&host, NULL, err, sizeof err));
    assert_non_null(strstr(err, "struct_size"));
    assert_int_equal(kcb_version(), KCB_VERSION);
    assert_string_equal(kcb_version_str(), KCB_VERSION_STR);
    kcb_registry *reg = kcb_registry_new(NULL, NULL, err, sizeof err);
    assert_non_null(reg);
    kcb_registry_free(reg);
}

static void malformed_request_is_refused(void **state)
{
    test_env *e = *state;
    kcb_conn *caller = test_caller(e, ADMIN);
    static const uint8_t junk[] = {0x05, 0xff, 0xff};
    uint8_t *resp;
    size_t len;
    char err[256];
    assert_int_equal(kcb_describe(e->reg, caller, 0, junk, sizeof junk, &resp, &len, err, sizeof err), -1);
    assert_null(resp);
    assert_non_null(strstr(err, "field"));
}

static void unsupported_version_gets_a_version_0_error(void **state)
{
    test_env *e = *state;
    kcb_conn *caller = test_caller(e, ADMIN);
    uint8_t *resp;
    size_t len;
    char err[256];
    assert_int_equal(kcb_describe(e->reg, caller, 7, NULL, 0, &resp, &len, err, sizeof err), 0);
    kcp_reader r;
    kcp_reader_init(&r, resp, len);
    kcp_describe_connections_response d;
    assert_int_equal(kcp_describe_connections_response_decode(&r, &d, 0), 0);
    assert_int_equal(d.error_code, 35);
    assert_int_equal(d.connections.n, 0);
    kcp_describe_connections_response_free(&d);
    free(resp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(lifecycle_of_a_sasl_connection, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(close_before_authentication_is_recorded, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(plaintext_and_tls_connections_start_open, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(each_filter_alone_and_combined, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(invalid_filters_answer_invalid_request, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(authorization_matrix, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(summary_equals_counts_of_rows, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(history_evicts_by_size_and_age, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(counts_for_metrics, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(pages_cover_every_connection_once, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(pages_under_churn_have_no_duplicates_or_gaps, test_setup, test_teardown),
        cmocka_unit_test(abi_version_is_checked),
        cmocka_unit_test_setup_teardown(malformed_request_is_refused, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(unsupported_version_gets_a_version_0_error, test_setup, test_teardown),
    };
    return cmocka_run_group_tests_name("broker-plugin registry", tests, NULL, NULL);
}
