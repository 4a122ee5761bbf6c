/*
 * Kafka's configuration file syntax (protocol/kcp_properties.h), as
 * java.util.Properties.load reads it: separators, comments, line ends,
 * continuations, escapes with UTF-16 surrogate pairs, and errors that name
 * the file and the line a property starts on. What the broker and the CLI
 * make of the values is tested with each of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "kcp_properties.h"

/* "key=value\n" per property, in the order the parser gave them. */
typedef struct collected {
    char text[2048];
    unsigned calls;
    unsigned lines[16]; /* the line each of the first calls gave */
} collected;

/* Takes every property but one named "reject", which fails the parse. */
static int collect(void *opaque, unsigned line, const char *key, const char *value,
                   char *errstr, size_t errstr_size)
{
    collected *c = opaque;
    if (c->calls < sizeof c->lines / sizeof c->lines[0])
        c->lines[c->calls] = line;
    c->calls++;
    if (strcmp(key, "reject") == 0) {
        snprintf(errstr, errstr_size, "rejected");
        return -1;
    }
    size_t len = strlen(c->text);
    snprintf(c->text + len, sizeof c->text - len, "%s=%s\n", key, value);
    return 0;
}

/* Parses n bytes of text from a heap copy of exactly that size, so that
 * AddressSanitizer catches a read past the end (the text has no NUL). */
static int parse_n(const char *text, size_t n, collected *c, char *err, size_t err_size)
{
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, text, n);
    int rc = kcp_properties_parse("t.properties", copy, n, collect, c, err, err_size);
    free(copy);
    return rc;
}

static void expect_props(const char *text, const char *expected)
{
    collected c = {.calls = 0};
    char err[256] = "";
    int rc = parse_n(text, strlen(text), &c, err, sizeof err);
    if (rc != 0 || strcmp(c.text, expected) != 0) {
        print_error("input:\n%s\nexpected:\n%s\ngot (rc %d, %s):\n%s\n", text, expected, rc, err,
                    c.text);
        fail();
    }
}

static void expect_props_error(const char *text, const char *message)
{
    collected c = {.calls = 0};
    char err[256] = "";
    assert_int_equal(parse_n(text, strlen(text), &c, err, sizeof err), -1);
    assert_string_equal(err, message);
}

/* A file in TMPDIR (or /tmp) holding n bytes of text; the caller unlinks it. */
static void temp_file(char path[256], const char *text, size_t n)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, 256, "%s/kcp-properties-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

static void test_separators_comments_and_line_ends(void **state)
{
    (void)state;
    expect_props("a=1\nb = 2\nc:3\nd 4\n", "a=1\nb=2\nc=3\nd=4\n");
    expect_props("# comment\n! also\n   \n\ta=1\r\nb=2\rc=3", "a=1\nb=2\nc=3\n");
    expect_props("key\n", "key=\n");
    /* Only one separator is skipped; the next belongs to the value. */
    expect_props("k==v\n", "k==v\n");
    expect_props("k : =v\n", "k==v\n");
    /* Trailing whitespace is part of the value. */
    expect_props("k:  p w \n", "k=p w \n");
    expect_props("", "");
    expect_props("  \n#x\n", "");
}

static void test_continuations_join_lines_without_leading_whitespace(void **state)
{
    (void)state;
    expect_props("a=x \\\n    y\n", "a=x y\n");
    /* An even number of backslashes is an escaped backslash, not a continuation. */
    expect_props("a=one\\\\\nb=two\n", "a=one\\\nb=two\n");
    expect_props("# a comment never continues \\\nk=v\n", "k=v\n");
    expect_props("a=1\\\r\n  2\\\r  3\n", "a=123\n");
    /* A continuation at the end of the text ends the property. */
    expect_props("k=5\\\n", "k=5\n");
    expect_props("k=5\\", "k=5\n");
}

static void test_escapes_in_keys_and_values(void **state)
{
    (void)state;
    expect_props("a\\=b=c\\:d\n", "a=b=c:d\n");
    expect_props("k=\\t\\u0041\\u00e9\\ud83d\\ude00\n", "k=\tA\xc3\xa9\xf0\x9f\x98\x80\n");
    expect_props("a\\ b\\:c=\\ lead\n", "a b:c= lead\n");
    expect_props("k=\\n\\r\\f\\q\\#\n", "k=\n\r\fq#\n");
    /* Bytes other than escapes pass through as UTF-8. */
    expect_props("caf\xc3\xa9=\xe2\x98\x83\n", "caf\xc3\xa9=\xe2\x98\x83\n");
}

/* A server.properties with every construct at once. */
static void test_server_properties_with_every_construct(void **state)
{
    (void)state;
    expect_props("   # a comment after leading whitespace\n"
                 "! a comment that ends in a backslash does not continue \\\n"
                 "node.id 7\r\n"
                 "\t listeners : PLAINTEXT://127.0.0.1:9092,\\\n"
                 "               SASL_PLAINTEXT://127.0.0.1:9093\n"
                 "\n"
                 "cluster.id=caf\\u00e9\\t\\\\x\\=y\\:z \\u2603\\uD83D\\uDE00\r"
                 "super.users=User:a\\\n"
                 "    lice;User:b\\\\\n"
                 "sasl.sasldb.path=/tmp/x\n"
                 "sasl.re\\u0061lm   =   =R:1\n"
                 "ssl.truststore.location\n"
                 "ssl.key.password:  p w \n"
                 "connections.history.size=5\\\n",
                 "node.id=7\n"
                 "listeners=PLAINTEXT://127.0.0.1:9092,SASL_PLAINTEXT://127.0.0.1:9093\n"
                 "cluster.id=caf\xc3\xa9\t\\x=y:z \xe2\x98\x83\xf0\x9f\x98\x80\n"
                 "super.users=User:alice;User:b\\\n"
                 "sasl.sasldb.path=/tmp/x\n"
                 "sasl.realm==R:1\n"
                 "ssl.truststore.location=\n"
                 "ssl.key.password=p w \n"
                 "connections.history.size=5\n");
}

static void test_utf8_byte_order_mark_is_skipped(void **state)
{
    (void)state;
    expect_props("\xEF\xBB\xBFsecurity.protocol=SSL\nb=2\n", "security.protocol=SSL\nb=2\n");
    /* Only at the very start: elsewhere the bytes are part of the text. */
    expect_props("a=\xEF\xBB\xBF\n", "a=\xEF\xBB\xBF\n");
    collected c = {.calls = 0};
    char err[256] = "";
    assert_int_equal(parse_n("\xEF\xBB\xBF\n\nreject=1\n", 14, &c, err, sizeof err), -1);
    assert_string_equal(err, "t.properties:3: rejected");
}

static void test_errors_name_file_and_line(void **state)
{
    (void)state;
    expect_props_error("a=1\nb=\\u00g1\n", "t.properties:2: malformed \\uXXXX escape");
    expect_props_error("a=\\u00e\n", "t.properties:1: malformed \\uXXXX escape");
    expect_props_error("\\u12G4=1\n", "t.properties:1: malformed \\uXXXX escape");
    expect_props_error("a=\\ud800\n", "t.properties:1: unpaired UTF-16 surrogate in \\uXXXX escape");
    expect_props_error("a=\\ud800\\u0041\n",
                       "t.properties:1: unpaired UTF-16 surrogate in \\uXXXX escape");
    expect_props_error("a=1\nb=2\ncluster.id=\\uDE00\n",
                       "t.properties:3: unpaired UTF-16 surrogate in \\uXXXX escape");
    expect_props_error("a=\\u0000\n", "t.properties:1: \\u0000 is not allowed");
    /* A property that spans lines is named by the line it starts on. */
    expect_props_error("\n\na=1\\\n  b\nreject=1\n", "t.properties:5: rejected");
    expect_props_error("a=1\\\n  \\u12G4\n", "t.properties:1: malformed \\uXXXX escape");
}

static void test_callback_error_stops_the_parse(void **state)
{
    (void)state;
    collected c = {.calls = 0};
    char err[256] = "";
    const char *text = "a=1\nreject=x\nb=2\n";
    assert_int_equal(parse_n(text, strlen(text), &c, err, sizeof err), -1);
    assert_string_equal(err, "t.properties:2: rejected");
    assert_int_equal(c.calls, 2);
    assert_string_equal(c.text, "a=1\n");
}

/* Keys and values are C strings: a NUL byte cannot be carried, so the file
 * is refused whole, before any property is handed on. */
static void test_nul_byte_is_refused_with_its_line(void **state)
{
    (void)state;
    static const char text[] = "a=1\r\nb=2\rc=3\n# x\nd=\0\n";
    collected c = {.calls = 0};
    char err[256] = "";
    assert_int_equal(parse_n(text, sizeof text - 1, &c, err, sizeof err), -1);
    assert_string_equal(err, "t.properties:5: contains a NUL byte; not a properties file");
    assert_int_equal(c.calls, 0);
}

/* Messages are cut to the buffer given, and a NULL one of size 0 is allowed. */
static void test_error_buffer_may_be_small_or_absent(void **state)
{
    (void)state;
    collected c = {.calls = 0};
    char err[8];
    assert_int_equal(parse_n("a=\\u0000", 8, &c, err, sizeof err), -1);
    assert_string_equal(err, "t.prope");
    assert_int_equal(parse_n("a=\\u0000", 8, &c, NULL, 0), -1);
}

/* Each property comes with the line it starts on, for later messages. */
static void test_each_property_gives_its_first_line(void **state)
{
    (void)state;
    static const char text[] = "# comment\n"
                               "a=1\n"
                               "\n"
                               "b = two \\\n"
                               "    lines\n"
                               "! another comment\r\n"
                               "c:3";
    collected c = {.calls = 0};
    char err[256] = "";
    assert_int_equal(parse_n(text, strlen(text), &c, err, sizeof err), 0);
    assert_string_equal(c.text, "a=1\nb=two lines\nc=3\n");
    assert_int_equal(c.calls, 3);
    assert_int_equal(c.lines[0], 2);
    assert_int_equal(c.lines[1], 4);
    assert_int_equal(c.lines[2], 7);
}

static void test_load_reads_a_file(void **state)
{
    (void)state;
    char path[256], err[512] = "";
    static const char text[] = "# client.properties\nsecurity.protocol=SASL_SSL\n"
                               "sasl.jaas.config=x \\\n  y;\n";
    temp_file(path, text, sizeof text - 1);
    collected c = {.calls = 0};
    int rc = kcp_properties_load(path, collect, &c, err, sizeof err);
    unlink(path);
    assert_string_equal(err, "");
    assert_int_equal(rc, 0);
    assert_string_equal(c.text, "security.protocol=SASL_SSL\nsasl.jaas.config=x y;\n");
}

static void test_load_errors_name_the_path(void **state)
{
    (void)state;
    char err[512], path[256], want[512];
    collected c = {.calls = 0};
    assert_int_equal(kcp_properties_load("/nonexistent/kc.properties", collect, &c, err, sizeof err),
                     -1);
    assert_string_equal(err, "/nonexistent/kc.properties: No such file or directory");

    temp_file(path, "a=1\nb=\\u00g1\n", 13);
    assert_int_equal(kcp_properties_load(path, collect, &c, err, sizeof err), -1);
    unlink(path);
    snprintf(want, sizeof want, "%s:2: malformed \\uXXXX escape", path);
    assert_string_equal(err, want);
}

/* Exactly the bound is read; one byte more is refused without a parse. */
static void test_load_bounds_the_file_size(void **state)
{
    (void)state;
    size_t n = KCP_PROPERTIES_MAX_BYTES + 1;
    char *text = malloc(n);
    assert_non_null(text);
    memset(text, '#', n);
    char path[256], err[512] = "", want[512];
    collected c = {.calls = 0};

    temp_file(path, text, n - 1);
    assert_int_equal(kcp_properties_load(path, collect, &c, err, sizeof err), 0);
    unlink(path);

    temp_file(path, text, n);
    free(text);
    assert_int_equal(kcp_properties_load(path, collect, &c, err, sizeof err), -1);
    unlink(path);
    snprintf(want, sizeof want, "%s: larger than %u bytes; not a properties file", path,
             KCP_PROPERTIES_MAX_BYTES);
    assert_string_equal(err, want);
    assert_int_equal(c.calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_separators_comments_and_line_ends),
        cmocka_unit_test(test_continuations_join_lines_without_leading_whitespace),
        cmocka_unit_test(test_escapes_in_keys_and_values),
        cmocka_unit_test(test_server_properties_with_every_construct),
        cmocka_unit_test(test_utf8_byte_order_mark_is_skipped),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_callback_error_stops_the_parse),
        cmocka_unit_test(test_nul_byte_is_refused_with_its_line),
        cmocka_unit_test(test_error_buffer_may_be_small_or_absent),
        cmocka_unit_test(test_each_property_gives_its_first_line),
        cmocka_unit_test(test_load_reads_a_file),
        cmocka_unit_test(test_load_errors_name_the_path),
        cmocka_unit_test(test_load_bounds_the_file_size),
    };
    return cmocka_run_group_tests_name("properties", tests, NULL, NULL);
}
