/* Registry lifecycle, filters, authorization, paging, history and summary,
 * driven through the public ABI (include/kcb.h) with encoded requests. */
#include "broker_test_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

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
    assert_true(test_str_is(&p, r->principal_index, "User:ANONYMOUS"));
    assert_true(test_str_is(&p, r->client_software_name_index, "unknown"));
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
    assert_true(test_str_is(&p, r->principal_index, "User:alice"));
    assert_true(test_str_is(&p, r->sasl_mechanism_index, "SCRAM-SHA-256"));
    assert_true(test_str_is(&p, r->client_id_index, "orders-app"));
    assert_true(test_str_is(&p, r->client_software_name_index, "librdkafka"));
    assert_true(test_str_is(&p, r->client_software_version_index, "2.0.2"));
    assert_true(kcp_str_eq(r->client_host, kcp_str_c("10.1.2.3")));
    assert_int_equal(r->client_port, 50000);
    assert_int_equal(r->requests, 2);
    assert_int_equal(r->bytes_in, 150);
    assert_int_equal(r->bytes_out, 250);
    assert_int_equal(r->authenticated_at_ms, 2000);
    assert_int_equal(r->last_activity_at_ms, 2200);
    assert_int_equal(r->session_expires_at_ms, 62000);
    assert_int_equal(r->close_reason_index, -1);
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
    assert_true(test_str_is(&p, p.resp.connections.v[0].close_reason_index, "idle timeout"));
    test_page_free(&p);

    kcb_conn_closed(c, KCB_CLOSE_NONE, 50001);
    test_describe(e, ADMIN, NULL, &p);
    assert_int_equal(p.resp.connections.n, 0);
    test_page_free(&p);

    test_describe(e, ADMIN, "closed", &p);
    assert_int_equal(p.resp.connections.n, 1);
    r = &p.resp.connections.v[0];
    assert_int_equal(r->state, KCB_STATE_CLOSED);
    assert_true(test_str_is(&p, r->close_reason_index, "idle timeout"));
    assert_int_equal(r->closed_at_ms, 50001);
    assert_true(test_str_is(&p, r->principal_index, "User:alice"));
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
    assert_true(test_str_is(&p, p.resp.connections.v[0].close_reason_index, "authentication failed"));
    assert_true(test_str_is(&p, p.resp.connections.v[0].principal_index, "User:ANONYMOUS"));
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
    assert_true(test_str_is(&p, r->tls_protocol_index, "TLSv1.3"));
    assert_true(test_str_is(&p, r->tls_cipher_index, "TLS_AES_256_GCM_SHA384"));
    assert_true(test_str_is(&p, r->peer_certificate_subject_index, "CN=client,O=Example"));
    assert_true(test_str_is(&p, r->peer_certificate_issuer_index, "CN=ca"));
    assert_true(test_str_is(&p, r->peer_certificate_serial_index, "1a2b"));
    assert_true(test_str_is(&p, r->sasl_mechanism_index, "MTLS"));
    assert_int_equal(r->session_expires_at_ms, -1);
    assert_true(strstr(kcb_conn_id(c), "127.0.0.1:9092-::1:40001-1-") == kcb_conn_id(c));
    test_page_free(&p);
}

/* Both addresses are kept only inside the connection id: each must come
 * back whole whatever the lengths of the hosts and ports around it. */
static void hosts_and_ports_come_back_as_given(void **state)
{
    test_env *e = *state;
    struct {
        const char *local, *peer;
        uint16_t local_port, peer_port;
    } cases[] = {
        {"::1", "2001:db8::5", 7, 65535},
        {"10.0.0.1", "192.168.100.200", 65535, 1},
        {"fe80::1", "10.0.0.2", 443, 80},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kcb_accept_info info = {.struct_size = sizeof info, .shard = (uint32_t)(i % 2),
                                .listener_name = "PLAINTEXT", .security_protocol = KCB_PLAINTEXT,
                                .local_host = cases[i].local, .local_port = cases[i].local_port,
                                .peer_host = cases[i].peer, .peer_port = cases[i].peer_port,
                                .now_ms = e->now};
        assert_non_null(kcb_conn_accepted(e->reg, &info, NULL, 0));
    }
    test_page p;
    test_describe(e, ADMIN, NULL, &p);
    assert_int_equal(p.resp.connections.n, 3);
    static const int order[] = {0, 2, 1}; /* shard 0 in accept order, then shard 1 */
    for (int k = 0; k < 3; k++) {
        int i = order[k];
        row_t *r = &p.resp.connections.v[k];
        assert_true(test_str_is(&p, r->local_host_index, cases[i].local));
        assert_true(kcp_str_eq(r->client_host, kcp_str_c(cases[i].peer)));
        assert_int_equal(r->local_port, cases[i].local_port);
        assert_int_equal(r->client_port, cases[i].peer_port);
    }
    test_page_free(&p);
}

static void tls_facts_are_replaced_and_cleared(void **state)
{
    test_env *e = *state;
    kcb_conn *c = test_accept(e, 0, "SSL", KCB_SSL, "10.0.0.8", 40002);
    kcb_conn_tls(c, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", NULL, NULL, NULL);
    test_page p;
    test_describe(e, ADMIN, NULL, &p);
    row_t *r = &p.resp.connections.v[0];
    assert_true(test_str_is(&p, r->tls_protocol_index, "TLSv1.2"));
    assert_true(test_str_is(&p, r->tls_cipher_index, "ECDHE-RSA-AES128-GCM-SHA256"));
    assert_int_equal(r->peer_certificate_subject_index, -1); /* no client certificate */
    assert_int_equal(r->peer_certificate_serial_index, -1);
    test_page_free(&p);

    kcb_conn_tls(c, NULL, NULL, NULL, NULL, NULL);
    test_describe(e, ADMIN, NULL, &p);
    r = &p.resp.connections.v[0];
    assert_int_equal(r->tls_protocol_index, -1);
    assert_int_equal(r->tls_cipher_index, -1);
    test_page_free(&p);
}

/* Principals, client ids and the like are shared between connections:
 * changing one connection's value must not change another's, and the last
 * connection (or history entry) to let go of a value frees it. */
static void shared_strings_follow_each_connection(void **state)
{
    test_env *e = *state;
    kcb_conn *a = accept_sasl(e, 0, "10.0.0.1", 1), *b = accept_sasl(e, 1, "10.0.0.2", 2);
    kcb_conn *conns[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        kcb_conn_authenticated(conns[i], "User:alice", "PLAIN", 0, 1000);
        kcb_conn_client_software(conns[i], "librdkafka", "2.0.2");
        kcb_conn_request(conns[i], 3, "app", 3, 10, 1000);
    }
    kcb_conn_request(a, 3, "app-2", 5, 10, 1001);          /* a new client id */
    kcb_conn_authenticated(b, "User:bob", "PLAIN", 0, 1002); /* re-authentication as another */
    kcb_conn_client_software(b, "", NULL);                  /* KIP-511: not said */
    test_page p;
    test_describe(e, ADMIN, NULL, &p);
    assert_int_equal(p.resp.connections.n, 2);
    row_t *ra = &p.resp.connections.v[0], *rb = &p.resp.connections.v[1];
    assert_true(test_str_is(&p, ra->principal_index, "User:alice"));
    assert_true(test_str_is(&p, ra->client_id_index, "app-2"));
    assert_true(test_str_is(&p, ra->client_software_name_index, "librdkafka"));
    assert_true(test_str_is(&p, rb->principal_index, "User:bob"));
    assert_true(test_str_is(&p, rb->client_id_index, "app"));
    assert_true(test_str_is(&p, rb->client_software_name_index, "unknown"));
    assert_true(test_str_is(&p, rb->client_software_version_index, "unknown"));
    test_page_free(&p);

    kcb_conn_closed(a, KCB_CLOSE_CLIENT, 1003);
    kcb_conn_closed(b, KCB_CLOSE_CLIENT, 1004);
    test_describe(e, ADMIN, "closed", &p); /* the history keeps the values */
    assert_int_equal(p.resp.connections.n, 2);
    assert_true(test_str_is(&p, p.resp.connections.v[0].client_id_index, "app-2"));
    assert_true(test_str_is(&p, p.resp.connections.v[1].principal_index, "User:bob"));
    test_page_free(&p);
    assert_true(e->reg->strings.len > 0);

    e->now = 1004 + 10001; /* past the history's 10 s: both entries go */
    test_describe(e, ADMIN, "closed", &p);
    assert_int_equal(p.resp.connections.n, 0);
    test_page_free(&p);
    assert_int_equal(e->reg->strings.len, 0);
}

/* Rows are encoded into chunks that grow from 16 KiB; a page of thousands
 * of rows spans many, and a row larger than a chunk gets one of its own.
 * The spliced body must still equal the whole encoding (checked by
 * test_describe_req) and keep every row. */
static void large_pages_and_large_rows(void **state)
{
    test_env *e = *state;
    enum { N = 3000 };
    static char long_principal[20001];
    memset(long_principal, 'p', sizeof long_principal - 1);
    memcpy(long_principal, "User:", 5);
    for (int i = 0; i < N; i++) {
        char peer[32];
        snprintf(peer, sizeof peer, "10.1.%d.%d", i / 256, i % 256);
        kcb_conn *c = accept_sasl(e, (uint32_t)(i % 2), peer, (uint16_t)(10000 + i));
        kcb_conn_authenticated(c, i % 1000 == 7 ? long_principal : "User:svc", "PLAIN", 0, 1000);
    }
    kcp_describe_connections_request req;
    kcp_describe_connections_request_init(&req);
    req.limit = N;
    test_page p;
    test_describe_req(e, ADMIN, &req, &p);
    assert_int_equal(p.resp.connections.n, N);
    assert_int_equal(p.resp.total_count, N);
    assert_int_equal(p.resp.next_cursor.len, -1);
    for (int k = 0; k < N; k++) {
        /* Shard 0 (even accepts) in accept order, then shard 1. */
        int i = k < N / 2 ? 2 * k : 2 * (k - N / 2) + 1;
        row_t *r = &p.resp.connections.v[k];
        assert_int_equal(r->client_port, 10000 + i);
        assert_true(test_str_is(&p, r->principal_index, i % 1000 == 7 ? long_principal : "User:svc"));
    }
    test_page_free(&p);
    kcp_describe_connections_request_free(&req);
}

/* Rows that share their principal, listener, local host and client
 * software refer to one copy of each, across shards too; the client host
 * is inline in each row. */
static void strings_shared_by_rows_are_sent_once(void **state)
{
    test_env *e = *state;
    enum { N = 8 };
    for (int i = 0; i < N; i++) {
        kcb_conn *c = accept_sasl(e, (uint32_t)(i % 2), "10.0.0.1", (uint16_t)(100 + i));
        /* Alternating principals: neither row's neighbour has its value. */
        kcb_conn_authenticated(c, i % 4 < 2 ? "User:alice" : "User:bob", "PLAIN", 0, 1000);
        kcb_conn_client_software(c, "librdkafka", "2.0.2");
        kcb_conn_request(c, 3, "app", 3, 10, 1000);
    }
    test_page p;
    test_describe(e, ADMIN, NULL, &p);
    assert_int_equal(p.resp.connections.n, N);
    static const char *const expected[] = {"SASL_PLAINTEXT", "User:alice", "User:bob", "PLAIN",
                                           "127.0.0.1", "app", "librdkafka", "2.0.2"};
    enum { DISTINCT = sizeof expected / sizeof expected[0] };
    /* The decoding helper has checked that no entry repeats. */
    assert_int_equal(p.resp.strings.n, DISTINCT);
    for (size_t k = 0; k < DISTINCT; k++) {
        int found = 0;
        for (int32_t i = 0; i < p.resp.strings.n; i++)
            found += str_eq(p.resp.strings.v[i], expected[k]);
        if (found != 1)
            fail_msg("Strings holds '%s' %d times", expected[k], found);
    }
    for (int k = 0; k < N; k++) {
        row_t *r = &p.resp.connections.v[k];
        int i = r->client_port - 100;
        assert_true(test_str_is(&p, r->principal_index, i % 4 < 2 ? "User:alice" : "User:bob"));
        assert_true(kcp_str_eq(r->client_host, kcp_str_c("10.0.0.1")));
        assert_true(test_str_is(&p, r->local_host_index, "127.0.0.1"));
        assert_true(test_str_is(&p, r->listener_name_index, "SASL_PLAINTEXT"));
        assert_true(test_str_is(&p, r->client_id_index, "app"));
    }
    test_page_free(&p);
}

/* More distinct shared strings in one shard than a page remembers by
 * address: each row still names its own. */
static void many_distinct_strings_on_one_page(void **state)
{
    test_env *e = *state;
    enum { N = 2500 };
    for (int i = 0; i < N; i++) {
        char principal[32], id[32];
        snprintf(principal, sizeof principal, "User:p-%d", i % 1200);
        snprintf(id, sizeof id, "client-%d", i);
        kcb_conn *c = accept_sasl(e, (uint32_t)(i % 2), "10.0.0.1", (uint16_t)(10000 + i));
        kcb_conn_authenticated(c, principal, "PLAIN", 0, 1000);
        kcb_conn_request(c, 3, id, strlen(id), 10, 1000);
    }
    kcp_describe_connections_request req;
    kcp_describe_connections_request_init(&req);
    req.limit = N;
    test_page p;
    test_describe_req(e, ADMIN, &req, &p);
    assert_int_equal(p.resp.connections.n, N);
    for (int k = 0; k < N; k++) {
        row_t *r = &p.resp.connections.v[k];
        int i = r->client_port - 10000;
        char principal[32], id[32];
        snprintf(principal, sizeof principal, "User:p-%d", i % 1200);
        snprintf(id, sizeof id, "client-%d", i);
        assert_true(test_str_is(&p, r->principal_index, principal));
        assert_true(test_str_is(&p, r->client_id_index, id));
    }
    test_page_free(&p);
    kcp_describe_connections_request_free(&req);
}

/* Adds c's record to the page the way a describe does: under its shard's
 * lock, which the page is told about. */
static void add_locked(kcb_page *page, kcb_conn *c)
{
    kcb_shard *sh = c->shard;
    pthread_mutex_lock(&sh->lock);
    kcb_page_locked(page);
    kcb_page_add(page, &c->rec);
    pthread_mutex_unlock(&sh->lock);
}

/* Between the scans of two shards a connection of the first changes its
 * client id: the old string is freed, and a new one, of the same size, for
 * a connection of the second shard may get its address. The page must not
 * take the new string for the old one, in either body. */
static void a_string_freed_between_shards_is_not_taken_for_another(void **state)
{
    test_env *e = *state;
    kcb_conn *a = accept_sasl(e, 0, "10.0.0.1", 1), *b = accept_sasl(e, 1, "10.0.0.2", 2);
    const kcb_body bodies[] = {KCB_BODY_SPLICED, KCB_BODY_WHOLE};
    for (size_t k = 0; k < 2; k++) {
        kcb_conn_request(a, 3, "client-old", 10, 10, 1000);
        kcb_conn_request(b, 3, "client-b", 8, 10, 1000);
        kcp_describe_connections_response resp;
        kcp_describe_connections_response_init(&resp);
        kcb_page page;
        assert_int_equal(kcb_page_init(&page, e->reg, bodies[k], 0, &resp.arena), 0);
        kcb_page_expect(&page, &resp, 2, -1);
        add_locked(&page, a);
        uintptr_t old = (uintptr_t)a->rec.client_id;
        kcb_conn_request(a, 3, "client-new", 10, 10, 1001); /* the last reference to the old */
        kcb_conn_request(b, 3, "client-NEW", 10, 10, 1001);
        if ((uintptr_t)b->rec.client_id != old) /* an allocator that does not reuse at once */
            print_message("the freed string's address was not reused; values checked only\n");
        add_locked(&page, b);
        test_page p;
        size_t len;
        assert_int_equal(kcb_page_encode(&page, &resp, &p.bytes, &len), 0);
        kcb_page_free(&page);
        kcp_describe_connections_response_free(&resp);
        test_decode(&p, len);
        assert_int_equal(p.resp.connections.n, 2);
        assert_true(test_str_is(&p, p.resp.connections.v[0].client_id_index, "client-old"));
        assert_true(test_str_is(&p, p.resp.connections.v[1].client_id_index, "client-NEW"));
        test_page_free(&p);
    }
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
static void f_exclude(kcp_describe_connections_request *r, kcp_arena *a) { (void)a; r->exclude_client_id = kcp_str_c("a1"); }
static void f_exclude_listed(kcp_describe_connections_request *r, kcp_arena *a)
{
    f_client_id(r, a);
    r->exclude_client_id = kcp_str_c("c2");
}
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
    /* Excluded by client id: out of the rows and TotalCount; a connection
     * that sent no client id is not excluded. */
    assert_int_equal(count_matching(e, f_exclude), 5);
    assert_int_equal(count_matching(e, f_exclude_listed), 1);
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
        assert_true(test_str_is(&p, p.resp.connections.v[i].principal_index, "User:bob"));
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

    /* An excluded client id is left out of the summaries too: alice's
     * "a1" connection goes, her other one stays. */
    req.exclude_client_id = kcp_str_c("a1");
    test_describe_req(e, ADMIN, &req, &p);
    assert_int_equal(p.resp.total_count, 5);
    for (int i = 0; i < p.resp.summaries.n; i++)
        if (kcp_str_eq(p.resp.summaries.v[i].principal, kcp_str_c("User:alice")))
            assert_int_equal(p.resp.summaries.v[i].connections, 1);
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

/* Labels longer than any fixed buffer still make one group each. */
static void counts_for_metrics_with_long_labels(void **state)
{
    test_env *e = *state;
    char principal[3000] = "User:";
    memset(principal + 5, 'p', sizeof principal - 6);
    for (int i = 0; i < 2; i++)
        kcb_conn_authenticated(test_caller(e, principal), principal, "PLAIN", 0, e->now);
    test_counts got = {0};
    assert_int_equal(kcb_registry_counts(e->reg, test_count_cb, &got), 0);
    assert_int_equal(got.total, 2);
    assert_int_equal(got.groups, 1);
}

/* ---- paging ---------------------------------------------------------------- */

/* Lists every page; total >= 0 is the TotalCount each page must give. */
static void collect_all_pages(test_env *e, int32_t limit, bool include_closed, int32_t total,
                              uint64_t *seen_ports, int *pages)
{
    kcp_describe_connections_request req;
    kcp_describe_connections_request_init(&req);
    req.limit = limit;
    req.include_closed = include_closed;
    uint8_t cursor[64];
    *pages = 0;
    for (;;) {
        test_page p;
        test_describe_req(e, ADMIN, &req, &p);
        assert_int_equal(p.resp.error_code, 0);
        assert_true(p.resp.connections.n <= limit);
        if (total >= 0)
            assert_int_equal(p.resp.total_count, total);
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
    collect_all_pages(e, 10, false, 25, seen, &pages);
    assert_int_equal(pages, 3);
    for (int i = 0; i < 25; i++)
        assert_int_equal(seen[100 + i], 1);
}

/* Pages that end inside shard 0, shard 1 and the closed history: each
 * open and each closed connection is listed once, and only the last page
 * lacks a NextCursor. */
static void pages_cross_shards_and_history(void **state)
{
    test_env *e = *state;
    enum { N = 30 };
    kcb_conn *c[N];
    for (int i = 0; i < N; i++)
        c[i] = test_accept(e, (uint32_t)(i % 2), "PLAINTEXT", KCB_PLAINTEXT, "10.0.0.1", (uint16_t)(100 + i));
    /* Four closed (the history's size), in an order unlike accept order. */
    for (int i = N - 1; i >= 0; i -= 9)
        kcb_conn_closed(c[i], KCB_CLOSE_CLIENT, e->now);
    static uint64_t seen[65536];
    memset(seen, 0, sizeof seen);
    int pages;
    collect_all_pages(e, 4, true, N, seen, &pages);
    assert_int_equal(pages, (N + 3) / 4);
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[100 + i], 1);
}

/* A cursor that names a shard the broker does not have is refused. */
static void cursor_past_the_history_is_refused(void **state)
{
    test_env *e = *state;
    test_accept(e, 0, "PLAINTEXT", KCB_PLAINTEXT, "10.0.0.1", 100);
    test_accept(e, 1, "PLAINTEXT", KCB_PLAINTEXT, "10.0.0.1", 101);
    kcp_describe_connections_request req;
    kcp_describe_connections_request_init(&req);
    req.limit = 1;
    test_page p;
    test_describe_req(e, ADMIN, &req, &p);
    assert_true(p.resp.next_cursor.len > 1);
    uint8_t cursor[64];
    size_t len = (size_t)p.resp.next_cursor.len;
    assert_true(len <= sizeof cursor);
    memcpy(cursor, p.resp.next_cursor.ptr, len);
    test_page_free(&p);
    memset(cursor + 1, 0xff, len - 1); /* same length, a place past every row */
    req.cursor.ptr = cursor;
    req.cursor.len = (int32_t)len;
    test_describe_req(e, ADMIN, &req, &p);
    assert_int_equal(p.resp.error_code, KCB_ERR_INVALID_REQUEST);
    test_page_free(&p);
    kcp_describe_connections_request_free(&req);
}

/* A shard keeps its open connections in an array that is compacted once
 * closed ones outnumber them: after that, closing and listing must still
 * find every connection exactly once, in accept order. */
static void closing_most_connections_keeps_order_and_handles(void **state)
{
    test_env *e = *state;
    enum { N = 500 };
    kcb_conn *c[N];
    for (int i = 0; i < N; i++)
        c[i] = test_accept(e, 0, "PLAINTEXT", KCB_PLAINTEXT, "10.0.0.1", (uint16_t)(1000 + i));
    for (int i = 0; i < N; i++) /* keep every fifth: holes outnumber connections */
        if (i % 5)
            kcb_conn_closed(c[i], KCB_CLOSE_CLIENT, 1000);
    kcb_conn *late = test_accept(e, 0, "PLAINTEXT", KCB_PLAINTEXT, "10.0.0.2", 2000);
    for (int i = 0; i < N; i += 10) /* handles of moved connections still work */
        kcb_conn_closed(c[i], KCB_CLOSE_CLIENT, 1001);
    test_page p;
    test_describe(e, ADMIN, NULL, &p);
    assert_int_equal(p.resp.connections.n, N / 10 + 1);
    for (int k = 0; k < N / 10; k++)
        assert_int_equal(p.resp.connections.v[k].client_port, 1000 + 5 + 10 * k);
    assert_int_equal(p.resp.connections.v[N / 10].client_port, 2000);
    test_page_free(&p);
    kcb_stats st;
    kcb_registry_stats(e->reg, &st);
    assert_int_equal(st.open, N / 10 + 1);
    kcb_conn_closed(late, KCB_CLOSE_CLIENT, 1002);
}

typedef struct churn_arg {
    test_env *e;
    _Atomic int stop;
    _Atomic int cycles;
} churn_arg;

/* Opens and closes connections on shard 1 until told to stop, changing
 * their strings meanwhile, so that a describe racing it would read a
 * released string if any were released too early. */
static void *churn(void *p)
{
    churn_arg *a = p;
    kcb_conn *open[8] = {0};
    static const char *const ids[] = {"churn-a", "churn-b", "churn-c"};
    for (int i = 0; i < 200000 && !atomic_load(&a->stop); i++) {
        int k = i % 8;
        if (open[k])
            kcb_conn_closed(open[k], KCB_CLOSE_CLIENT, 1000);
        open[k] = test_accept(a->e, 1, "PLAINTEXT", KCB_PLAINTEXT, "10.7.7.7", (uint16_t)(20000 + k));
        kcb_conn *c = open[(k + 4) % 8] ? open[(k + 4) % 8] : open[k];
        kcb_conn_authenticated(c, i % 2 ? "User:churn-odd" : "User:churn-even", "PLAIN", 0, 1000);
        kcb_conn_client_software(c, "librdkafka", i % 2 ? "2.0.2" : "2.3.0");
        kcb_conn_tls(c, "TLSv1.3", ids[i % 3], NULL, NULL, NULL);
        kcb_conn_request(c, 3, ids[i % 3], strlen(ids[i % 3]), 10, 1000);
        atomic_fetch_add(&a->cycles, 1);
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
    e->concurrent = true;
    pthread_t t;
    pthread_create(&t, NULL, churn, &arg);
    /* A listing can finish before the new thread first runs: wait (up to
     * 5 s) until the churn is under way, so the pages really race it. */
    for (int i = 0; i < 5000 && atomic_load(&arg.cycles) == 0; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    static uint64_t seen[65536];
    for (int round = 0; round < 20; round++) {
        memset(seen, 0, sizeof seen);
        int pages;
        collect_all_pages(e, 7, false, -1, seen, &pages);
        for (int i = 0; i < 300; i++)
            assert_int_equal(seen[1000 + i], 1);
    }
    atomic_store(&arg.stop, 1);
    pthread_join(t, NULL);
    assert_true(arg.cycles > 0);
}

static void connection_ids_at_their_limits(void **state)
{
    test_env *e = *state;
    kcb_conn *c = test_accept(e, 1, "PLAINTEXT", KCB_PLAINTEXT, "255.255.255.255", 65535);
    assert_non_null(strstr(kcb_conn_id(c), "127.0.0.1:9092-255.255.255.255:65535-1-"));
    /* The two hosts and the longest numbers must fit the id's bound; the
     * host's own text is never cut. */
    char local[81], peer[81];
    memset(local, 'a', sizeof local - 1);
    local[sizeof local - 1] = '\0';
    memset(peer, 'b', sizeof peer - 1);
    peer[sizeof peer - 1] = '\0';
    kcb_accept_info info = {.struct_size = sizeof info, .listener_name = "PLAINTEXT",
                            .security_protocol = KCB_PLAINTEXT, .local_host = local, .local_port = 1,
                            .peer_host = peer, .peer_port = 2, .now_ms = e->now};
    char err[200] = "";
    assert_null(kcb_conn_accepted(e->reg, &info, err, sizeof err));
    assert_string_equal(err, "address too long for a connection id");
    peer[40] = '\0';
    kcb_conn *d = kcb_conn_accepted(e->reg, &info, err, sizeof err);
    assert_non_null(d);
    assert_int_equal(strncmp(kcb_conn_id(d), local, strlen(local)), 0);
    assert_non_null(strstr(kcb_conn_id(d), ":1-"));
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

/* A principal of any length (mTLS subjects can be long) is its caller's:
 * the own-only view finds the caller's own connection. */
static void a_long_caller_principal_is_compared_whole(void **state)
{
    test_env *e = *state;
    char principal[1200] = "User:";
    memset(principal + 5, 'x', sizeof principal - 6);
    kcb_conn *caller = test_caller(e, principal);
    (void)caller;
    kcp_describe_connections_request req;
    kcp_describe_connections_request_init(&req);
    size_t n = kcp_describe_connections_request_size(&req, 0);
    uint8_t *body = malloc(n);
    assert_non_null(body);
    kcp_writer w;
    kcp_writer_init(&w, body, n);
    assert_int_equal(kcp_describe_connections_request_encode(&w, &req, 0), 0);
    test_page p = {0};
    char err[256];
    size_t len;
    assert_int_equal(kcb_describe(e->reg, caller, 0, body, n, &p.bytes, &len, err, sizeof err), 0);
    free(body);
    test_decode(&p, len);
    assert_true(p.resp.restricted);
    assert_int_equal(p.resp.connections.n, 1);
    assert_true(test_str_is(&p, p.resp.connections.v[0].principal_index, principal));
    test_page_free(&p);
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
        cmocka_unit_test_setup_teardown(a_long_caller_principal_is_compared_whole, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(close_before_authentication_is_recorded, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(plaintext_and_tls_connections_start_open, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(hosts_and_ports_come_back_as_given, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(tls_facts_are_replaced_and_cleared, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(shared_strings_follow_each_connection, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(large_pages_and_large_rows, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(strings_shared_by_rows_are_sent_once, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(many_distinct_strings_on_one_page, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(a_string_freed_between_shards_is_not_taken_for_another, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(each_filter_alone_and_combined, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(invalid_filters_answer_invalid_request, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(authorization_matrix, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(summary_equals_counts_of_rows, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(counts_for_metrics_with_long_labels, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(history_evicts_by_size_and_age, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(counts_for_metrics, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(pages_cover_every_connection_once, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(closing_most_connections_keeps_order_and_handles, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(pages_cross_shards_and_history, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(cursor_past_the_history_is_refused, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(pages_under_churn_have_no_duplicates_or_gaps, test_setup, test_teardown),
        cmocka_unit_test(abi_version_is_checked),
        cmocka_unit_test_setup_teardown(connection_ids_at_their_limits, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(malformed_request_is_refused, test_setup, test_teardown),
        cmocka_unit_test_setup_teardown(unsupported_version_gets_a_version_0_error, test_setup, test_teardown),
    };
    return cmocka_run_group_tests_name("broker-plugin registry", tests, NULL, NULL);
}
