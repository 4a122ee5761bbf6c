/* The CLI's SCRAM client (kc_scram.c) through libsasl2's client API
 * (kc_sasl.c), against the reference broker's SCRAM server (kb_scram.c),
 * which kcat, kafka-python, confluent-kafka-python and kafkajs log in to
 * in the integration tests. */
#include "kb_scram.h"
#include "kc_sasl.h"
#include "kc_scram.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const unsigned char SALT_A[KB_SCRAM_SALT_BYTES] = "salt-of-alice-01";
static const unsigned char SALT_B[KB_SCRAM_SALT_BYTES] = "another-salt-002";

typedef struct server {
    kb_scram *scram;
    kb_scram_cred cred;
    char err[256];
} server;

static void server_init(server *sv, const char *mechanism, const char *password,
                        const unsigned char *salt)
{
    sv->scram = kb_scram_new(mechanism);
    assert_non_null(sv->scram);
    assert_int_equal(kb_scram_derive(mechanism, password, strlen(password), salt, &sv->cred), 0);
}

/* Runs an exchange through kc_sasl up to the client-final-message; the
 * server's first message can be rewritten by edit. Returns the client's
 * state after the server-first-message; *final is the client-final. */
static int exchange_to_final(kc_sasl *c, server *sv, const char *mechanism,
                             void (*edit)(char *msg, size_t size), const uint8_t **final,
                             size_t *final_len, char *err, size_t err_size)
{
    const uint8_t *out;
    size_t out_len;
    assert_int_equal(kc_sasl_start(c, mechanism, &out, &out_len, err, err_size), KC_SASL_CONTINUE);
    assert_int_equal(kb_scram_client_first(sv->scram, out, out_len, sv->err, sizeof sv->err), KB_SCRAM_OK);
    const uint8_t *first;
    size_t first_len;
    assert_int_equal(kb_scram_server_first(sv->scram, &sv->cred, true, &first, &first_len, sv->err,
                                           sizeof sv->err),
                     KB_SCRAM_OK);
    char msg[512];
    assert_true(first_len < sizeof msg - 16);
    memcpy(msg, first, first_len);
    msg[first_len] = '\0';
    if (edit)
        edit(msg, sizeof msg);
    return kc_sasl_step(c, (const uint8_t *)msg, strlen(msg), final, final_len, err, err_size);
}

static void logs_in(const char *mechanism, const char *user)
{
    char err[256] = "";
    server sv;
    server_init(&sv, mechanism, "pencil", SALT_A);
    kc_sasl *c = kc_sasl_new("127.0.0.1", user, "pencil", err, sizeof err);
    assert_non_null(c);
    const uint8_t *final, *last;
    size_t final_len, last_len;
    assert_int_equal(exchange_to_final(c, &sv, mechanism, NULL, &final, &final_len, err, sizeof err),
                     KC_SASL_CONTINUE);
    assert_string_equal(kb_scram_user(sv.scram), user);
    assert_int_equal(kb_scram_client_final(sv.scram, final, final_len, &last, &last_len, sv.err,
                                           sizeof sv.err),
                     KB_SCRAM_OK);
    const uint8_t *nothing;
    size_t nothing_len;
    assert_int_equal(kc_sasl_step(c, last, last_len, &nothing, &nothing_len, err, sizeof err),
                     KC_SASL_DONE);
    assert_int_equal(nothing_len, 0);
    kc_sasl_free(c);
    kb_scram_free(sv.scram);
}

static void sha256_logs_in(void **state)
{
    (void)state;
    logs_in("SCRAM-SHA-256", "alice");
}

static void sha512_logs_in(void **state)
{
    (void)state;
    logs_in("SCRAM-SHA-512", "alice");
}

/* ',' and '=' travel escaped (=2C, =3D) and the server gets the name back. */
static void name_with_comma_and_equals(void **state)
{
    (void)state;
    logs_in("SCRAM-SHA-512", "a=b,c");
}

/* A server that does not know the credential cannot forge its signature. */
static void wrong_server_signature_refused(void **state)
{
    (void)state;
    char err[256] = "";
    server sv;
    server_init(&sv, "SCRAM-SHA-256", "pencil", SALT_A);
    kc_sasl *c = kc_sasl_new("127.0.0.1", "alice", "pencil", err, sizeof err);
    const uint8_t *final, *out;
    size_t final_len, out_len;
    assert_int_equal(exchange_to_final(c, &sv, "SCRAM-SHA-256", NULL, &final, &final_len, err, sizeof err),
                     KC_SASL_CONTINUE);
    /* v= of the right length, wrong bytes. */
    const char *forged = "v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    assert_int_equal(kc_sasl_step(c, (const uint8_t *)forged, strlen(forged), &out, &out_len, err, sizeof err),
                     KC_SASL_FAILED);
    assert_non_null(strstr(err, "signature is wrong"));
    kc_sasl_free(c);
    kb_scram_free(sv.scram);
}

static void server_error_reported(void **state)
{
    (void)state;
    char err[256] = "";
    server sv;
    server_init(&sv, "SCRAM-SHA-512", "pencil", SALT_A);
    kc_sasl *c = kc_sasl_new("127.0.0.1", "alice", "wrong", err, sizeof err);
    const uint8_t *final, *out, *last;
    size_t final_len, out_len, last_len;
    assert_int_equal(exchange_to_final(c, &sv, "SCRAM-SHA-512", NULL, &final, &final_len, err, sizeof err),
                     KC_SASL_CONTINUE);
    assert_int_equal(kb_scram_client_final(sv.scram, final, final_len, &last, &last_len, sv.err,
                                           sizeof sv.err),
                     KB_SCRAM_BADAUTH);
    const char *refusal = "e=invalid-proof";
    assert_int_equal(kc_sasl_step(c, (const uint8_t *)refusal, strlen(refusal), &out, &out_len, err, sizeof err),
                     KC_SASL_FAILED);
    assert_non_null(strstr(err, "invalid-proof"));
    assert_null(strstr(err, "wrong")); /* the password is never in a message */
    kc_sasl_free(c);
    kb_scram_free(sv.scram);
}

static void set_iterations(char *msg, const char *count)
{
    char *i = strstr(msg, ",i=");
    assert_non_null(i);
    strcpy(i + 3, count);
}
static void too_many_iterations(char *msg, size_t size) { (void)size; set_iterations(msg, "16385"); }
static void too_few_iterations(char *msg, size_t size) { (void)size; set_iterations(msg, "4095"); }
static void huge_iterations(char *msg, size_t size) { (void)size; set_iterations(msg, "99999999999999999999"); }
static void foreign_nonce(char *msg, size_t size) { (void)size; msg[2] ^= 1; }
static void no_salt(char *msg, size_t size)
{
    (void)size;
    char *s = strstr(msg, ",s="), *i = strstr(msg, ",i=");
    memmove(s, i, strlen(i) + 1);
}

/* Offers outside Kafka's 4096..16384 iterations are refused before any
 * derivation; libsasl2's own SCRAM plugin would compute them, so these
 * also show that kc_sasl runs the CLI's mechanism. */
static void bad_server_first_refused(void **state)
{
    (void)state;
    struct {
        void (*edit)(char *, size_t);
        const char *says;
    } cases[] = {
        {too_many_iterations, "outside Kafka's 4096..16384"},
        {too_few_iterations, "outside Kafka's 4096..16384"},
        {huge_iterations, "outside Kafka's"},
        {foreign_nonce, "nonce"},
        {no_salt, "malformed server-first-message"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char err[256] = "";
        server sv;
        server_init(&sv, "SCRAM-SHA-512", "pencil", SALT_A);
        kc_sasl *c = kc_sasl_new("127.0.0.1", "alice", "pencil", err, sizeof err);
        const uint8_t *final;
        size_t final_len;
        assert_int_equal(exchange_to_final(c, &sv, "SCRAM-SHA-512", cases[k].edit, &final, &final_len, err,
                                           sizeof err),
                         KC_SASL_FAILED);
        if (!strstr(err, cases[k].says))
            fail_msg("case %zu: \"%s\" does not say \"%s\"", k, err, cases[k].says);
        kc_sasl_free(c);
        kb_scram_free(sv.scram);
    }
}

/* One login through the kc_scram API with a key store; returns 0 when the
 * server accepted the proof. */
static int login(kc_scram_keys *keys, const char *password, const unsigned char *salt)
{
    char err[256];
    server sv;
    server_init(&sv, "SCRAM-SHA-256", "pencil", salt);
    kc_scram *s = kc_scram_new("SCRAM-SHA-256", "alice", password, strlen(password), keys);
    const char *out;
    size_t out_len;
    const uint8_t *first, *last;
    size_t first_len, last_len;
    assert_int_equal(kc_scram_first(s, &out, &out_len, err, sizeof err), 0);
    assert_int_equal(kb_scram_client_first(sv.scram, (const uint8_t *)out, out_len, sv.err, sizeof sv.err),
                     KB_SCRAM_OK);
    assert_int_equal(kb_scram_server_first(sv.scram, &sv.cred, true, &first, &first_len, sv.err,
                                           sizeof sv.err),
                     KB_SCRAM_OK);
    assert_int_equal(kc_scram_final(s, (const char *)first, first_len, &out, &out_len, err, sizeof err), 0);
    int rc = kb_scram_client_final(sv.scram, (const uint8_t *)out, out_len, &last, &last_len, sv.err,
                                   sizeof sv.err);
    if (rc == KB_SCRAM_OK)
        assert_int_equal(kc_scram_verify(s, (const char *)last, last_len, err, sizeof err), 0);
    kc_scram_free(s);
    kb_scram_free(sv.scram);
    return rc;
}

/* Brokers offering the same salt cost one derivation; a new salt or a
 * different password derives again, and kept keys still log in. */
static void keys_kept_per_salt_and_password(void **state)
{
    (void)state;
    kc_scram_keys *keys = kc_scram_keys_new();
    assert_non_null(keys);
    assert_int_equal(login(keys, "pencil", SALT_A), KB_SCRAM_OK);
    assert_int_equal(kc_scram_keys_derivations(keys), 1);
    assert_int_equal(login(keys, "pencil", SALT_A), KB_SCRAM_OK);
    assert_int_equal(login(keys, "pencil", SALT_A), KB_SCRAM_OK);
    assert_int_equal(kc_scram_keys_derivations(keys), 1);
    assert_int_equal(login(keys, "pencil", SALT_B), KB_SCRAM_OK);
    assert_int_equal(kc_scram_keys_derivations(keys), 2);
    /* Same salt, another password: never the kept keys of the first. */
    assert_int_equal(login(keys, "pencil2", SALT_A), KB_SCRAM_BADAUTH);
    assert_int_equal(kc_scram_keys_derivations(keys), 3);
    assert_int_equal(login(keys, "pencil", SALT_B), KB_SCRAM_OK);
    assert_int_equal(kc_scram_keys_derivations(keys), 3);
    kc_scram_keys_free(keys);
}

static void messages_out_of_turn(void **state)
{
    (void)state;
    char err[256];
    const char *out;
    size_t out_len;
    kc_scram *s = kc_scram_new("SCRAM-SHA-256", "alice", "pencil", 6, NULL);
    assert_int_equal(kc_scram_final(s, "r=x,s=c2FsdA==,i=4096", 21, &out, &out_len, err, sizeof err), -1);
    assert_int_equal(kc_scram_verify(s, "v=AAAA", 6, err, sizeof err), -1);
    assert_int_equal(kc_scram_first(s, &out, &out_len, err, sizeof err), 0);
    assert_int_equal(strncmp(out, "n,,n=alice,r=", 13), 0);
    assert_int_equal(kc_scram_first(s, &out, &out_len, err, sizeof err), -1);
    kc_scram_free(s);
    assert_null(kc_scram_new("SCRAM-SHA-1", "alice", "pencil", 6, NULL));
}

int main(void)
{
    kc_sasl_global_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_logs_in),
        cmocka_unit_test(sha512_logs_in),
        cmocka_unit_test(name_with_comma_and_equals),
        cmocka_unit_test(wrong_server_signature_refused),
        cmocka_unit_test(server_error_reported),
        cmocka_unit_test(bad_server_first_refused),
        cmocka_unit_test(keys_kept_per_salt_and_password),
        cmocka_unit_test(messages_out_of_turn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
