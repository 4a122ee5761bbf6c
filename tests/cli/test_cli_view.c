/*
 * The merged view of kafka-connections (cli/kc_view.c): per-principal
 * counts, broker lists, distinct addresses and client software across
 * brokers; every --group-by; default order and --sort; summary mode; and
 * the changes --watch reports (cli/kc_changes.c). Inputs are brokers'
 * answers built by hand (cli_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli_fixture.h"
#include "kc_changes.h"
#include "kc_columns.h"
#include "kc_output.h"
#include "kc_view.h"

#include <stdio.h>
#include <string.h>

#define T0 INT64_C(1714567890123)

/* Three brokers: 0 and 1 answer, 2 is unreachable. */
static void cluster(fx *f)
{
    fx_init(f);
    kc_result *b0 = fx_broker(f, 0, "127.0.0.1", 9092, KC_OK, NULL, T0);
    kc_result *b1 = fx_broker(f, 1, "127.0.0.1", 9093, KC_OK, NULL, T0 + 5);
    fx_broker(f, 2, "127.0.0.1", 9094, KC_UNREACHABLE,
              "broker 2 (127.0.0.1:9094): connect failed: Connection refused", -1);
    fx_conn(b0, "User:alice", "10.0.0.2", 40001, "librdkafka", "2.0.2", "SASL_SSL");
    fx_conn(b0, "User:bob", "10.0.0.3", 40002, "unknown", "unknown", "SASL_SSL")
        ->last_activity_at_ms = T0 - 90000;
    fx_conn(b0, "User:alice", "10.0.0.1", 40003, "librdkafka", "2.0.2", "SASL_SSL")
        ->last_activity_at_ms = T0 - 30000;
    fx_conn(b1, "User:carol", "10.0.0.9", 40004, "librdkafka", "1.9.0", "SASL_PLAINTEXT")
        ->last_activity_at_ms = T0 + 5 - 2000;
    fx_conn(b1, "User:alice", "10.0.0.1", 40005, "confluent-kafka-python", "1.7.0",
            "SASL_PLAINTEXT");
}

static void build(kc_view *v, const fx *f, int group_by, bool summary, kc_sort sort)
{
    char err[128];
    kc_view_opts o = {group_by, summary, sort};
    assert_int_equal(kc_view_build(v, f->results, f->n, &o, err, sizeof err), 0);
}

static const kc_sort no_sort = {-1, false};

/* "a,b,c" of a list of names, "?" when unknown. */
static const char *joined(const kc_names *n, char *buf, size_t size)
{
    if (!n->known)
        return "?";
    kc_value v = {.kind = KC_V_NAMES, .names = n, .n = n->n};
    kc_buf b = {0};
    kc_value_text(&b, &v, true);
    snprintf(buf, size, "%s", kc_buf_str(&b));
    kc_buf_free(&b);
    return buf;
}

static const char *nodes(const kc_group *g, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < g->n_brokers; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%d", i ? ";" : "", (int)g->brokers[i]);
    return buf;
}

static const char *key(const kc_group *g, char *buf, size_t size)
{
    if (g->kind == KC_GROUP_BROKER)
        snprintf(buf, size, "%d", (int)g->node_id);
    else if (g->key.b.len >= 0)
        snprintf(buf, size, "%.*s/%.*s", (int)g->key.a.len, g->key.a.ptr, (int)g->key.b.len,
                 g->key.b.ptr);
    else
        snprintf(buf, size, "%.*s", (int)g->key.a.len, g->key.a.ptr);
    return buf;
}

/* One group as "key count brokers principals addresses software listeners". */
static void expect_group(const kc_group *g, const char *expected)
{
    char k[64], b[64], p[128], a[128], s[128], l[128], line[640];
    snprintf(line, sizeof line, "%s %lld %s %s %s %s %s", key(g, k, sizeof k),
             (long long)g->connections, nodes(g, b, sizeof b),
             joined(&g->principals, p, sizeof p), joined(&g->client_addresses, a, sizeof a),
             joined(&g->client_software, s, sizeof s), joined(&g->listeners, l, sizeof l));
    assert_string_equal(line, expected);
}

static void test_principals_merge_counts_brokers_addresses_and_software(void **state)
{
    (void)state;
    fx f;
    kc_view v;
    cluster(&f);
    build(&v, &f, KC_GROUP_PRINCIPAL, false, no_sort);
    assert_int_equal(v.n_rows, 5);
    assert_int_equal(v.connections, 5);
    assert_int_equal(v.brokers_ok, 2);
    assert_int_equal(v.brokers_failed, 1);
    assert_false(v.truncated);
    assert_int_equal(v.n_principals, 3);
    assert_ptr_equal(v.groups, v.principals);
    /* Most connections first, ties by name. */
    expect_group(&v.principals[0],
                 "User:alice 3 0;1 User:alice 10.0.0.1;10.0.0.2 "
                 "confluent-kafka-python/1.7.0;librdkafka/2.0.2 SASL_PLAINTEXT;SASL_SSL");
    expect_group(&v.principals[1], "User:bob 1 0 User:bob 10.0.0.3 unknown/unknown SASL_SSL");
    expect_group(&v.principals[2],
                 "User:carol 1 1 User:carol 10.0.0.9 librdkafka/1.9.0 SASL_PLAINTEXT");
    kc_view_free(&v);
    fx_free(&f);
}

static void test_every_group_by_key(void **state)
{
    (void)state;
    fx f;
    kc_view v;
    cluster(&f);
    build(&v, &f, KC_GROUP_BROKER, false, no_sort);
    /* The unreachable broker is listed too, with nothing. */
    assert_int_equal(v.n_groups, 3);
    expect_group(&v.groups[0], "0 3 0 User:alice;User:bob 10.0.0.1;10.0.0.2;10.0.0.3 "
                               "librdkafka/2.0.2;unknown/unknown SASL_SSL");
    expect_group(&v.groups[1], "1 2 1 User:alice;User:carol 10.0.0.1;10.0.0.9 "
                               "confluent-kafka-python/1.7.0;librdkafka/1.9.0 SASL_PLAINTEXT");
    expect_group(&v.groups[2], "2 0  ? ? ? ?");
    assert_ptr_equal(v.groups[2].broker, &f.results[2]);
    kc_view_free(&v);

    build(&v, &f, KC_GROUP_LISTENER, false, no_sort);
    assert_int_equal(v.n_groups, 2);
    expect_group(&v.groups[0], "SASL_SSL 3 0 User:alice;User:bob 10.0.0.1;10.0.0.2;10.0.0.3 "
                               "librdkafka/2.0.2;unknown/unknown SASL_SSL");
    expect_group(&v.groups[1], "SASL_PLAINTEXT 2 1 User:alice;User:carol 10.0.0.1;10.0.0.9 "
                               "confluent-kafka-python/1.7.0;librdkafka/1.9.0 SASL_PLAINTEXT");
    kc_view_free(&v);

    build(&v, &f, KC_GROUP_CLIENT_SOFTWARE, false, no_sort);
    assert_int_equal(v.n_groups, 4);
    expect_group(&v.groups[0], "librdkafka/2.0.2 2 0 User:alice 10.0.0.1;10.0.0.2 "
                               "librdkafka/2.0.2 SASL_SSL");
    expect_group(&v.groups[1], "confluent-kafka-python/1.7.0 1 1 User:alice 10.0.0.1 "
                               "confluent-kafka-python/1.7.0 SASL_PLAINTEXT");
    expect_group(&v.groups[2], "librdkafka/1.9.0 1 1 User:carol 10.0.0.9 librdkafka/1.9.0 "
                               "SASL_PLAINTEXT");
    expect_group(&v.groups[3], "unknown/unknown 1 0 User:bob 10.0.0.3 unknown/unknown SASL_SSL");
    kc_view_free(&v);

    build(&v, &f, KC_GROUP_CLIENT_ADDRESS, false, no_sort);
    assert_int_equal(v.n_groups, 4);
    expect_group(&v.groups[0], "10.0.0.1 2 0;1 User:alice 10.0.0.1 "
                               "confluent-kafka-python/1.7.0;librdkafka/2.0.2 "
                               "SASL_PLAINTEXT;SASL_SSL");
    char k[64];
    assert_string_equal(key(&v.groups[3], k, sizeof k), "10.0.0.9");
    kc_view_free(&v);

    build(&v, &f, KC_GROUP_NONE, false, no_sort);
    assert_null(v.groups);
    assert_int_equal(v.n_principals, 3);
    kc_view_free(&v);
    fx_free(&f);
}

/* Rows: by principal, then broker, then the broker's accept order. */
static void test_rows_default_order_and_sort(void **state)
{
    (void)state;
    fx f;
    kc_view v;
    cluster(&f);
    build(&v, &f, KC_GROUP_NONE, false, no_sort);
    static const uint16_t by_default[] = {40001, 40003, 40005, 40002, 40004};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(v.rows[i].c->w->client_port, by_default[i]);
    kc_view_free(&v);

    kc_sort idle = {kc_column_find(KC_GROUP_NONE, "idle_ms"), true};
    build(&v, &f, KC_GROUP_NONE, false, idle);
    /* bob 90 s, alice 30 s, carol 2 s (against broker 1's own clock), then
     * two of 1.5 s in the default order. */
    static const uint16_t by_idle[] = {40002, 40003, 40004, 40001, 40005};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(v.rows[i].c->w->client_port, by_idle[i]);
    assert_int_equal(kc_row_idle_ms(&v.rows[0]), 90000);
    assert_int_equal(kc_row_idle_ms(&v.rows[2]), 2000);
    assert_int_equal(kc_row_idle_ms(&v.rows[4]), 1500);
    kc_view_free(&v);

    kc_sort port = {kc_column_find(KC_GROUP_NONE, "client_port"), false};
    build(&v, &f, KC_GROUP_NONE, false, port);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(v.rows[i].c->w->client_port, 40001 + i);
    kc_view_free(&v);

    kc_sort name_desc = {kc_column_find(KC_GROUP_PRINCIPAL, "principal"), true};
    build(&v, &f, KC_GROUP_PRINCIPAL, false, name_desc);
    char k[64];
    assert_string_equal(key(&v.groups[0], k, sizeof k), "User:carol");
    assert_string_equal(key(&v.groups[2], k, sizeof k), "User:alice");
    kc_view_free(&v);

    /* Lists sort by their length; the failed broker's unknown list comes last. */
    kc_sort addresses = {kc_column_find(KC_GROUP_BROKER, "client_addresses"), false};
    build(&v, &f, KC_GROUP_BROKER, false, addresses);
    assert_int_equal(v.groups[0].node_id, 1);
    assert_int_equal(v.groups[2].node_id, 2);
    kc_view_free(&v);
    fx_free(&f);
}

/* Summaries: counts by principal, split by listener and software, from
 * every broker; addresses cannot be known. */
static void test_summary_answers_merge_by_principal_listener_and_software(void **state)
{
    (void)state;
    fx f;
    kc_view v;
    fx_init(&f);
    kc_result *b0 = fx_broker(&f, 0, "h0", 9092, KC_OK, NULL, T0);
    kc_result *b1 = fx_broker(&f, 1, "h1", 9092, KC_OK, NULL, T0);
    fx_summary(b0, "User:alice", 3, (const char *const[]){"SASL_SSL", "PLAINTEXT", NULL},
               (const char *const[]){"librdkafka/2.0.2", NULL}, (const int32_t[]){2, 1, 3});
    fx_summary(b0, "User:bob", 1, (const char *const[]){"SASL_SSL", NULL},
               (const char *const[]){"unknown/unknown", NULL}, (const int32_t[]){1, 1});
    fx_summary(b1, "User:alice", 2, (const char *const[]){"SASL_SSL", NULL},
               (const char *const[]){"librdkafka/2.0.2", "kafkajs/2.2.4", NULL},
               (const int32_t[]){2, 1, 1});
    build(&v, &f, KC_GROUP_PRINCIPAL, true, no_sort);
    assert_int_equal(v.n_rows, 0);
    assert_int_equal(v.connections, 6);
    expect_group(&v.principals[0], "User:alice 5 0;1 User:alice ? kafkajs/2.2.4;librdkafka/2.0.2 "
                                   "PLAINTEXT;SASL_SSL");
    expect_group(&v.principals[1], "User:bob 1 0 User:bob ? unknown/unknown SASL_SSL");
    kc_view_free(&v);

    build(&v, &f, KC_GROUP_LISTENER, true, no_sort);
    assert_int_equal(v.n_groups, 2);
    expect_group(&v.groups[0], "SASL_SSL 5 0;1 User:alice;User:bob ? ? SASL_SSL");
    expect_group(&v.groups[1], "PLAINTEXT 1 0 User:alice ? ? PLAINTEXT");
    kc_view_free(&v);

    build(&v, &f, KC_GROUP_CLIENT_SOFTWARE, true, no_sort);
    expect_group(&v.groups[0], "librdkafka/2.0.2 4 0;1 User:alice ? librdkafka/2.0.2 ?");
    kc_view_free(&v);

    build(&v, &f, KC_GROUP_BROKER, true, no_sort);
    expect_group(&v.groups[0], "0 4 0 User:alice;User:bob ? librdkafka/2.0.2;unknown/unknown "
                               "PLAINTEXT;SASL_SSL");
    expect_group(&v.groups[1], "1 2 1 User:alice ? kafkajs/2.2.4;librdkafka/2.0.2 SASL_SSL");
    kc_view_free(&v);
    fx_free(&f);
}

/* No connection anywhere: every view is empty, brokers still listed. */
static void test_empty_answers_give_empty_views(void **state)
{
    (void)state;
    fx f;
    kc_view v;
    fx_init(&f);
    fx_broker(&f, 0, "h0", 9092, KC_OK, NULL, T0);
    fx_broker(&f, 1, "h1", 9092, KC_ERROR, "broker 1 (h1:9092): boom", -1);
    for (int kind = KC_GROUP_PRINCIPAL; kind <= KC_GROUP_NONE; kind++) {
        for (int summary = 0; summary <= 1; summary++) {
            build(&v, &f, kind, summary, no_sort);
            assert_int_equal(v.n_rows, 0);
            assert_int_equal(v.n_principals, 0);
            assert_int_equal(v.connections, 0);
            assert_int_equal(v.n_groups, kind == KC_GROUP_BROKER ? 2 : 0);
            kc_view_free(&v);
        }
    }
    fx_free(&f);
}

/* A broker that matched more than it listed (--limit) marks the view. */
static void test_truncated_when_a_broker_lists_fewer_than_it_counted(void **state)
{
    (void)state;
    fx f;
    kc_view v;
    fx_init(&f);
    kc_result *b0 = fx_broker(&f, 0, "h0", 9092, KC_OK, NULL, T0);
    fx_conn(b0, "User:alice", "10.0.0.1", 1, "x", "1", "L");
    b0->total_count = 10;
    build(&v, &f, KC_GROUP_PRINCIPAL, false, no_sort);
    assert_true(v.truncated);
    kc_view_free(&v);
    fx_free(&f);
}

/* The tool's own connections leave the answer: with a client id unique to
 * the run, every row carrying it; with one the user chose (which other
 * clients may share), only rows whose software is kafka-connections. */
static void test_own_connections_are_dropped_from_the_answer(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    kc_result *b0 = fx_broker(&f, 0, "h", 1, KC_OK, NULL, T0);
    fx_conn(b0, "User:old", "10.0.0.1", 1, "kafka-connections", "0.1.0", "L")->client_id_index =
        fx_str(b0, kcp_str_c("kafka-connections-42-beef"));
    fx_conn(b0, "User:old", "10.0.0.1", 2, "librdkafka", "2.0.2", "L")->client_id_index =
        fx_str(b0, kcp_str_c("kafka-connections-42-beef"));
    fx_conn(b0, "User:old", "10.0.0.2", 3, "librdkafka", "2.0.2", "L")->client_id_index =
        fx_str(b0, kcp_str_c("billing"));
    fx_conn(b0, "User:old", "10.0.0.3", 4, "kafka-connections", "0.1.0", "L")->client_id_index =
        fx_str(b0, kcp_str_c("billing"));
    assert_int_equal(b0->total_count, 4);
    assert_int_equal(kc_result_drop_own(b0, "kafka-connections-42-beef", true), 2);
    assert_int_equal(b0->n_rows, 2);
    assert_int_equal(b0->total_count, 2);
    assert_int_equal(b0->rows[0].w->client_port, 3);
    assert_int_equal(kc_result_drop_own(b0, "billing", false), 1);
    assert_int_equal(b0->n_rows, 1);
    assert_int_equal(b0->rows[0].w->client_port, 3);
    assert_int_equal(kc_result_drop_own(b0, NULL, false), 0);
    fx_free(&f);
}

static void snapshot_of(const fx *f, kc_snapshot *s)
{
    kc_view v;
    build(&v, f, KC_GROUP_NONE, false, no_sort);
    assert_int_equal(kc_snapshot_take(s, &v), 0);
    kc_view_free(&v);
}

static void test_watch_changes_name_appeared_and_closed_connections(void **state)
{
    (void)state;
    fx f, g;
    kc_snapshot before, after;
    kc_changes ch;
    cluster(&f);
    snapshot_of(&f, &before);
    assert_int_equal(before.n, 5);

    /* The next refresh: bob's connection is listed as closed, carol's is
     * gone, dave's is new. */
    fx_init(&g);
    kc_result *b0 = fx_broker(&g, 0, "127.0.0.1", 9092, KC_OK, NULL, T0 + 2000);
    kc_result *b1 = fx_broker(&g, 1, "127.0.0.1", 9093, KC_OK, NULL, T0 + 2000);
    fx_conn(b0, "User:alice", "10.0.0.2", 40001, "librdkafka", "2.0.2", "SASL_SSL");
    fx_conn(b0, "User:bob", "10.0.0.3", 40002, "unknown", "unknown", "SASL_SSL")->state = 3;
    fx_conn(b0, "User:alice", "10.0.0.1", 40003, "librdkafka", "2.0.2", "SASL_SSL");
    fx_conn(b0, "User:dave", "10.0.0.4", 40006, "kafkajs", "2.2.4", "SASL_SSL");
    fx_conn(b1, "User:alice", "10.0.0.1", 40005, "confluent-kafka-python", "1.7.0",
            "SASL_PLAINTEXT");
    snapshot_of(&g, &after);
    assert_int_equal(after.n, 4);

    assert_int_equal(kc_changes_diff(&before, &after, &ch), 0);
    assert_int_equal(ch.n_appeared, 1);
    assert_string_equal(ch.appeared[0]->principal, "User:dave");
    assert_string_equal(ch.appeared[0]->client_software, "kafkajs/2.2.4");
    assert_int_equal(ch.appeared[0]->client_port, 40006);
    assert_int_equal(ch.n_closed, 2);
    assert_string_equal(ch.closed[0]->principal, "User:bob");
    assert_int_equal(ch.closed[0]->node_id, 0);
    assert_string_equal(ch.closed[1]->principal, "User:carol");
    assert_int_equal(ch.closed[1]->node_id, 1);
    assert_string_equal(ch.closed[1]->client_host, "10.0.0.9");
    kc_changes_free(&ch);

    /* Nothing changed: nothing reported. */
    assert_int_equal(kc_changes_diff(&after, &after, &ch), 0);
    assert_int_equal(ch.n_appeared + ch.n_closed, 0);
    kc_changes_free(&ch);
    kc_snapshot_free(&before);
    kc_snapshot_free(&after);
    fx_free(&f);
    fx_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_principals_merge_counts_brokers_addresses_and_software),
        cmocka_unit_test(test_every_group_by_key),
        cmocka_unit_test(test_rows_default_order_and_sort),
        cmocka_unit_test(test_summary_answers_merge_by_principal_listener_and_software),
        cmocka_unit_test(test_empty_answers_give_empty_views),
        cmocka_unit_test(test_truncated_when_a_broker_lists_fewer_than_it_counted),
        cmocka_unit_test(test_own_connections_are_dropped_from_the_answer),
        cmocka_unit_test(test_watch_changes_name_appeared_and_closed_connections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
