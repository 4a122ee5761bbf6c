/*
 * Rows that name their strings by index: kcp_strtab, which an encoder uses
 * to build a DescribeConnections response's Strings while it writes the
 * rows, and kcp_connections_check() / kcp_connections_str(), which a
 * decoder uses to refuse bad indexes and read the strings back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kcp_connections.h"
#include "kcp_strtab.h"
#include "unit_util.h"

/* ---- kcp_strtab --------------------------------------------------------- */

static kcp_str str_n(const char *p, int32_t len)
{
    kcp_str s = {p, len};
    return s;
}

static void assert_entry(const kcp_strtab *t, int32_t i, kcp_str want)
{
    assert_true(i >= 0 && i < t->n);
    if (!kcp_str_eq(t->v[i], want))
        fail_msg("entry %d is \"%.*s\", want \"%.*s\"", (int)i, (int)t->v[i].len, t->v[i].ptr,
                 (int)want.len, want.ptr);
}

static void test_strtab_equal_strings_share_their_first_index(void **state)
{
    (void)state;
    kcp_strtab t;
    kcp_strtab_init(&t);
    char other[] = "User:alice"; /* same bytes, another address */
    assert_int_equal(kcp_strtab_add(&t, kcp_str_c("User:alice")), 0);
    assert_int_equal(kcp_strtab_add(&t, kcp_str_c("User:bob")), 1);
    assert_int_equal(kcp_strtab_add(&t, kcp_str_c(other)), 0);
    /* A prefix, the empty string and bytes after a NUL are all distinct. */
    assert_int_equal(kcp_strtab_add(&t, kcp_str_c("User:")), 2);
    assert_int_equal(kcp_strtab_add(&t, kcp_str_c("")), 3);
    assert_int_equal(kcp_strtab_add(&t, str_n("a\0b", 3)), 4);
    assert_int_equal(kcp_strtab_add(&t, str_n("a\0c", 3)), 5);
    assert_int_equal(kcp_strtab_add(&t, str_n("", 0)), 3);
    assert_int_equal(kcp_strtab_add(&t, str_n("a\0b", 3)), 4);
    assert_int_equal(t.n, 6);
    assert_entry(&t, 0, kcp_str_c("User:alice"));
    assert_entry(&t, 1, kcp_str_c("User:bob"));
    assert_entry(&t, 3, kcp_str_c(""));
    assert_entry(&t, 5, str_n("a\0c", 3));
    kcp_strtab_free(&t);
}

static void test_strtab_null_is_minus_one_and_adds_nothing(void **state)
{
    (void)state;
    kcp_strtab t;
    kcp_strtab_init(&t);
    assert_int_equal(kcp_strtab_add(&t, KCP_STR_NULL), -1);
    assert_int_equal(t.n, 0);
    assert_int_equal(kcp_strtab_add(&t, kcp_str_c("x")), 0);
    int32_t hint = 0;
    assert_int_equal(kcp_strtab_add_hint(&t, KCP_STR_NULL, &hint), -1);
    assert_int_equal(hint, 0); /* a null row does not make the next row miss */
    assert_int_equal(t.n, 1);
    kcp_strtab_free(&t);
}

static void test_strtab_hint_same_different_and_stale(void **state)
{
    (void)state;
    kcp_strtab t;
    kcp_strtab_init(&t);
    int32_t hint = -1;
    /* A new string: added, and the hint follows it. */
    assert_int_equal(kcp_strtab_add_hint(&t, kcp_str_c("SASL_SSL"), &hint), 0);
    assert_int_equal(hint, 0);
    /* The same string again (another buffer): the hinted entry. */
    char same[] = "SASL_SSL";
    assert_int_equal(kcp_strtab_add_hint(&t, kcp_str_c(same), &hint), 0);
    assert_int_equal(hint, 0);
    assert_int_equal(t.n, 1);
    /* A different new string. */
    assert_int_equal(kcp_strtab_add_hint(&t, kcp_str_c("SASL_PLAINTEXT"), &hint), 1);
    assert_int_equal(hint, 1);
    /* A different string the table already holds: its index, not a copy. */
    assert_int_equal(kcp_strtab_add_hint(&t, kcp_str_c("SASL_SSL"), &hint), 0);
    assert_int_equal(hint, 0);
    assert_int_equal(t.n, 2);
    /* A hint past the end (from a longer table) is ignored. */
    hint = 7;
    assert_int_equal(kcp_strtab_add_hint(&t, kcp_str_c("SASL_PLAINTEXT"), &hint), 1);
    assert_int_equal(hint, 1);
    hint = INT32_MIN;
    assert_int_equal(kcp_strtab_add_hint(&t, kcp_str_c("PLAINTEXT"), &hint), 2);
    assert_int_equal(hint, 2);
    /* After a reset a kept hint points at whatever now sits there. */
    kcp_strtab_reset(&t);
    assert_int_equal(kcp_strtab_add(&t, kcp_str_c("PLAINTEXT")), 0);
    hint = 0;
    assert_int_equal(kcp_strtab_add_hint(&t, kcp_str_c("SASL_SSL"), &hint), 1);
    assert_int_equal(hint, 1);
    hint = 2; /* equal to n: stale */
    assert_int_equal(kcp_strtab_add_hint(&t, kcp_str_c("PLAINTEXT"), &hint), 0);
    assert_int_equal(hint, 0);
    assert_int_equal(t.n, 2);
    kcp_strtab_free(&t);
}

#define MANY 20000

static void format_name(char *buf, size_t size, int i)
{
    snprintf(buf, size, "10.%d.%d.%d", i / 65536, i / 256 % 256, i % 256);
}

static void test_strtab_grows_through_thousands_of_strings(void **state)
{
    (void)state;
    kcp_strtab t;
    kcp_strtab_init(&t);
    char name[32];
    int resizes = 0;
    int32_t cap = t.cap;
    for (int i = 0; i < MANY; i++) {
        format_name(name, sizeof name, i);
        int32_t got = kcp_strtab_add(&t, kcp_str_c(name));
        if (got != i)
            fail_msg("string %d (%s) got index %d", i, name, (int)got);
        if (t.cap != cap) {
            resizes++;
            cap = t.cap;
        }
        /* Earlier entries are still found after every resize. */
        if (i % 997 == 0) {
            format_name(name, sizeof name, i / 2);
            assert_int_equal(kcp_strtab_add(&t, kcp_str_c(name)), i / 2);
        }
    }
    assert_true(resizes >= 8);
    assert_int_equal(t.n, MANY);
    /* Every one again, backwards: the same indexes, nothing added. */
    for (int i = MANY - 1; i >= 0; i--) {
        format_name(name, sizeof name, i);
        int32_t got = kcp_strtab_add(&t, kcp_str_c(name));
        if (got != i)
            fail_msg("string %d (%s) found at index %d", i, name, (int)got);
        assert_entry(&t, i, kcp_str_c(name));
    }
    assert_int_equal(t.n, MANY);
    kcp_strtab_free(&t);
    assert_int_equal(t.n, 0);
    assert_null(t.v);
}

/* The hash key changes where strings land, never which index they get;
 * clearing the table keeps the key. */
static void test_strtab_keyed_tables_agree_with_unkeyed_ones(void **state)
{
    (void)state;
    static const uint8_t key[16] = {0x9b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xf1};
    kcp_strtab plain, keyed;
    kcp_strtab_init(&plain);
    kcp_strtab_init(&keyed);
    kcp_strtab_set_key(&keyed, key);
    char name[32];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < MANY; i++) {
            format_name(name, sizeof name, i % 1500);
            assert_int_equal(kcp_strtab_add(&keyed, kcp_str_c(name)),
                             kcp_strtab_add(&plain, kcp_str_c(name)));
        }
        assert_int_equal(keyed.n, 1500);
        /* The slots differ: the same strings, placed by another hash. */
        assert_int_equal(keyed.mask, plain.mask);
        assert_memory_not_equal(keyed.slots, plain.slots,
                                ((size_t)keyed.mask + 1) * sizeof *keyed.slots);
        kcp_strtab_free(&keyed);
        kcp_strtab_free(&plain);
        assert_memory_equal(keyed.key, key, sizeof key);
    }
}

static void test_strtab_reset_starts_over(void **state)
{
    (void)state;
    kcp_strtab t;
    kcp_strtab_init(&t);
    char name[32];
    for (int round = 0; round < 4; round++) {
        /* Each round adds a different set, shifted by round. */
        for (int i = 0; i < 1000; i++) {
            format_name(name, sizeof name, i + round * 500);
            assert_int_equal(kcp_strtab_add(&t, kcp_str_c(name)), i);
        }
        assert_int_equal(t.n, 1000);
        for (int i = 0; i < 1000; i++) {
            format_name(name, sizeof name, i + round * 500);
            assert_entry(&t, i, kcp_str_c(name));
        }
        kcp_strtab_reset(&t);
        assert_int_equal(t.n, 0);
        /* A string of the previous round is new again. */
        format_name(name, sizeof name, 999 + round * 500);
        assert_int_equal(kcp_strtab_add(&t, kcp_str_c(name)), 0);
        kcp_strtab_reset(&t);
    }
    /* Free leaves an empty table that can be used again. */
    kcp_strtab_free(&t);
    assert_int_equal(kcp_strtab_add(&t, kcp_str_c("again")), 0);
    assert_entry(&t, 0, kcp_str_c("again"));
    kcp_strtab_free(&t);
}

static void test_strtab_copies_outlive_the_callers_buffer(void **state)
{
    (void)state;
    kcp_strtab t;
    kcp_strtab_init(&t);
    static const char text[] = "CN=svc-orders,OU=platform,O=Example Corp,C=US";
    char *buf = malloc(sizeof text);
    assert_non_null(buf);
    memcpy(buf, text, sizeof text);
    int32_t hint = -1;
    assert_int_equal(kcp_strtab_add_hint(&t, kcp_str_c(buf), &hint), 0);
    assert_ptr_not_equal(t.v[0].ptr, buf);
    /* The caller reuses its buffer for another row's string... */
    memset(buf, 'x', sizeof text - 1);
    assert_int_equal(kcp_strtab_add_hint(&t, kcp_str_c(buf), &hint), 1);
    free(buf);
    /* ...and the first entry still holds the first bytes. */
    assert_entry(&t, 0, kcp_str_c(text));
    assert_int_equal(kcp_strtab_add(&t, kcp_str_c(text)), 0);
    kcp_strtab_free(&t);
}

/* ---- kcp_connections_check / kcp_connections_str ------------------------- */

typedef kcp_describe_connections_response_connection row_t;

/* The ...Index fields of DescribeConnectionsResponse.json, written out again
 * here so that a wrong name, offset or nullability in the library's table
 * fails a test. */
static const kcp_connections_field spec_fields[] = {
    {"ListenerNameIndex", offsetof(row_t, listener_name_index), false},
    {"PrincipalIndex", offsetof(row_t, principal_index), false},
    {"SaslMechanismIndex", offsetof(row_t, sasl_mechanism_index), true},
    {"LocalHostIndex", offsetof(row_t, local_host_index), false},
    {"ClientIdIndex", offsetof(row_t, client_id_index), true},
    {"ClientSoftwareNameIndex", offsetof(row_t, client_software_name_index), false},
    {"ClientSoftwareVersionIndex", offsetof(row_t, client_software_version_index), false},
    {"CloseReasonIndex", offsetof(row_t, close_reason_index), true},
    {"TlsProtocolIndex", offsetof(row_t, tls_protocol_index), true},
    {"TlsCipherIndex", offsetof(row_t, tls_cipher_index), true},
    {"PeerCertificateSubjectIndex", offsetof(row_t, peer_certificate_subject_index), true},
    {"PeerCertificateIssuerIndex", offsetof(row_t, peer_certificate_issuer_index), true},
    {"PeerCertificateSerialIndex", offsetof(row_t, peer_certificate_serial_index), true},
};
#define N_SPEC_FIELDS (sizeof spec_fields / sizeof spec_fields[0])

static int32_t *field_of(row_t *c, const kcp_connections_field *f)
{
    return (int32_t *)(void *)((char *)c + f->offset);
}

/* The strings of one sample row, in spec field order; NULL for null. */
typedef struct row_strings {
    const char *s[N_SPEC_FIELDS];
} row_strings;

static const row_strings sample_rows[] = {
    {{"SASL_PLAINTEXT", "User:alice", "SCRAM-SHA-256", "10.0.0.12", "orders-consumer-1",
      "librdkafka", "2.3.0", NULL, NULL, NULL, NULL, NULL, NULL}},
    {{"SASL_SSL", "User:alice", "SCRAM-SHA-256", "10.0.0.12", NULL, "unknown",
      "unknown", "idle timeout", "TLSv1.3", "TLS_AES_256_GCM_SHA384",
      "CN=svc-orders,OU=platform,O=Example Corp,C=US", "CN=Example Internal CA", "0a1b2c3d"}},
    {{"PLAINTEXT", "User:ANONYMOUS", NULL, "10.0.0.12", "rdkafka", "unknown",
      "unknown", NULL, NULL, NULL, NULL, NULL, NULL}},
};
#define N_ROWS ((int32_t)(sizeof sample_rows / sizeof sample_rows[0]))

/* A response whose rows are sample_rows, with Strings built by t the way an
 * encoder builds it: one hint per field, rows in order. */
static void make_response(kcp_describe_connections_response *m, row_t *rows, kcp_strtab *t)
{
    kcp_describe_connections_response_init(m);
    kcp_strtab_init(t);
    int32_t hints[N_SPEC_FIELDS];
    for (size_t f = 0; f < N_SPEC_FIELDS; f++)
        hints[f] = -1;
    for (int32_t r = 0; r < N_ROWS; r++) {
        kcp_describe_connections_response_connection_init(&rows[r]);
        rows[r].connection_id = kcp_str_c("10.0.0.12:9092-10.1.2.3:50000-0-1");
        for (size_t f = 0; f < N_SPEC_FIELDS; f++) {
            int32_t i = kcp_strtab_add_hint(t, kcp_str_c(sample_rows[r].s[f]), &hints[f]);
            assert_true(i >= -1);
            *field_of(&rows[r], &spec_fields[f]) = i;
        }
    }
    m->connections.n = N_ROWS;
    m->connections.v = rows;
    m->strings.n = t->n;
    m->strings.v = t->v;
}

static void assert_check_passes(const kcp_describe_connections_response *m)
{
    char err[256] = "";
    int rc = kcp_connections_check(m, err, sizeof err);
    if (rc)
        fail_msg("check failed (%s): %s", kcp_err_name(rc), err);
}

/* Asserts that the check fails with a message naming the row and field. */
static void assert_check_fails(const kcp_describe_connections_response *m, int32_t row,
                               const char *field, int32_t index)
{
    char err[256] = "", want[128];
    assert_int_equal(kcp_connections_check(m, err, sizeof err), KCP_ERR_LENGTH);
    snprintf(want, sizeof want, "Connections[%d].%s: %d ", (int)row, field, (int)index);
    unit_assert_contains(err, want);
    unit_assert_contains(err, "Strings");
    /* Without a buffer for the message the answer is the same. */
    assert_int_equal(kcp_connections_check(m, NULL, 0), KCP_ERR_LENGTH);
}

static void test_check_field_table_matches_the_spec(void **state)
{
    (void)state;
    assert_int_equal(kcp_connections_fields_count, N_SPEC_FIELDS);
    for (size_t f = 0; f < N_SPEC_FIELDS; f++) {
        assert_string_equal(kcp_connections_fields[f].name, spec_fields[f].name);
        assert_int_equal(kcp_connections_fields[f].offset, spec_fields[f].offset);
        assert_int_equal(kcp_connections_fields[f].nullable, spec_fields[f].nullable);
    }
}

static void test_check_accepts_a_good_response(void **state)
{
    (void)state;
    kcp_describe_connections_response m;
    row_t rows[N_ROWS];
    kcp_strtab t;
    make_response(&m, rows, &t);
    /* Shared strings went in once. */
    assert_int_equal(rows[0].principal_index, rows[1].principal_index);
    assert_int_equal(rows[0].local_host_index, rows[2].local_host_index);
    assert_int_equal(rows[1].client_software_name_index, rows[1].client_software_version_index);
    assert_check_passes(&m);
    for (int32_t r = 0; r < N_ROWS; r++)
        for (size_t f = 0; f < N_SPEC_FIELDS; f++) {
            kcp_str got = kcp_connections_str(&m, *field_of(&rows[r], &spec_fields[f]));
            if (!kcp_str_eq(got, kcp_str_c(sample_rows[r].s[f])))
                fail_msg("row %d %s: got \"%.*s\"", (int)r, spec_fields[f].name, (int)got.len,
                         got.ptr);
        }
    /* No rows need no strings. */
    m.connections.n = 0;
    m.strings.n = 0;
    assert_check_passes(&m);
    kcp_strtab_free(&t);
}

static void test_check_refuses_every_kind_of_bad_index(void **state)
{
    (void)state;
    kcp_describe_connections_response m;
    row_t rows[N_ROWS];
    kcp_strtab t;
    make_response(&m, rows, &t);
    const int32_t n = m.strings.n;
    for (size_t f = 0; f < N_SPEC_FIELDS; f++) {
        int32_t *field = field_of(&rows[1], &spec_fields[f]);
        int32_t kept = *field;
        *field = n; /* one past the last entry */
        assert_check_fails(&m, 1, spec_fields[f].name, n);
        *field = INT32_MAX;
        assert_check_fails(&m, 1, spec_fields[f].name, INT32_MAX);
        *field = -2;
        assert_check_fails(&m, 1, spec_fields[f].name, -2);
        *field = INT32_MIN;
        assert_check_fails(&m, 1, spec_fields[f].name, INT32_MIN);
        *field = -1;
        if (spec_fields[f].nullable)
            assert_check_passes(&m);
        else
            assert_check_fails(&m, 1, spec_fields[f].name, -1);
        *field = n - 1;
        assert_check_passes(&m);
        *field = kept;
    }
    assert_check_passes(&m);
    kcp_strtab_free(&t);
}

static void test_check_message_names_the_first_bad_row(void **state)
{
    (void)state;
    kcp_describe_connections_response m;
    row_t rows[N_ROWS];
    kcp_strtab t;
    make_response(&m, rows, &t);
    rows[2].client_id_index = -2;
    rows[1].principal_index = 99;
    char err[256];
    assert_int_equal(kcp_connections_check(&m, err, sizeof err), KCP_ERR_LENGTH);
    char want[128];
    snprintf(want, sizeof want,
             "Connections[1].PrincipalIndex: 99 is not an index of Strings (%d entries)",
             (int)m.strings.n);
    assert_string_equal(err, want);
    rows[1].principal_index = 0;
    assert_int_equal(kcp_connections_check(&m, err, sizeof err), KCP_ERR_LENGTH);
    snprintf(want, sizeof want,
             "Connections[2].ClientIdIndex: -2 is not -1 or an index of Strings (%d entries)",
             (int)m.strings.n);
    assert_string_equal(err, want);
    /* A short buffer gets a truncated, terminated message. */
    char small[12];
    memset(small, '#', sizeof small);
    assert_int_equal(kcp_connections_check(&m, small, sizeof small), KCP_ERR_LENGTH);
    assert_string_equal(small, "Connections");
    kcp_strtab_free(&t);
}

static void test_check_refuses_rows_without_strings(void **state)
{
    (void)state;
    kcp_describe_connections_response m;
    row_t rows[N_ROWS];
    kcp_strtab t;
    make_response(&m, rows, &t);
    m.strings.n = 0;
    assert_check_fails(&m, 0, "ListenerNameIndex", 0);
    /* A null array (which the decoder refuses anyway) holds nothing either. */
    m.strings.n = -1;
    m.strings.v = NULL;
    assert_check_fails(&m, 0, "ListenerNameIndex", 0);
    kcp_strtab_free(&t);
}

static void test_str_resolves_only_indexes_in_range(void **state)
{
    (void)state;
    kcp_str entries[] = {{"User:alice", 10}, {"", 0}};
    kcp_describe_connections_response m;
    kcp_describe_connections_response_init(&m);
    m.strings.n = 2;
    m.strings.v = entries;
    assert_true(kcp_str_eq(kcp_connections_str(&m, 0), kcp_str_c("User:alice")));
    assert_true(kcp_str_eq(kcp_connections_str(&m, 1), kcp_str_c("")));
    static const int32_t outside[] = {-1, -2, 2, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++)
        assert_int_equal(kcp_connections_str(&m, outside[i]).len, -1);
    m.strings.n = -1;
    assert_int_equal(kcp_connections_str(&m, 0).len, -1);
    kcp_describe_connections_response_free(&m);
}

/* Encoder and decoder together: rows written with a strtab come back, after
 * the check, as the same strings. */
static void test_encoded_rows_decode_to_the_same_strings(void **state)
{
    (void)state;
    kcp_describe_connections_response m, d;
    row_t rows[N_ROWS];
    kcp_strtab t;
    make_response(&m, rows, &t);
    size_t len = kcp_describe_connections_response_size(&m, 0);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    kcp_writer w;
    kcp_writer_init(&w, buf, len);
    assert_int_equal(kcp_describe_connections_response_encode(&w, &m, 0), KCP_OK);
    kcp_strtab_free(&t); /* the decoded views must not lean on the table */

    kcp_reader r;
    kcp_reader_init(&r, buf, len);
    if (kcp_describe_connections_response_decode(&r, &d, 0))
        fail_msg("%s", r.errstr);
    assert_int_equal(r.pos, len);
    assert_check_passes(&d);
    assert_int_equal(d.connections.n, N_ROWS);
    for (int32_t i = 0; i < N_ROWS; i++)
        for (size_t f = 0; f < N_SPEC_FIELDS; f++) {
            kcp_str got = kcp_connections_str(&d, *field_of(&d.connections.v[i], &spec_fields[f]));
            if (!kcp_str_eq(got, kcp_str_c(sample_rows[i].s[f])))
                fail_msg("row %d %s: got \"%.*s\"", (int)i, spec_fields[f].name, (int)got.len,
                         got.ptr);
        }
    kcp_describe_connections_response_free(&d);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strtab_equal_strings_share_their_first_index),
        cmocka_unit_test(test_strtab_null_is_minus_one_and_adds_nothing),
        cmocka_unit_test(test_strtab_hint_same_different_and_stale),
        cmocka_unit_test(test_strtab_grows_through_thousands_of_strings),
        cmocka_unit_test(test_strtab_keyed_tables_agree_with_unkeyed_ones),
        cmocka_unit_test(test_strtab_reset_starts_over),
        cmocka_unit_test(test_strtab_copies_outlive_the_callers_buffer),
        cmocka_unit_test(test_check_field_table_matches_the_spec),
        cmocka_unit_test(test_check_accepts_a_good_response),
        cmocka_unit_test(test_check_refuses_every_kind_of_bad_index),
        cmocka_unit_test(test_check_message_names_the_first_bad_row),
        cmocka_unit_test(test_check_refuses_rows_without_strings),
        cmocka_unit_test(test_str_resolves_only_indexes_in_range),
        cmocka_unit_test(test_encoded_rows_decode_to_the_same_strings),
    };
    return cmocka_run_group_tests_name("string_index", tests, NULL, NULL);
}
