/*
 * The command line of kafka-connections (cli/kc_options.c): every message a
 * user can get for a bad flag or value, that no message echoes what may be a
 * secret, the values the flags turn into, durations, and the request sent
 * to the brokers (cli/kc_request.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kc_columns.h"
#include "kc_options.h"
#include "kc_request.h"
#include "kc_text.h"

#include <stdio.h>
#include <string.h>

#define MAX_ARGS 32
#define BS "--bootstrap-server", "127.0.0.1:9092"

/* Parses a NULL-terminated argument list (without the program name). */
static int parse(kc_options *o, char *err, size_t size, const char *const *args)
{
    char *argv[MAX_ARGS + 2] = {"kafka-connections"};
    int argc = 1;
    while (args[argc - 1]) {
        assert_true(argc <= MAX_ARGS);
        argv[argc] = (char *)args[argc - 1];
        argc++;
    }
    argv[argc] = NULL;
    err[0] = '\0';
    return kc_options_parse(o, argc, argv, err, size);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The arguments fail to parse with exactly this message. */
static void expect_error(const char *const *args, const char *message)
{
    kc_options o;
    char err[512];
    int rc = parse(&o, err, sizeof err, args);
    kc_options_free(&o);
    if (rc != -1 || strcmp(err, message) != 0) {
        print_error("expected error: %s\n     got (rc %d): %s\n", message, rc, err);
        fail();
    }
}

static void test_every_usage_error_names_the_option_and_value(void **state)
{
    (void)state;
    const struct {
        const char *const *args;
        const char *message;
    } cases[] = {
        {ARGS("--summary"), "--bootstrap-server is required"},
        {ARGS("--bootstrap-server", "kafka"),
         "--bootstrap-server: 'kafka' is not HOST:PORT (IPv6 as [ADDRESS]:PORT)"},
        {ARGS("--bootstrap-server", "a:9092,b"),
         "--bootstrap-server: 'b' is not HOST:PORT (IPv6 as [ADDRESS]:PORT)"},
        {ARGS("--bootstrap-server", "a:0"),
         "--bootstrap-server: 'a:0' is not HOST:PORT (IPv6 as [ADDRESS]:PORT)"},
        {ARGS("--bootstrap-server", "a:65536"),
         "--bootstrap-server: 'a:65536' is not HOST:PORT (IPv6 as [ADDRESS]:PORT)"},
        {ARGS("--bootstrap-server", ":9092"),
         "--bootstrap-server: ':9092' is not HOST:PORT (IPv6 as [ADDRESS]:PORT)"},
        {ARGS("--bootstrap-server", "::1:9092"),
         "--bootstrap-server: '::1:9092' is not HOST:PORT (IPv6 as [ADDRESS]:PORT)"},
        {ARGS(BS, "--frobnicate"), "unknown option '--frobnicate'"},
        {ARGS(BS, "-Z"), "unknown option '-Z'"},
        {ARGS(BS, "--c", "x"), "option '--c' is ambiguous"},
        {ARGS(BS, "--summary=yes"), "option '--summary' takes no value"},
        {ARGS(BS, "--principal"), "option '--principal' needs a value"},
        {ARGS(BS, "-X"), "option '-X' needs a value"},
        {ARGS(BS, "-X", "debug"), "-X: expected KEY=VALUE (the argument has no '=')"},
        {ARGS(BS, "-X", "=x"), "-X: expected KEY=VALUE (the key is empty)"},
        {ARGS(BS, "--principal", ""), "--principal: empty principal"},
        {ARGS(BS, "--principal", ":alice"),
         "--principal: ':alice' has no type before ':' (User:NAME)"},
        {ARGS(BS, "--principal", "User:"), "--principal: 'User:' has no name after ':'"},
        {ARGS(BS, "--listener", ""), "--listener: empty listener name"},
        {ARGS(BS, "--client-address", "10.0.0.0/33"),
         "--client-address: '10.0.0.0/33' is not an IP address or CIDR block (10.1.2.3, "
         "10.1.0.0/16, 2001:db8::/32)"},
        {ARGS(BS, "--client-address", "broker.example.com"),
         "--client-address: 'broker.example.com' is not an IP address or CIDR block (10.1.2.3, "
         "10.1.0.0/16, 2001:db8::/32)"},
        {ARGS(BS, "--client-address", "10.0.0.0/"),
         "--client-address: '10.0.0.0/' is not an IP address or CIDR block (10.1.2.3, "
         "10.1.0.0/16, 2001:db8::/32)"},
        {ARGS(BS, "--client-address", "2001:db8::/129"),
         "--client-address: '2001:db8::/129' is not an IP address or CIDR block (10.1.2.3, "
         "10.1.0.0/16, 2001:db8::/32)"},
        {ARGS(BS, "--client-address", "10.0.0.0/+8"),
         "--client-address: '10.0.0.0/+8' is not an IP address or CIDR block (10.1.2.3, "
         "10.1.0.0/16, 2001:db8::/32)"},
        {ARGS(BS, "--client-software", "lib rdkafka"),
         "--client-software: 'lib rdkafka' is not NAME or NAME/VERSION (letters, digits, '-' and "
         "'.', starting and ending with a letter or digit)"},
        {ARGS(BS, "--client-software", "librdkafka/"),
         "--client-software: 'librdkafka/' is not NAME or NAME/VERSION (letters, digits, '-' and "
         "'.', starting and ending with a letter or digit)"},
        {ARGS(BS, "--client-software", "-x/1"),
         "--client-software: '-x/1' is not NAME or NAME/VERSION (letters, digits, '-' and "
         "'.', starting and ending with a letter or digit)"},
        {ARGS(BS, "--idle-longer-than", "5"),
         "--idle-longer-than: '5' is not a duration (500ms, 30s, 5m, 1h, 2d, 1h30m)"},
        {ARGS(BS, "--idle-longer-than", "5w"),
         "--idle-longer-than: '5w' is not a duration (500ms, 30s, 5m, 1h, 2d, 1h30m)"},
        {ARGS(BS, "--state", "opened"), "--state: 'opened' is not open, closed or all"},
        {ARGS(BS, "--limit", "0"), "--limit: '0' is not a whole number from 1 to 2147483647"},
        {ARGS(BS, "--limit", "2147483648"),
         "--limit: '2147483648' is not a whole number from 1 to 2147483647"},
        {ARGS(BS, "--limit", "10x"), "--limit: '10x' is not a whole number from 1 to 2147483647"},
        {ARGS(BS, "--group-by", "user"),
         "--group-by: 'user' is not principal, broker, client-software, client-address, listener "
         "or none"},
        {ARGS(BS, "--output", "yaml"), "--output: 'yaml' is not table, json or csv"},
        {ARGS(BS, "--watch", "0"), "--watch: '0' is not a whole number from 1 to 86400"},
        {ARGS(BS, "--parallelism", "1025"),
         "--parallelism: '1025' is not a whole number from 1 to 1024"},
        {ARGS(BS, "--timeout", "0"), "--timeout: '0' is not a whole number from 1 to 2147483647"},
        {ARGS(BS, "--broker", "-1"), "--broker: '-1' is not a whole number from 0 to 2147483647"},
        {ARGS(BS, "--api-key", "32768"),
         "--api-key: '32768' is not a whole number from 0 to 32767"},
        {ARGS(BS, "extra"), "unexpected argument 'extra'"},
        {ARGS(BS, "-X", "sasl.password=", "extra"),
         "unexpected argument after 'sasl.password' (a space after '='? The argument is not "
         "shown: it may be a secret)"},
        {ARGS(BS, "--timeout", "5", "--timeout", "6"), "option '--timeout' is given more than once"},
        {ARGS(BS, "--command-config", "a.properties", "--command-config=b.properties"),
         "option '--command-config' is given more than once"},
        {ARGS("--bootstrap-server", "127.0.0.1:1", BS),
         "option '--bootstrap-server' is given more than once"},
        {ARGS(BS, "--summary", "--group-by", "none"),
         "--summary cannot be combined with --group-by none (summaries carry counts by "
         "principal, broker, listener and client software)"},
        {ARGS(BS, "--summary", "--group-by", "client-address"),
         "--summary cannot be combined with --group-by client-address (summaries carry counts "
         "by principal, broker, listener and client software)"},
        {ARGS(BS, "--summary", "--limit", "5"),
         "--limit has no effect with --summary (summaries are never cut short)"},
        {ARGS(BS, "--watch", "2", "--expect-none"),
         "--expect-none cannot be combined with --watch"},
        {ARGS(BS, "--watch", "2", "--output", "csv"),
         "--watch writes a table to a terminal and JSON lines otherwise, not CSV"},
        {ARGS(BS, "--output", "json", "--columns", "principal"),
         "--columns applies to table and CSV output; the JSON object is fixed"},
        {ARGS(BS, "--sort", "bytes"),
         "--sort: unknown field 'bytes' for --group-by principal (one of: principal, "
         "connections, brokers, client_addresses, client_software, listeners)"},
        {ARGS(BS, "--sort", "connections:up"), "--sort: 'up' is not asc or desc"},
        {ARGS(BS, "--group-by", "none", "--columns", "principal,,state"),
         "--columns: empty column name in 'principal,,state'"},
        {ARGS(BS, "--group-by", "broker", "--columns", "node_id,idle"),
         "--columns: unknown field 'idle' for --group-by broker (one of: node_id, host, port, "
         "endpoint, status, restricted, connections, principals, client_addresses, "
         "client_software, listeners, error)"},
        {ARGS(BS, "--summary", "--columns", "principal,client_addresses"),
         "--columns: 'client_addresses' is not available with --summary (one of: principal, "
         "connections, brokers, client_software, listeners)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_error(cases[i].args, cases[i].message);
}

/* A mistyped flag or -X without '=' may carry a password: never echo it. */
static void test_errors_never_echo_a_possible_secret(void **state)
{
    (void)state;
    const char *const *const cases[] = {
        ARGS(BS, "--sasl-password=hunter2"),
        ARGS(BS, "-X", "hunter2"),
        ARGS(BS, "--pass=hunter2"),
        ARGS(BS, "-X", "sasl.password=", "hunter2"),
        ARGS(BS, "-Xsasl.password=", "hunter2"),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kc_options o;
        char err[512];
        assert_int_equal(parse(&o, err, sizeof err, cases[i]), -1);
        kc_options_free(&o);
        if (strstr(err, "hunter2")) {
            print_error("message echoes the secret: %s\n", err);
            fail();
        }
    }
}

static void test_filters_are_normalised_as_kafka_writes_them(void **state)
{
    (void)state;
    kc_options o;
    char err[512];
    assert_int_equal(parse(&o, err, sizeof err,
                           ARGS(BS, "--principal", "alice", "--principal", "User:bob",
                                "--principal", "User:CN=x,OU=y", "--listener", "sasl_ssl",
                                "--client-address", "10.1.0.0/16", "--client-address", "::1",
                                "--client-software", "librdkafka/2.0.2", "--client-id", "",
                                "--idle-longer-than", "1h30m", "--state", "closed", "--limit",
                                "50")),
                     0);
    assert_int_equal(o.principals.n, 3);
    assert_string_equal(o.principals.v[0], "User:alice");
    assert_string_equal(o.principals.v[1], "User:bob");
    assert_string_equal(o.principals.v[2], "User:CN=x,OU=y");
    assert_string_equal(o.listeners.v[0], "SASL_SSL");
    assert_int_equal(o.client_addresses.n, 2);
    assert_string_equal(o.client_software.v[0], "librdkafka/2.0.2");
    assert_int_equal(o.client_ids.n, 1);
    assert_string_equal(o.client_ids.v[0], "");
    assert_int_equal(o.min_idle_ms, 5400000);
    assert_int_equal(o.state, KC_STATES_CLOSED);
    assert_int_equal(o.limit, 50);

    kcp_describe_connections_request req;
    assert_int_equal(kc_request_build(&o, &req, err, sizeof err), 0);
    assert_int_equal(req.principals.n, 3);
    assert_true(kcp_str_eq(req.principals.v[0], kcp_str_c("User:alice")));
    assert_int_equal(req.listeners.n, 1);
    assert_int_equal(req.client_addresses.n, 2);
    assert_int_equal(req.client_software.n, 1);
    assert_int_equal(req.client_ids.n, 1);
    assert_int_equal(req.client_ids.v[0].len, 0);
    assert_int_equal(req.states.n, 1);
    assert_int_equal(req.states.v[0], 3);
    assert_true(req.include_closed);
    assert_false(req.summary_only);
    assert_int_equal(req.min_idle_ms, 5400000);
    assert_int_equal(req.limit, 50);
    char why[256];
    assert_int_equal(kcp_describe_connections_request_validate(&req, 0, why, sizeof why), 0);
    kcp_describe_connections_request_free(&req);
    kc_options_free(&o);
}

/* Without a filter flag, the request carries null (match anything), not
 * an empty list (match nothing). */
static void test_defaults_send_null_filters_and_open_connections(void **state)
{
    (void)state;
    kc_options o;
    char err[512];
    kcp_describe_connections_request req;
    assert_int_equal(parse(&o, err, sizeof err, ARGS(BS)), 0);
    assert_int_equal(kc_request_build(&o, &req, err, sizeof err), 0);
    assert_int_equal(req.principals.n, -1);
    assert_int_equal(req.listeners.n, -1);
    assert_int_equal(req.client_addresses.n, -1);
    assert_int_equal(req.client_software.n, -1);
    assert_int_equal(req.client_ids.n, -1);
    assert_int_equal(req.states.n, -1);
    assert_false(req.include_closed);
    assert_int_equal(req.min_idle_ms, -1);
    assert_int_equal(req.limit, 0);
    assert_int_equal(o.group_by, KC_GROUP_PRINCIPAL);
    assert_int_equal(o.output, KC_OUTPUT_TABLE);
    assert_int_equal(o.sort.column, -1);
    assert_int_equal(o.api_key, -1);
    kcp_describe_connections_request_free(&req);
    kc_options_free(&o);

    assert_int_equal(parse(&o, err, sizeof err, ARGS(BS, "--state", "all", "--summary")), 0);
    assert_int_equal(kc_request_build(&o, &req, err, sizeof err), 0);
    assert_int_equal(req.states.n, -1);
    assert_true(req.include_closed);
    assert_true(req.summary_only);
    kcp_describe_connections_request_free(&req);
    kc_options_free(&o);
}

/* A table groups by principal, a CSV lists connections unless told. */
static void test_group_by_default_depends_on_output(void **state)
{
    (void)state;
    kc_options o;
    char err[512];
    assert_int_equal(parse(&o, err, sizeof err, ARGS(BS, "--output", "csv")), 0);
    assert_int_equal(o.group_by, KC_GROUP_NONE);
    kc_options_free(&o);
    assert_int_equal(parse(&o, err, sizeof err, ARGS(BS, "--output", "csv", "--summary")), 0);
    assert_int_equal(o.group_by, KC_GROUP_PRINCIPAL);
    kc_options_free(&o);
    assert_int_equal(parse(&o, err, sizeof err, ARGS(BS, "--output", "csv", "--group-by", "listener")), 0);
    assert_int_equal(o.group_by, KC_GROUP_LISTENER);
    kc_options_free(&o);
    assert_int_equal(parse(&o, err, sizeof err, ARGS(BS, "--output", "json")), 0);
    assert_int_equal(o.group_by, KC_GROUP_PRINCIPAL);
    kc_options_free(&o);
}

static void test_sort_and_columns_resolve_to_the_view_columns(void **state)
{
    (void)state;
    kc_options o;
    char err[512];
    size_t n;
    const kc_column *cols;
    assert_int_equal(parse(&o, err, sizeof err,
                           ARGS(BS, "--group-by", "none", "--sort", "idle_ms", "--columns",
                                "principal,client,idle")),
                     0);
    cols = kc_view_columns(KC_GROUP_NONE, &n);
    assert_string_equal(cols[o.sort.column].name, "idle_ms");
    assert_true(o.sort.desc); /* most idle first */
    assert_int_equal(o.n_columns, 3);
    assert_string_equal(cols[o.columns[0]].name, "principal");
    assert_string_equal(cols[o.columns[2]].name, "idle");
    kc_options_free(&o);

    assert_int_equal(parse(&o, err, sizeof err,
                           ARGS(BS, "--group-by", "none", "--sort", "connected_at:desc")),
                     0);
    assert_string_equal(cols[o.sort.column].name, "connected_at");
    assert_true(o.sort.desc);
    kc_options_free(&o);

    assert_int_equal(parse(&o, err, sizeof err, ARGS(BS, "--sort", "key:asc")), 0);
    cols = kc_view_columns(KC_GROUP_PRINCIPAL, &n);
    assert_string_equal(cols[o.sort.column].name, "principal");
    assert_false(o.sort.desc);
    kc_options_free(&o);

    /* One name, two meanings: the key of a software group, a list elsewhere. */
    assert_int_equal(parse(&o, err, sizeof err,
                           ARGS(BS, "--group-by", "client-software", "--sort", "client_software")),
                     0);
    assert_false(o.sort.desc);
    kc_options_free(&o);
    assert_int_equal(parse(&o, err, sizeof err, ARGS(BS, "--sort", "client_software")), 0);
    assert_true(o.sort.desc);
    kc_options_free(&o);
}

static void test_connection_flags_and_repeatable_values(void **state)
{
    (void)state;
    kc_options o;
    char err[512];
    assert_int_equal(parse(&o, err, sizeof err,
                           ARGS("--bootstrap-server", "[::1]:9092,b:9093", "--command-config",
                                "/x.properties", "-X", "a=1", "-Xb=2", "--broker", "2",
                                "--broker", "0", "--parallelism", "4", "--timeout", "1500",
                                "--api-key", "1001", "--expect-none")),
                     0);
    assert_string_equal(o.bootstrap, "[::1]:9092,b:9093");
    assert_string_equal(o.command_config, "/x.properties");
    assert_int_equal(o.props.n, 2);
    assert_string_equal(o.props.v[1], "b=2");
    assert_int_equal(o.n_brokers, 2);
    assert_int_equal(o.brokers[0], 2);
    assert_int_equal(o.parallelism, 4);
    assert_int_equal(o.timeout_ms, 1500);
    assert_int_equal(o.api_key, 1001);
    assert_true(o.expect_none);
    kc_options_free(&o);

    assert_int_equal(parse(&o, err, sizeof err, ARGS("--help")), 0);
    assert_true(o.help);
    kc_options_free(&o);
    assert_int_equal(parse(&o, err, sizeof err, ARGS("--version")), 0);
    assert_true(o.version);
    kc_options_free(&o);
}

static void test_durations_take_every_unit_and_refuse_the_rest(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t ms;
    } good[] = {
        {"500ms", 500},   {"30s", 30000},       {"5m", 300000},     {"1h", 3600000},
        {"2d", 172800000}, {"1h30m", 5400000},  {"0s", 0},          {"1m30s500ms", 90500},
    };
    static const char *const bad[] = {"", "5", "s", "5 s", "-5s", "1.5h", "5S", "5sec", "1h-",
                                      "99999999999999999999s", "9223372036854775807d"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t ms = -1;
        assert_int_equal(kc_parse_duration(good[i].text, &ms), 0);
        assert_int_equal(ms, good[i].ms);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms;
        if (kc_parse_duration(bad[i], &ms) == 0) {
            print_error("'%s' parsed as a duration\n", bad[i]);
            fail();
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_usage_error_names_the_option_and_value),
        cmocka_unit_test(test_errors_never_echo_a_possible_secret),
        cmocka_unit_test(test_filters_are_normalised_as_kafka_writes_them),
        cmocka_unit_test(test_defaults_send_null_filters_and_open_connections),
        cmocka_unit_test(test_group_by_default_depends_on_output),
        cmocka_unit_test(test_sort_and_columns_resolve_to_the_view_columns),
        cmocka_unit_test(test_connection_flags_and_repeatable_values),
        cmocka_unit_test(test_durations_take_every_unit_and_refuse_the_rest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
