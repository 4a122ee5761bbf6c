/*
 * Connection settings of kafka-connections: sasl.jaas.config
 * (cli/kc_jaas.c) and the mapping of Kafka's and librdkafka's property names
 * onto kc_settings (cli/kc_config.c), with every error message and the rule
 * that no message ever quotes a password. The properties file syntax itself
 * is tested in tests/unit/test_properties.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kc_config.h"
#include "kc_jaas.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PLAIN_MODULE "org.apache.kafka.common.security.plain.PlainLoginModule"
#define SCRAM_MODULE "org.apache.kafka.common.security.scram.ScramLoginModule"

/* ---- helpers ---------------------------------------------------------------- */

/* A file in /tmp holding text; the caller unlinks it. */
static void temp_file(char path[64], const char *text)
{
    strcpy(path, "/tmp/kc-cli-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

/* Applies "key=value" lines (as -X) and finishes; returns the result code
 * with the message in err. */
static int configure(kc_config *c, const char *const *args, char *err, size_t size)
{
    kc_config_init(c);
    err[0] = '\0';
    for (size_t i = 0; args[i]; i++)
        if (kc_config_set_arg(c, args[i], err, size))
            return -1;
    return kc_config_finish(c, err, size);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void expect_config_error(const char *const *args, const char *message)
{
    kc_config c;
    char err[512];
    int rc = configure(&c, args, err, sizeof err);
    kc_config_free(&c);
    if (rc != -1 || strcmp(err, message) != 0) {
        print_error("expected: %s\n     got (rc %d): %s\n", message, rc, err);
        fail();
    }
    if (strstr(err, "hunter2")) {
        print_error("message quotes the password: %s\n", err);
        fail();
    }
}

/* ---- sasl.jaas.config ---------------------------------------------------------------- */

static void test_jaas_reads_plain_and_scram_modules(void **state)
{
    (void)state;
    kc_jaas j;
    char err[256];
    assert_int_equal(kc_jaas_parse(PLAIN_MODULE " required username=\"alice\" password=\"a b;c\";",
                                   &j, err, sizeof err),
                     0);
    assert_int_equal(j.module, KC_JAAS_PLAIN);
    assert_string_equal(j.username, "alice");
    assert_string_equal(j.password, "a b;c");
    kc_jaas_free(&j);

    /* Single quotes, escapes, comments, case-insensitive flag, unquoted words,
     * options in any order and unknown options, as Kafka's JaasConfig reads them. */
    assert_int_equal(kc_jaas_parse("  /* c */ " SCRAM_MODULE " REQUIRED // line\n"
                                   " password='q\\'\\\"\\\\\\n\\101' extra=1 username=bob_1.x ;  ",
                                   &j, err, sizeof err),
                     0);
    assert_int_equal(j.module, KC_JAAS_SCRAM);
    assert_string_equal(j.username, "bob_1.x");
    assert_string_equal(j.password, "q'\"\\\nA");
    kc_jaas_free(&j);

    assert_int_equal(kc_jaas_parse(PLAIN_MODULE " optional username=\"jos\xc3\xa9\" password=\"\";",
                                   &j, err, sizeof err),
                     0);
    assert_string_equal(j.username, "jos\xc3\xa9");
    assert_string_equal(j.password, "");
    kc_jaas_free(&j);
}

static void test_jaas_errors_say_what_is_wrong_without_values(void **state)
{
    (void)state;
    static const struct {
        const char *text, *message;
    } cases[] = {
        {"", "no login module"},
        {"\"x\"", "expected a login module class name"},
        {"com.example.Krb5LoginModule required;",
         "login module 'com.example.Krb5LoginModule' is not supported (use PlainLoginModule or "
         "ScramLoginModule)"},
        {PLAIN_MODULE " username=\"a\" password=\"hunter2\";",
         "expected a control flag (required, requisite, sufficient or optional) after the login "
         "module"},
        {PLAIN_MODULE " required username=\"a\" password=\"hunter2\"",
         "missing ';' at the end of the login module"},
        {PLAIN_MODULE " required username=\"a\" password=\"hunter2;",
         "unterminated quoted value of option 'password'"},
        {PLAIN_MODULE " required username=\"a\" password=\"hunter2\n\";",
         "unterminated quoted value of option 'password'"},
        {PLAIN_MODULE " required username \"a\";", "expected '=' after option 'username'"},
        {PLAIN_MODULE " required username=;", "option 'username' has no value"},
        {PLAIN_MODULE " required = \"a\";", "expected an option name or ';'"},
        {PLAIN_MODULE " required password=\"hunter2\";", "username is missing"},
        {PLAIN_MODULE " required username=\"\" password=\"hunter2\";", "username is empty"},
        {PLAIN_MODULE " required username=\"a\";", "password is missing"},
        {PLAIN_MODULE " required username=a password=hunter2; " PLAIN_MODULE " required;",
         "more than one login module (sasl.jaas.config takes exactly one)"},
        {SCRAM_MODULE " required username=a password=hunter2 tokenauth=true;",
         "option 'tokenauth' (delegation tokens) is not supported"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kc_jaas j;
        char err[256] = "";
        int rc = kc_jaas_parse(cases[i].text, &j, err, sizeof err);
        kc_jaas_free(&j);
        if (rc != -1 || strcmp(err, cases[i].message) != 0 || strstr(err, "hunter2")) {
            print_error("input: %s\nexpected: %s\n     got (rc %d): %s\n", cases[i].text,
                        cases[i].message, rc, err);
            fail();
        }
    }
}

/* ---- settings ----------------------------------------------------------------------------- */

/* A Kafka tool's client.properties: SCRAM over TLS with a PEM truststore. */
static void test_java_style_command_config_fills_every_setting(void **state)
{
    (void)state;
    char ca[64], file[64], err[512], text[1024];
    temp_file(ca, "-----BEGIN CERTIFICATE-----\n");
    snprintf(text, sizeof text,
             "security.protocol=SASL_SSL\n"
             "sasl.mechanism=SCRAM-SHA-512\n"
             "sasl.jaas.config=" SCRAM_MODULE " required \\\n"
             "    username=\"alice\" \\\n"
             "    password=\"alice-secret\";\n"
             "ssl.truststore.type=PEM\n"
             "ssl.truststore.location=%s\n"
             "ssl.endpoint.identification.algorithm=\n"
             "ssl.enabled.protocols=TLSv1.2,TLSv1.3\n"
             "bootstrap.servers=kafka1:9093\n"
             "ssl.truststore.password=hunter2\n"
             "ssl.enabled.protocols=TLSv1.3\n"
             "metadata.broker.list=elsewhere:9092\n"
             "client.id = ops-laptop  \n",
             ca);
    temp_file(file, text);
    kc_config c;
    kc_config_init(&c);
    assert_int_equal(kc_config_load(&c, file, err, sizeof err), 0);
    assert_int_equal(kc_config_finish(&c, err, sizeof err), 0);
    assert_int_equal(c.s.security_protocol, KC_SASL_SSL);
    assert_string_equal(c.s.sasl_mechanism, "SCRAM-SHA-512");
    assert_string_equal(c.s.sasl_username, "alice");
    assert_string_equal(c.s.sasl_password, "alice-secret");
    assert_string_equal(c.s.ssl_ca_location, ca);
    assert_null(c.s.ssl_certificate_location);
    assert_false(c.tls_unused);
    assert_false(c.s.verify_hostname);
    assert_string_equal(c.s.client_id, "ops-laptop");
    assert_int_equal(c.s.api_key, 1000);
    assert_int_equal(c.s.timeout_ms, 30000);
    assert_int_equal(c.s.parallelism, 16);
    assert_null(c.s.librdkafka_props);
    /* Java client settings without effect: accepted, named once each. */
    /* librdkafka's bootstrap list too: only --bootstrap-server chooses
     * the cluster, and it never reaches the bootstrap client. */
    assert_int_equal(c.n_ignored, 4);
    assert_string_equal(c.ignored[0], "ssl.enabled.protocols");
    assert_string_equal(c.ignored[1], "bootstrap.servers");
    assert_string_equal(c.ignored[2], "ssl.truststore.password");
    assert_string_equal(c.ignored[3], "metadata.broker.list");
    kc_config_free(&c);
    unlink(file);
    unlink(ca);
}

/* The same in librdkafka's names, a PEM keystore for mTLS, and -X over
 * the file; unknown librdkafka names go to the bootstrap client. */
static void test_librdkafka_names_and_x_overrides(void **state)
{
    (void)state;
    char ca[64], pem[64], file[64], err[512], text[1024];
    temp_file(ca, "-----BEGIN CERTIFICATE-----\n");
    temp_file(pem, "-----BEGIN CERTIFICATE-----\n-----BEGIN ENCRYPTED PRIVATE KEY-----\n");
    snprintf(text, sizeof text,
             "security.protocol=sasl_ssl\n"
             "sasl.mechanisms=plain\n"
             "sasl.username=bob\n"
             "sasl.password=wrong\n"
             "ssl.ca.location=%s\n"
             "ssl.keystore.location=%s\n"
             "ssl.key.password=kp\n"
             "socket.keepalive.enable=true\n",
             ca, pem);
    temp_file(file, text);
    kc_config c;
    kc_config_init(&c);
    assert_int_equal(kc_config_load(&c, file, err, sizeof err), 0);
    assert_int_equal(kc_config_set_arg(&c, "sasl.password=bob-secret", err, sizeof err), 0);
    assert_int_equal(kc_config_set_arg(&c, "socket.keepalive.enable=false", err, sizeof err), 0);
    assert_int_equal(kc_config_set_arg(&c, "debug=security", err, sizeof err), 0);
    assert_int_equal(kc_config_finish(&c, err, sizeof err), 0);
    assert_int_equal(c.s.security_protocol, KC_SASL_SSL);
    assert_string_equal(c.s.sasl_mechanism, "PLAIN");
    assert_string_equal(c.s.sasl_username, "bob");
    assert_string_equal(c.s.sasl_password, "bob-secret");
    assert_string_equal(c.s.ssl_ca_location, ca);
    assert_string_equal(c.s.ssl_certificate_location, pem);
    assert_string_equal(c.s.ssl_key_location, pem);
    assert_string_equal(c.s.ssl_key_password, "kp");
    assert_true(c.s.verify_hostname);
    assert_string_equal(c.s.client_id, "kafka-connections");
    const char **p = c.s.librdkafka_props;
    assert_non_null(p);
    assert_string_equal(p[0], "socket.keepalive.enable");
    assert_string_equal(p[1], "false");
    assert_string_equal(p[2], "debug");
    assert_string_equal(p[3], "security");
    assert_null(p[4]);
    kc_config_free(&c);
    unlink(file);
    unlink(ca);
    unlink(pem);
}

/* Settings that the chosen protocol does not use are not handed on. */
static void test_plaintext_defaults_and_unused_tls_settings(void **state)
{
    (void)state;
    kc_config c;
    char err[512];
    assert_int_equal(configure(&c, ARGS("ssl.ca.location=/nonexistent"), err, sizeof err), 0);
    assert_int_equal(c.s.security_protocol, KC_PLAINTEXT);
    assert_null(c.s.ssl_ca_location);
    assert_null(c.s.sasl_mechanism);
    assert_null(c.s.librdkafka_props);
    assert_true(c.tls_unused); /* for the caller's note */
    kc_config_free(&c);
    /* A client certificate over SASL_PLAINTEXT goes unused as well. */
    assert_int_equal(configure(&c, ARGS("security.protocol=SASL_PLAINTEXT", "sasl.mechanism=PLAIN",
                                        "sasl.username=u", "sasl.password=p",
                                        "ssl.keystore.location=/nonexistent"),
                               err, sizeof err),
                     0);
    assert_true(c.tls_unused);
    assert_null(c.s.ssl_certificate_location);
    kc_config_free(&c);
    assert_int_equal(configure(&c, ARGS("security.protocol=SASL_PLAINTEXT", "sasl.mechanism=PLAIN",
                                        "sasl.username=u", "sasl.password=p"),
                               err, sizeof err),
                     0);
    assert_false(c.tls_unused);
    kc_config_free(&c);
}

static void test_every_settings_error_names_the_property(void **state)
{
    (void)state;
    const struct {
        const char *const *args;
        const char *message;
    } cases[] = {
        {ARGS("security.protocol=TLS"),
         "-X security.protocol: 'TLS' is not a security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT "
         "or SASL_SSL)"},
        {ARGS("sasl.mechanism=GSSAPI"),
         "-X sasl.mechanism: 'GSSAPI' is not supported (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)"},
        {ARGS("sasl.mechanisms=OAUTHBEARER"),
         "-X sasl.mechanisms: 'OAUTHBEARER' is not supported (PLAIN, SCRAM-SHA-256 or "
         "SCRAM-SHA-512)"},
        {ARGS("ssl.truststore.type=JKS"),
         "-X ssl.truststore.type: 'JKS' is not supported, only PEM (convert the store with keytool "
         "and openssl)"},
        {ARGS("ssl.keystore.type=PKCS12"),
         "-X ssl.keystore.type: 'PKCS12' is not supported, only PEM (convert the store with "
         "keytool and openssl)"},
        {ARGS("ssl.endpoint.identification.algorithm=dns"),
         "-X ssl.endpoint.identification.algorithm: 'dns' is not supported (https, or empty to "
         "disable)"},
        {ARGS("enable.ssl.certificate.verification=false"),
         "-X enable.ssl.certificate.verification=false is not supported: kafka-connections always "
         "verifies broker certificates (give their CA with ssl.ca.location or "
         "ssl.truststore.location)"},
        /* librdkafka would use these for the bootstrap connection only. */
        {ARGS("ssl.ca.pem=-----BEGIN CERTIFICATE-----"),
         "-X ssl.ca.pem is not supported: librdkafka would apply it to the bootstrap connection "
         "only, not to this tool's own connection to each broker (give a file: ssl.ca.location)"},
        {ARGS("ssl.key.pem=hunter2"),
         "-X ssl.key.pem is not supported: librdkafka would apply it to the bootstrap connection "
         "only, not to this tool's own connection to each broker (give a file: ssl.key.location)"},
        {ARGS("ssl.crl.location=/etc/crl.pem"),
         "-X ssl.crl.location is not supported: librdkafka would apply it to the bootstrap "
         "connection only, not to this tool's own connection to each broker"},
        {ARGS("enable.ssl.certificate.verification=maybe"),
         "-X enable.ssl.certificate.verification: 'maybe' is not true or false"},
        {ARGS("sasl.jaas.config=" PLAIN_MODULE " required username=a;"),
         "-X sasl.jaas.config: password is missing"},
        {ARGS("sasl.jaas.config=" PLAIN_MODULE " required username=a password=\"hunter2"),
         "-X sasl.jaas.config: unterminated quoted value of option 'password'"},
        {ARGS("no.such.property=1"),
         "-X no.such.property: unknown property (neither a Kafka client setting used here nor a "
         "librdkafka property)"},
        {ARGS("socket.timeout.ms=soon"),
         "-X socket.timeout.ms: Invalid value for configuration property \"socket.timeout.ms\""},
        {ARGS("hunter2"), "-X: expected KEY=VALUE (the argument has no '=')"},
        {ARGS("=hunter2"), "-X empty property name"},
        {ARGS("security.protocol=SASL_SSL", "sasl.username=a", "sasl.password=hunter2"),
         "sasl.mechanism is not set (Kafka's default, GSSAPI, is not supported): use PLAIN, "
         "SCRAM-SHA-256 or SCRAM-SHA-512"},
        {ARGS("security.protocol=SASL_PLAINTEXT", "sasl.mechanism=PLAIN"),
         "security.protocol=SASL_PLAINTEXT needs credentials: sasl.jaas.config, or sasl.username "
         "and sasl.password"},
        {ARGS("security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-256",
              "sasl.jaas.config=" PLAIN_MODULE " required username=a password=hunter2;"),
         "-X sasl.jaas.config: PlainLoginModule does not match sasl.mechanism=SCRAM-SHA-256 (-X) "
         "(use ScramLoginModule)"},
        {ARGS("security.protocol=SASL_SSL", "sasl.mechanism=PLAIN",
              "sasl.jaas.config=" SCRAM_MODULE " required username=a password=hunter2;"),
         "-X sasl.jaas.config: ScramLoginModule does not match sasl.mechanism=PLAIN (-X) (use "
         "PlainLoginModule)"},
        {ARGS("security.protocol=SASL_PLAINTEXT", "sasl.mechanism=PLAIN", "sasl.username=a",
              "sasl.password="),
         "the SASL password is empty (sasl.password, or password= in sasl.jaas.config)"},
        {ARGS("security.protocol=SASL_PLAINTEXT", "sasl.mechanism=SCRAM-SHA-256",
              "sasl.jaas.config=" SCRAM_MODULE " required username=a password=\"\";"),
         "the SASL password is empty (sasl.password, or password= in sasl.jaas.config)"},
        {ARGS("security.protocol=SASL_PLAINTEXT", "sasl.mechanism=PLAIN", "sasl.username=",
              "sasl.password=hunter2"),
         "the SASL username is empty (sasl.username, or username= in sasl.jaas.config)"},
        {ARGS("sasl.username=a", "sasl.password=hunter2"),
         "SASL settings are given but security.protocol is PLAINTEXT: use SASL_PLAINTEXT or "
         "SASL_SSL"},
        {ARGS("security.protocol=SSL", "ssl.certificate.location=/etc/hostname"),
         "ssl.certificate.location needs ssl.key.location"},
        {ARGS("security.protocol=SSL", "ssl.key.location=/etc/hostname"),
         "ssl.key.location needs ssl.certificate.location"},
        {ARGS("security.protocol=SSL", "ssl.truststore.location=/nonexistent/ca.pem"),
         "-X ssl.truststore.location: /nonexistent/ca.pem: No such file or directory"},
        {ARGS("security.protocol=SSL", "ssl.ca.location=/nonexistent/ca.pem"),
         "-X ssl.ca.location: /nonexistent/ca.pem: No such file or directory"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_config_error(cases[i].args, cases[i].message);
}

/* Where a value came from is part of the message: file and line. */
static void test_file_errors_name_file_line_and_property(void **state)
{
    (void)state;
    char file[64], err[512], expected[256];
    temp_file(file, "security.protocol=SASL_SSL\n\nsasl.mechanism=GSSAPI\n");
    kc_config c;
    kc_config_init(&c);
    assert_int_equal(kc_config_load(&c, file, err, sizeof err), -1);
    snprintf(expected, sizeof expected,
             "%s:3: sasl.mechanism: 'GSSAPI' is not supported (PLAIN, SCRAM-SHA-256 or "
             "SCRAM-SHA-512)",
             file);
    assert_string_equal(err, expected);
    kc_config_free(&c);
    unlink(file);

    /* Checks made once everything is read name where the settings were
     * given, as written: a JKS truststore, an encrypted key without its
     * password, and a JAAS module that does not fit the mechanism. */
    char jks[64], key[64], text[512];
    temp_file(jks, "\xfe\xed\xfe\xed binary keystore");
    temp_file(key, "-----BEGIN CERTIFICATE-----\n-----BEGIN ENCRYPTED PRIVATE KEY-----\n");
    const struct {
        const char *props, *message;
    } cases[] = {
        {"security.protocol=SSL\nssl.truststore.location=%s\n",
         "%s:2: ssl.truststore.location: %s: not a PEM file (a JKS or PKCS12 store? Only PEM is "
         "read: convert it with keytool and openssl)"},
        {"security.protocol=SSL\n# mTLS\nssl.keystore.location=%s\n",
         "%s:3: ssl.keystore.location: %s: the private key is encrypted: set ssl.key.password"},
        {"security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.jaas.config="
         "org.apache.kafka.common.security.scram.ScramLoginModule required username=a "
         "password=hunter2;\n%s",
         "%s:3: sasl.jaas.config: ScramLoginModule does not match sasl.mechanism=PLAIN (%s:2) "
         "(use PlainLoginModule)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = i == 0 ? jks : i == 1 ? key : "";
        snprintf(text, sizeof text, cases[i].props, path);
        temp_file(file, text);
        kc_config_init(&c);
        assert_int_equal(kc_config_load(&c, file, err, sizeof err), 0);
        assert_int_equal(kc_config_finish(&c, err, sizeof err), -1);
        if (i < 2)
            snprintf(expected, sizeof expected, cases[i].message, file, path);
        else
            snprintf(expected, sizeof expected, cases[i].message, file, file);
        assert_string_equal(err, expected);
        assert_null(strstr(err, "hunter2"));
        kc_config_free(&c);
        unlink(file);
    }
    unlink(jks);
    unlink(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jaas_reads_plain_and_scram_modules),
        cmocka_unit_test(test_jaas_errors_say_what_is_wrong_without_values),
        cmocka_unit_test(test_java_style_command_config_fills_every_setting),
        cmocka_unit_test(test_librdkafka_names_and_x_overrides),
        cmocka_unit_test(test_plaintext_defaults_and_unused_tls_settings),
        cmocka_unit_test(test_every_settings_error_names_the_property),
        cmocka_unit_test(test_file_errors_name_file_line_and_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
