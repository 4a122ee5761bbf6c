/*
 * Exit status of kafka-connections (cli/kc_exit.c): the whole matrix of
 * complete / incomplete / restricted answers with and without
 * --expect-none, and the stderr line that names each broker that made an
 * answer incomplete. Fail closed: nothing incomplete ever exits 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli_fixture.h"
#include "kc_exit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1714567890123)

enum { NO_ROWS = 0, ROWS = 1 };

/* Broker 0 ok, broker 1 with the given status and restriction; rows on
 * broker 0 when with_rows. */
static void two_brokers(fx *f, int status1, bool restricted1, bool with_rows)
{
    fx_init(f);
    kc_result *b0 = fx_broker(f, 0, "127.0.0.1", 9092, KC_OK, NULL, T0);
    kc_result *b1 = fx_broker(f, 1, "127.0.0.1", 9093, status1,
                              status1 == KC_OK ? NULL : "broker 1 (127.0.0.1:9093): it failed", T0);
    b1->restricted = restricted1;
    if (with_rows)
        fx_conn(b0, "User:old", "10.0.0.1", 1, "librdkafka", "2.0.2", "SASL_SSL");
}

static const kcp_str only_old[] = {{"User:old", 8}};
static const kcp_str old_and_admin[] = {{"User:old", 8}, {"User:admin", 10}};

static int code(const fx *f, bool expect_none, const kcp_str *principals, int32_t n,
                const char *self)
{
    kc_question q = {expect_none, false, principals, n, self};
    return kc_exit_code(f->results, f->n, &q);
}

static void test_exit_status_matrix(void **state)
{
    (void)state;
    static const struct {
        int status1;
        bool restricted1, rows, expect_none;
        int principals; /* 0 none (everyone), 1 only User:old, 2 User:old and User:admin */
        const char *self;
        int exit;
    } cases[] = {
        /* Complete answers. */
        {KC_OK, false, NO_ROWS, false, 0, NULL, KC_EXIT_OK},
        {KC_OK, false, ROWS, false, 0, NULL, KC_EXIT_OK},
        {KC_OK, false, NO_ROWS, true, 0, NULL, KC_EXIT_OK},
        {KC_OK, false, ROWS, true, 0, NULL, KC_EXIT_FOUND},
        /* A broker missing, for every reason. */
        {KC_UNREACHABLE, false, NO_ROWS, false, 0, NULL, KC_EXIT_INCOMPLETE},
        {KC_UNSUPPORTED, false, NO_ROWS, false, 0, NULL, KC_EXIT_INCOMPLETE},
        {KC_UNAUTHORIZED, false, NO_ROWS, false, 0, NULL, KC_EXIT_INCOMPLETE},
        {KC_ERROR, false, ROWS, false, 0, NULL, KC_EXIT_INCOMPLETE},
        /* --expect-none never passes on an incomplete answer; a match found
         * elsewhere is proof enough to fail it. */
        {KC_UNREACHABLE, false, NO_ROWS, true, 1, "User:old", KC_EXIT_INCOMPLETE},
        {KC_UNREACHABLE, false, ROWS, true, 1, "User:old", KC_EXIT_FOUND},
        /* Restricted views: complete only when the question was about the
         * caller's own principal and nobody else. */
        {KC_OK, true, NO_ROWS, false, 0, "User:old", KC_EXIT_INCOMPLETE},
        {KC_OK, true, NO_ROWS, true, 0, "User:old", KC_EXIT_INCOMPLETE},
        {KC_OK, true, NO_ROWS, true, 1, "User:old", KC_EXIT_OK},
        {KC_OK, true, NO_ROWS, true, 2, "User:old", KC_EXIT_INCOMPLETE},
        {KC_OK, true, NO_ROWS, true, 1, "User:admin", KC_EXIT_INCOMPLETE},
        {KC_OK, true, NO_ROWS, true, 1, NULL, KC_EXIT_INCOMPLETE},
        {KC_OK, true, ROWS, true, 1, "User:old", KC_EXIT_FOUND},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx f;
        two_brokers(&f, cases[i].status1, cases[i].restricted1, cases[i].rows);
        const kcp_str *p = cases[i].principals == 0 ? NULL
                           : cases[i].principals == 1 ? only_old
                                                      : old_and_admin;
        int n = cases[i].principals == 0 ? -1 : cases[i].principals;
        int got = code(&f, cases[i].expect_none, p, n, cases[i].self);
        fx_free(&f);
        if (got != cases[i].exit) {
            print_error("case %zu: exit %d, expected %d\n", i, got, cases[i].exit);
            fail();
        }
    }
}

/* Exit 4: nothing to ask, or no broker took the credentials. */
static void test_no_access_at_all(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    assert_int_equal(code(&f, true, NULL, -1, NULL), KC_EXIT_NO_ACCESS);
    fx_broker(&f, 0, "h", 1, KC_UNAUTHORIZED, "broker 0 (h:1): SASL authentication failed", -1);
    fx_broker(&f, 1, "h", 2, KC_UNAUTHORIZED, "broker 1 (h:2): SASL authentication failed", -1);
    assert_int_equal(code(&f, false, NULL, -1, NULL), KC_EXIT_NO_ACCESS);
    assert_int_equal(code(&f, true, NULL, -1, NULL), KC_EXIT_NO_ACCESS);
    fx_broker(&f, 2, "h", 3, KC_UNREACHABLE, "broker 2 (h:3): timed out", -1);
    assert_int_equal(code(&f, false, NULL, -1, NULL), KC_EXIT_INCOMPLETE);
    fx_free(&f);
}

/* Exit 3, not 4, when every broker authenticated us and then denied
 * DescribeConnections (CLUSTER_AUTHORIZATION_FAILED): the credentials
 * work, the answer is incomplete. */
static void test_denied_everywhere_is_incomplete(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    for (int32_t id = 0; id < 2; id++)
        fx_broker(&f, id, "h", (uint16_t)(id + 1), KC_UNAUTHORIZED,
                  "DescribeConnections failed: CLUSTER_AUTHORIZATION_FAILED", -1)
            ->denied = true;
    assert_int_equal(code(&f, false, NULL, -1, NULL), KC_EXIT_INCOMPLETE);
    assert_int_equal(code(&f, true, NULL, -1, NULL), KC_EXIT_INCOMPLETE);
    f.results[1].denied = false;
    assert_int_equal(code(&f, false, NULL, -1, NULL), KC_EXIT_INCOMPLETE);
    f.results[0].denied = false;
    assert_int_equal(code(&f, false, NULL, -1, NULL), KC_EXIT_NO_ACCESS);
    fx_free(&f);
}

/* Summary answers count as matches through their counts. */
static void test_expect_none_with_summaries(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    kc_result *b0 = fx_broker(&f, 0, "h", 1, KC_OK, NULL, T0);
    kc_question q = {true, true, NULL, -1, NULL};
    assert_int_equal(kc_exit_code(f.results, f.n, &q), KC_EXIT_OK);
    fx_summary(b0, "User:old", 2, NULL, NULL, NULL);
    assert_int_equal(kc_exit_code(f.results, f.n, &q), KC_EXIT_FOUND);
    fx_free(&f);
}

/* One line per broker that made the answer incomplete, escaped. */
static void test_report_names_each_incomplete_broker(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    fx_broker(&f, 0, "127.0.0.1", 9092, KC_OK, NULL, T0);
    fx_broker(&f, 1, "127.0.0.1", 9093, KC_UNAUTHORIZED,
              "broker 1 (127.0.0.1:9093): SASL authentication failed: bad \x1b[2Jpassword", -1);
    fx_broker(&f, 2, "::1", 9094, KC_OK, NULL, T0)->restricted = true;
    fx_broker(&f, 3, "127.0.0.1", 9095, KC_ERROR, NULL, -1);
    kc_question q = {false, false, NULL, -1, "User:old"};
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    assert_non_null(mem);
    assert_int_equal(kc_report_incomplete(mem, f.results, f.n, &q), 3);
    fclose(mem);
    assert_string_equal(text,
                        "kafka-connections: broker 1 (127.0.0.1:9093): SASL authentication "
                        "failed: bad \\x1b[2Jpassword\n"
                        "kafka-connections: broker 2 ([::1]:9094): restricted view: these "
                        "credentials may not DESCRIBE the CLUSTER, so only their own "
                        "principal's connections are listed\n"
                        "kafka-connections: broker 3 (127.0.0.1:9095): error\n");
    free(text);
    fx_free(&f);
}

/* CSV cannot say that --limit cut a broker's list short: a note does. */
static void test_report_names_each_truncated_broker(void **state)
{
    (void)state;
    fx f;
    fx_init(&f);
    kc_result *b0 = fx_broker(&f, 0, "127.0.0.1", 9092, KC_OK, NULL, T0);
    kc_result *b1 = fx_broker(&f, 1, "::1", 9093, KC_OK, NULL, T0);
    fx_broker(&f, 2, "127.0.0.1", 9094, KC_UNREACHABLE, "broker 2: refused", -1)->total_count = 9;
    fx_conn(b0, "User:a", "10.0.0.1", 1, "librdkafka", "2.0.2", "SASL_SSL");
    fx_conn(b1, "User:a", "10.0.0.1", 2, "librdkafka", "2.0.2", "SASL_SSL");
    b0->total_count = 1; /* all listed */
    b1->total_count = 120;
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    assert_non_null(mem);
    assert_int_equal(kc_report_truncated(mem, f.results, f.n), 1);
    fclose(mem);
    assert_string_equal(text, "kafka-connections: note: broker 1 ([::1]:9093): 1 of 120 matching "
                              "connections listed (--limit)\n");
    free(text);
    fx_free(&f);
}

static void test_own_principal_is_known_for_sasl_only(void **state)
{
    (void)state;
    char buf[64];
    kc_settings s = {0};
    assert_null(kc_own_principal(&s, buf, sizeof buf));
    s.sasl_mechanism = "SCRAM-SHA-256";
    s.sasl_username = "alice";
    assert_string_equal(kc_own_principal(&s, buf, sizeof buf), "User:alice");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_status_matrix),
        cmocka_unit_test(test_no_access_at_all),
        cmocka_unit_test(test_denied_everywhere_is_incomplete),
        cmocka_unit_test(test_expect_none_with_summaries),
        cmocka_unit_test(test_report_names_each_incomplete_broker),
        cmocka_unit_test(test_report_names_each_truncated_broker),
        cmocka_unit_test(test_own_principal_is_known_for_sasl_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
