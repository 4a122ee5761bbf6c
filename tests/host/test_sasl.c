/*
 * kb_sasl against real libsasl2 on both sides: a sasldb made by
 * saslpasswd2 (sasl2-bin), libsasl2's client API playing the Kafka client
 * for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, and hand-built PLAIN tokens
 * for the cases a well-behaved client never sends.
 */
#include <dlfcn.h>
#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <sasl/sasl.h>

#include "kb_sasl.h"

extern char **environ;

#define REALM "kafka"
#define MAX_ROUNDS 8 /* SCRAM needs 2 client tokens, PLAIN 1 */
/* libsasl2 stores callbacks as int (*)(void); see kb_sasl.c. */
#define CB(fn) ((int (*)(void))(void (*)(void))(fn))

typedef struct user {
    const char *name;
    const char *password;
} user;

/* Names with SCRAM's reserved '=' and ',' and non-ASCII UTF-8. */
static const user users[] = {
    {"alice", "alice-secret"},
    {"a=b,c", "pw=,with,commas"},
    {"jos\xc3\xa9", "contrase\xc3\xb1" "a"},                       /* josé, contraseña */
    {"\xe7\x94\xa8\xe6\x88\xb7", "\xe5\xaf\x86\xe7\xa0\x81-pw"}, /* 用户, 密码-pw */
};
#define N_USERS (sizeof users / sizeof users[0])

static char *all_mechs[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};

static struct {
    char dir[PATH_MAX / 2];
    char db[PATH_MAX];
    kb_sasl_server *srv;
} fx;

static void assert_contains(const char *haystack, const char *needle)
{
    if (!haystack || !strstr(haystack, needle))
        fail_msg("\"%s\" does not contain \"%s\"", haystack ? haystack : "(null)", needle);
}

static void assert_not_contains(const char *haystack, const char *needle)
{
    if (haystack && strstr(haystack, needle))
        fail_msg("\"%s\" contains \"%s\"", haystack, needle);
}

/* ---- sasldb made by saslpasswd2 ---- */

static const char *find_saslpasswd2(void)
{
    static char found[PATH_MAX];
    const char *path = getenv("PATH");
    char dirs[4096];

    /* saslpasswd2 lives in /usr/sbin, which a non-root PATH may lack. */
    snprintf(dirs, sizeof dirs, "%s:/usr/sbin:/sbin", path ? path : "");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(found, sizeof found, "%s/saslpasswd2", d);
        if (access(found, X_OK) == 0)
            return found;
    }
    return NULL;
}

/* Waits at most 10 s for pid, then kills it; returns its exit status or -1. */
static int wait_bounded(pid_t pid)
{
    const struct timespec tick = {0, 10 * 1000 * 1000};
    int status;

    for (int i = 0; i < 1000; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (r < 0 && errno != EINTR)
            return -1;
        nanosleep(&tick, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/* saslpasswd2 -p -c -f DB -u REALM USER, the password on standard input. */
static int add_user(const char *tool, const char *realm, const char *name, const char *password)
{
    char *argv[] = {"saslpasswd2", "-p", "-c", "-f", fx.db, "-u", (char *)realm, (char *)name,
                    NULL};
    posix_spawn_file_actions_t fa;
    int fds[2], rc;
    pid_t pid;
    char line[256];
    size_t n = (size_t)snprintf(line, sizeof line, "%s\n", password);

    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    rc = posix_spawn(&pid, tool, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[0]);
    if (rc != 0) {
        close(fds[1]);
        return -1;
    }
    /* saslpasswd2 -p reads the password with one read(2): one write. */
    rc = write(fds[1], line, n) == (ssize_t)n ? 0 : -1;
    close(fds[1]);
    return wait_bounded(pid) == 0 ? rc : -1;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void remove_tree(const char *dir)
{
    if (nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "could not remove %s: %s\n", dir, strerror(errno));
}

static int quiet_log(void *context, int level, const char *message)
{
    (void)context;
    (void)level;
    (void)message;
    return SASL_OK;
}

static const sasl_callback_t client_global_callbacks[] = {
    {SASL_CB_LOG, CB(quiet_log), NULL},
    {SASL_CB_LIST_END, NULL, NULL},
};

static int group_setup(void **state)
{
    const char *build = getenv("BUILD_DIR");
    const char *tool = find_saslpasswd2();
    char err[512] = "";

    (void)state;
    if (!tool) {
        fprintf(stderr, "saslpasswd2 not found: install the Debian package sasl2-bin\n");
        return -1;
    }
    snprintf(fx.dir, sizeof fx.dir, "%s/sasl-test-XXXXXX", build ? build : ".");
    if (!mkdtemp(fx.dir)) {
        fprintf(stderr, "mkdtemp %s: %s\n", fx.dir, strerror(errno));
        fx.dir[0] = '\0'; /* nothing for the teardown to remove */
        return -1;
    }
    snprintf(fx.db, sizeof fx.db, "%s/sasldb2", fx.dir);
    for (size_t i = 0; i < N_USERS; i++)
        if (add_user(tool, REALM, users[i].name, users[i].password) != 0) {
            fprintf(stderr, "%s could not add user %s to %s\n", tool, users[i].name, fx.db);
            return -1;
        }
    /* A user of another realm in the same file: never one of ours. */
    if (add_user(tool, "other", "bob", "bob-secret") != 0) {
        fprintf(stderr, "%s could not add user bob to %s\n", tool, fx.db);
        return -1;
    }
    if (sasl_client_init(client_global_callbacks) != SASL_OK) {
        fprintf(stderr, "sasl_client_init failed\n");
        return -1;
    }
    fx.srv = kb_sasl_server_new(fx.db, REALM, all_mechs, 3, err, sizeof err);
    if (!fx.srv) {
        fprintf(stderr, "kb_sasl_server_new: %s\n", err);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    kb_sasl_server_free(fx.srv);
    sasl_client_done();
    if (fx.dir[0])
        remove_tree(fx.dir);
    return 0;
}

/* ---- libsasl2's client against kb_sasl ---- */

typedef struct creds {
    const char *authname;
    const char *authzid; /* NULL: none */
    const char *password;
} creds;

typedef struct outcome {
    int status;             /* last kb_sasl_step status; 0 if none ran */
    bool client_ok;         /* the client accepted every server token */
    char err[512];
    char detail[256];
    char username[256];
    char client_first[512]; /* first client token (text for SCRAM) */
    char server_first[512]; /* first server token */
} outcome;

static int client_simple(void *context, int id, const char **result, unsigned *len)
{
    const creds *c = context;

    if (id == SASL_CB_AUTHNAME)
        *result = c->authname;
    else if (id == SASL_CB_USER)
        *result = c->authzid ? c->authzid : "";
    else
        return SASL_BADPARAM;
    if (len)
        *len = (unsigned)strlen(*result);
    return SASL_OK;
}

static int client_secret(sasl_conn_t *conn, void *context, int id, sasl_secret_t **psecret)
{
    sasl_secret_t *secret = context;

    (void)conn;
    (void)id;
    *psecret = secret;
    return SASL_OK;
}

static void copy_text(char *dst, size_t size, const void *src, size_t len)
{
    if (!src) /* a token of no bytes may come as NULL */
        len = 0;
    if (len >= size)
        len = size - 1;
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Runs one exchange between libsasl2's client and a kb_sasl session,
 * passing tokens back and forth for at most MAX_ROUNDS rounds. */
static void authenticate(kb_sasl_server *srv, const char *mech, const creds *c, outcome *r)
{
    size_t plen = strlen(c->password);
    sasl_secret_t *secret = calloc(1, sizeof(sasl_secret_t) + plen);
    sasl_callback_t callbacks[] = {
        {SASL_CB_AUTHNAME, CB(client_simple), (void *)c},
        {SASL_CB_USER, CB(client_simple), (void *)c},
        {SASL_CB_PASS, CB(client_secret), secret},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    sasl_conn_t *cc = NULL;
    kb_sasl_session *s;
    const char *cout = NULL, *chosen = NULL;
    unsigned coutlen = 0;
    int rc;

    memset(r, 0, sizeof *r);
    assert_non_null(secret);
    secret->len = plen;
    memcpy(secret->data, c->password, plen);
    assert_int_equal(sasl_client_new("kafka", "localhost", NULL, NULL, callbacks, 0, &cc), SASL_OK);
    rc = sasl_client_start(cc, mech, NULL, &cout, &coutlen, &chosen);
    assert_true(rc == SASL_OK || rc == SASL_CONTINUE);
    assert_string_equal(chosen, mech);
    copy_text(r->client_first, sizeof r->client_first, cout, coutlen);

    s = kb_sasl_session_new(srv, mech, r->err, sizeof r->err);
    assert_non_null(s);
    for (int round = 0; round < MAX_ROUNDS; round++) {
        const uint8_t *sout;
        size_t soutlen;

        r->status = kb_sasl_step(s, (const uint8_t *)cout, coutlen, &sout, &soutlen, r->err,
                                 sizeof r->err);
        if (round == 0 && r->status != KB_SASL_FAILED)
            copy_text(r->server_first, sizeof r->server_first, sout, soutlen);
        if (r->status == KB_SASL_FAILED)
            break;
        if (r->status == KB_SASL_DONE) {
            /* SCRAM's server-final proves the server knew the secret. */
            r->client_ok = soutlen == 0 || sasl_client_step(cc, (const char *)sout,
                                                             (unsigned)soutlen, NULL, &cout,
                                                             &coutlen) == SASL_OK;
            copy_text(r->username, sizeof r->username, kb_sasl_username(s),
                      strlen(kb_sasl_username(s)));
            break;
        }
        rc = sasl_client_step(cc, (const char *)sout, (unsigned)soutlen, NULL, &cout, &coutlen);
        if (rc != SASL_CONTINUE && rc != SASL_OK)
            break;
    }
    copy_text(r->detail, sizeof r->detail, kb_sasl_detail(s), strlen(kb_sasl_detail(s)));
    kb_sasl_session_free(s);
    sasl_dispose(&cc);
    free(secret);
}

static void assert_authenticated(const outcome *r, const char *name)
{
    if (r->status != KB_SASL_DONE)
        fail_msg("%s not authenticated: %s", name, r->err);
    assert_true(r->client_ok);
    assert_string_equal(r->username, name);
}

static void every_user_authenticates(const char *mech)
{
    for (size_t i = 0; i < N_USERS; i++) {
        creds c = {users[i].name, NULL, users[i].password};
        outcome r;
        authenticate(fx.srv, mech, &c, &r);
        assert_authenticated(&r, users[i].name);
        /* The same with an authorization id equal to the user name. */
        c.authzid = users[i].name;
        authenticate(fx.srv, mech, &c, &r);
        assert_authenticated(&r, users[i].name);
    }
}

static void test_plain_authenticates_every_user(void **state)
{
    (void)state;
    every_user_authenticates("PLAIN");
}

static void test_scram_sha_256_authenticates_every_user(void **state)
{
    (void)state;
    every_user_authenticates("SCRAM-SHA-256");
}

static void test_scram_sha_512_authenticates_every_user(void **state)
{
    (void)state;
    every_user_authenticates("SCRAM-SHA-512");
}

/* RFC 5802: '=' and ',' travel as =3D and =2C; the principal is unescaped. */
static void test_scram_name_is_escaped_on_the_wire_and_unescaped_in_the_principal(void **state)
{
    creds c = {"a=b,c", NULL, "pw=,with,commas"};
    outcome r;

    (void)state;
    authenticate(fx.srv, "SCRAM-SHA-256", &c, &r);
    assert_authenticated(&r, "a=b,c");
    assert_contains(r.client_first, ",n=a=3Db=2Cc,");
}

/* Kafka clients refuse fewer than 4096 iterations (ScramMechanism). */
static void test_scram_offers_4096_iterations(void **state)
{
    const char *mechs[] = {"SCRAM-SHA-256", "SCRAM-SHA-512"};

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        creds c = {"alice", NULL, "alice-secret"};
        outcome r;
        const char *it;
        authenticate(fx.srv, mechs[i], &c, &r);
        assert_authenticated(&r, "alice");
        it = strstr(r.server_first, ",i=");
        assert_non_null(it);
        assert_int_equal(strtol(it + 3, NULL, 10), 4096);
    }
}

static void assert_refused(const outcome *r, const char *want, const char *secret)
{
    assert_int_equal(r->status, KB_SASL_FAILED);
    assert_string_equal(r->err, want);
    assert_not_contains(r->detail, secret);
}

static void test_scram_wrong_password_fails(void **state)
{
    const char *mechs[] = {"SCRAM-SHA-256", "SCRAM-SHA-512"};

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        creds c = {"alice", NULL, "not-alices-password"};
        outcome r;
        authenticate(fx.srv, mechs[i], &c, &r);
        assert_refused(&r, "authentication failed for user alice", "not-alices-password");
        assert_true(r.detail[0] != '\0'); /* the broker's log learns why */
    }
}

static void test_scram_unknown_user_fails_with_the_same_message(void **state)
{
    creds c = {"mallory", NULL, "guess"};
    outcome r;

    (void)state;
    authenticate(fx.srv, "SCRAM-SHA-512", &c, &r);
    assert_refused(&r, "authentication failed for user mallory", "guess");
}

static void test_scram_other_authorization_id_fails(void **state)
{
    creds c = {"alice", "a=b,c", "alice-secret"};
    outcome r;

    (void)state;
    authenticate(fx.srv, "SCRAM-SHA-256", &c, &r);
    assert_int_equal(r.status, KB_SASL_FAILED);
    assert_contains(r.err, "authentication failed for user alice: the authorization id");
}

static void test_plain_wrong_password_fails_through_the_client(void **state)
{
    creds c = {"\xe7\x94\xa8\xe6\x88\xb7", NULL, "wrong-pw"};
    outcome r;

    (void)state;
    authenticate(fx.srv, "PLAIN", &c, &r);
    assert_refused(&r, "authentication failed for user \xe7\x94\xa8\xe6\x88\xb7", "wrong-pw");
}

/* ---- hand-built PLAIN tokens ---- */

typedef struct plain_case {
    const char *token;
    size_t len;
    int status;
    const char *want; /* expected username on success, else a part of errstr */
} plain_case;

#define TOK(s) s, sizeof(s) - 1

static void run_plain(const plain_case *pc)
{
    char err[512] = "";
    const uint8_t *out = (const uint8_t *)"x";
    size_t out_len = 99;
    kb_sasl_session *s = kb_sasl_session_new(fx.srv, "PLAIN", err, sizeof err);
    int st;

    assert_non_null(s);
    st = kb_sasl_step(s, (const uint8_t *)pc->token, pc->len, &out, &out_len, err, sizeof err);
    if (st != pc->status)
        fail_msg("token of %zu bytes: status %d, want %d (%s)", pc->len, st, pc->status, err);
    if (st == KB_SASL_DONE) {
        assert_string_equal(kb_sasl_username(s), pc->want);
        assert_int_equal(out_len, 0);
    } else {
        assert_contains(err, pc->want);
        assert_null(kb_sasl_username(s));
        /* Never a password: the failing cases below use "nope" or one
         * ending in "secret". */
        assert_not_contains(err, "secret");
        assert_not_contains(err, "nope");
        assert_not_contains(kb_sasl_detail(s), "secret");
        assert_not_contains(kb_sasl_detail(s), "nope");
    }
    kb_sasl_session_free(s);
}

static void test_plain_tokens(void **state)
{
    static const plain_case cases[] = {
        {TOK("\0alice\0alice-secret"), KB_SASL_DONE, "alice"},
        {TOK("alice\0alice\0alice-secret"), KB_SASL_DONE, "alice"},
        {TOK("\0a=b,c\0pw=,with,commas"), KB_SASL_DONE, "a=b,c"},
        {TOK("\0jos\xc3\xa9\0contrase\xc3\xb1" "a"), KB_SASL_DONE, "jos\xc3\xa9"},
        {TOK("\0alice\0nope"), KB_SASL_FAILED, "authentication failed for user alice"},
        {TOK("\0mallory\0nope"), KB_SASL_FAILED, "authentication failed for user mallory"},
        /* Kafka refuses to let alice act as someone else. */
        {TOK("a=b,c\0alice\0alice-secret"), KB_SASL_FAILED,
         "authentication failed for user alice: the authorization id must be empty"},
        {TOK("alice"), KB_SASL_FAILED, "expected authzid NUL authcid NUL password"},
        {TOK("\0alice"), KB_SASL_FAILED, "expected authzid NUL authcid NUL password"},
        {TOK("\0alice\0alice-secret\0"), KB_SASL_FAILED, "expected authzid NUL authcid NUL"},
        {TOK("\0\0nope"), KB_SASL_FAILED, "user name not specified"},
        {TOK("\0alice\0"), KB_SASL_FAILED, "password not specified"},
        {"", 0, KB_SASL_FAILED, "empty SASL/PLAIN token"},
        /* bob exists only in realm "other"; naming the realm is refused. */
        {TOK("\0bob\0bob-secret"), KB_SASL_FAILED, "authentication failed for user bob"},
        {TOK("\0bob@other\0bob-secret"), KB_SASL_FAILED,
         "authentication failed for user bob@other"},
        {TOK("\0alice@kafka\0alice-secret"), KB_SASL_FAILED,
         "authentication failed for user alice@kafka"},
        /* libsasl2 alone would strip the blank and log alice in. */
        {TOK("\0 alice\0alice-secret"), KB_SASL_FAILED, "authentication failed for user  alice"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_plain(&cases[i]);
}

static void test_step_after_the_outcome_is_refused(void **state)
{
    static const char good[] = "\0alice\0alice-secret";
    char err[256];
    const uint8_t *out;
    size_t out_len;
    kb_sasl_session *s = kb_sasl_session_new(fx.srv, "PLAIN", err, sizeof err);

    (void)state;
    assert_int_equal(kb_sasl_step(s, (const uint8_t *)good, sizeof good - 1, &out, &out_len, err,
                                  sizeof err),
                     KB_SASL_DONE);
    assert_int_equal(kb_sasl_step(s, (const uint8_t *)good, sizeof good - 1, &out, &out_len, err,
                                  sizeof err),
                     KB_SASL_FAILED);
    assert_contains(err, "already finished");
    assert_string_equal(kb_sasl_username(s), "alice");
    kb_sasl_session_free(s);
}

/* ---- mechanisms and configuration ---- */

static void test_unknown_mechanism_is_refused(void **state)
{
    char err[256];

    (void)state;
    assert_null(kb_sasl_session_new(fx.srv, "GSSAPI", err, sizeof err));
    assert_string_equal(err, "SASL mechanism GSSAPI is not enabled "
                             "(enabled: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)");
    /* Kafka's mechanism names are case-sensitive. */
    assert_null(kb_sasl_session_new(fx.srv, "plain", err, sizeof err));
    assert_false(kb_sasl_enabled(fx.srv, "scram-sha-256"));
}

static void test_disabled_mechanism_is_refused(void **state)
{
    char *plain_only[] = {"PLAIN", "PLAIN"};
    char err[256] = "";
    const char *names[3] = {NULL, NULL, NULL};
    kb_sasl_server *srv = kb_sasl_server_new(fx.db, REALM, plain_only, 2, err, sizeof err);
    creds c = {"alice", NULL, "alice-secret"};
    outcome r;

    (void)state;
    assert_non_null(srv);
    assert_int_equal(kb_sasl_mechanisms(srv, names, 3), 1);
    assert_string_equal(names[0], "PLAIN");
    assert_true(kb_sasl_enabled(srv, "PLAIN"));
    assert_false(kb_sasl_enabled(srv, "SCRAM-SHA-256"));
    assert_null(kb_sasl_session_new(srv, "SCRAM-SHA-256", err, sizeof err));
    assert_string_equal(err, "SASL mechanism SCRAM-SHA-256 is not enabled (enabled: PLAIN)");
    authenticate(srv, "PLAIN", &c, &r);
    assert_authenticated(&r, "alice");
    kb_sasl_server_free(srv);
}

static void test_mechanisms_are_listed_in_configured_order(void **state)
{
    char *order[] = {"SCRAM-SHA-512", "PLAIN"};
    char err[256] = "";
    const char *names[1] = {NULL};
    kb_sasl_server *srv = kb_sasl_server_new(fx.db, REALM, order, 2, err, sizeof err);

    (void)state;
    assert_non_null(srv);
    /* A short array gets the first names; the count is still the total. */
    assert_int_equal(kb_sasl_mechanisms(srv, names, 1), 2);
    assert_string_equal(names[0], "SCRAM-SHA-512");
    kb_sasl_server_free(srv);
}

static void test_unsupported_mechanism_in_configuration_is_refused(void **state)
{
    char *bad[] = {"PLAIN", "DIGEST-MD5"};
    char err[256] = "";

    (void)state;
    assert_null(kb_sasl_server_new(fx.db, REALM, bad, 2, err, sizeof err));
    assert_string_equal(err, "unsupported SASL mechanism DIGEST-MD5 "
                             "(supported: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)");
    assert_null(kb_sasl_server_new(fx.db, REALM, bad, 0, err, sizeof err));
    assert_string_equal(err, "no SASL mechanism enabled");
    assert_null(kb_sasl_server_new(fx.db, "", all_mechs, 3, err, sizeof err));
    assert_contains(err, "realm");
}

static void test_missing_sasldb_is_refused_naming_the_path(void **state)
{
    char missing[PATH_MAX + 16];
    char err[PATH_MAX + 128] = "";

    (void)state;
    snprintf(missing, sizeof missing, "%s/no-such-sasldb", fx.dir);
    assert_null(kb_sasl_server_new(missing, REALM, all_mechs, 3, err, sizeof err));
    assert_contains(err, missing);
    assert_contains(err, "No such file or directory");
    assert_null(kb_sasl_server_new(fx.dir, REALM, all_mechs, 3, err, sizeof err));
    assert_contains(err, fx.dir);
    assert_contains(err, "not a regular file");
    if (geteuid() != 0) { /* root reads any file, mode or not */
        assert_int_equal(chmod(fx.db, 0), 0);
        assert_null(kb_sasl_server_new(fx.db, REALM, all_mechs, 3, err, sizeof err));
        assert_contains(err, "Permission denied");
        assert_int_equal(chmod(fx.db, 0600), 0);
    }
}

/* sasl_server_done on the last free, sasl_server_init again on the next. */
static void test_server_works_again_after_the_last_one_is_freed(void **state)
{
    char err[256] = "";
    creds c = {"jos\xc3\xa9", NULL, "contrase\xc3\xb1" "a"};
    outcome r;

    (void)state;
    kb_sasl_server_free(fx.srv);
    fx.srv = kb_sasl_server_new(fx.db, REALM, all_mechs, 3, err, sizeof err);
    if (!fx.srv)
        fail_msg("%s", err);
    authenticate(fx.srv, "SCRAM-SHA-512", &c, &r);
    assert_authenticated(&r, "jos\xc3\xa9");
}

/* libsasl2 loads its plugins from the sasl2/ folder beside libsasl2.so
 * (or SASL_PATH); a folder with only some of them stands for a machine
 * without libsasl2-modules or libsasl2-modules-db. */
static void plugin_home(char *home, size_t size)
{
    const char *env = getenv("SASL_PATH");
    Dl_info info;
    char lib[PATH_MAX];

    if (env) {
        snprintf(home, size, "%s", env);
        return;
    }
    assert_true(dladdr((void *)sasl_server_init, &info) != 0 && info.dli_fname);
    snprintf(lib, sizeof lib, "%s", info.dli_fname);
    snprintf(home, size, "%s/sasl2", dirname(lib));
}

static void plugin_folder(const char *home, const char *name, const char *const *plugins,
                          char *dir, size_t size)
{
    char from[PATH_MAX * 2], to[PATH_MAX * 2];

    snprintf(dir, size, "%s/%s", fx.dir, name);
    assert_int_equal(mkdir(dir, 0700), 0);
    for (; *plugins; plugins++) {
        snprintf(from, sizeof from, "%s/%s", home, *plugins);
        snprintf(to, sizeof to, "%s/%s", dir, *plugins);
        assert_int_equal(access(from, R_OK), 0);
        assert_int_equal(symlink(from, to), 0);
    }
}

static void test_missing_plugins_are_named_with_their_package(void **state)
{
    static const char *const none[] = {NULL};
    static const char *const no_scram[] = {"libplain.so", "libsasldb.so", NULL};
    static const char *const no_db[] = {"libplain.so", "libscram.so", NULL};
    static const struct {
        const char *name;
        const char *const *plugins;
        const char *want;
    } cases[] = {
        {"plugins-none", none,
         "SASL mechanism PLAIN is not available in libsasl2: install its plugin "
         "(Debian package libsasl2-modules); libsasl2 offers: none"},
        {"plugins-no-scram", no_scram,
         "SASL mechanism SCRAM-SHA-256 is not available in libsasl2: install its plugin "
         "(Debian package libsasl2-modules); libsasl2 offers: PLAIN"},
        {"plugins-no-db", no_db,
         "libsasl2's sasldb plugin is not available: install the Debian package "
         "libsasl2-modules-db"},
    };
    char home[PATH_MAX], dir[PATH_MAX], err[3][512], again[512];
    bool refused[3];

    (void)state;
    plugin_home(home, sizeof home);
    /* Plugins load in sasl_server_init, which runs again only once every
     * server is gone; the shared server comes back before any assertion. */
    kb_sasl_server_free(fx.srv);
    for (size_t i = 0; i < 3; i++) {
        kb_sasl_server *srv;
        plugin_folder(home, cases[i].name, cases[i].plugins, dir, sizeof dir);
        assert_int_equal(sasl_set_path(SASL_PATH_TYPE_PLUGIN, dir), SASL_OK);
        srv = kb_sasl_server_new(fx.db, REALM, all_mechs, 3, err[i], sizeof err[i]);
        refused[i] = srv == NULL;
        kb_sasl_server_free(srv);
    }
    assert_int_equal(sasl_set_path(SASL_PATH_TYPE_PLUGIN, home), SASL_OK);
    fx.srv = kb_sasl_server_new(fx.db, REALM, all_mechs, 3, again, sizeof again);
    if (!fx.srv)
        fail_msg("%s", again);
    for (size_t i = 0; i < 3; i++) {
        assert_true(refused[i]);
        assert_string_equal(err[i], cases[i].want);
    }
}

/* ---- threads ---- */

#define N_THREADS 4
#define PER_THREAD 6

typedef struct worker {
    size_t id;
    int failures;
    const char *last_user;
    char last_err[512];
} worker;

static void *worker_run(void *arg)
{
    worker *w = arg;

    for (size_t k = 0; k < PER_THREAD; k++) {
        size_t pick = w->id * PER_THREAD + k;
        const user *u = &users[pick % N_USERS];
        creds c = {u->name, NULL, u->password};
        outcome r;
        authenticate(fx.srv, all_mechs[pick % 3], &c, &r);
        if (r.status != KB_SASL_DONE || !r.client_ok || strcmp(r.username, u->name) != 0) {
            w->failures++;
            w->last_user = u->name;
            snprintf(w->last_err, sizeof w->last_err, "%s", r.err);
        }
    }
    return NULL;
}

static void test_sessions_run_concurrently_on_threads(void **state)
{
    pthread_t t[N_THREADS];
    worker w[N_THREADS];

    (void)state;
    for (size_t i = 0; i < N_THREADS; i++) {
        w[i] = (worker){.id = i};
        assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
    }
    for (size_t i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (size_t i = 0; i < N_THREADS; i++)
        if (w[i].failures)
            fail_msg("thread %zu: %d failures, last %s: %s", i, w[i].failures, w[i].last_user,
                     w[i].last_err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_authenticates_every_user),
        cmocka_unit_test(test_scram_sha_256_authenticates_every_user),
        cmocka_unit_test(test_scram_sha_512_authenticates_every_user),
        cmocka_unit_test(test_scram_name_is_escaped_on_the_wire_and_unescaped_in_the_principal),
        cmocka_unit_test(test_scram_offers_4096_iterations),
        cmocka_unit_test(test_scram_wrong_password_fails),
        cmocka_unit_test(test_scram_unknown_user_fails_with_the_same_message),
        cmocka_unit_test(test_scram_other_authorization_id_fails),
        cmocka_unit_test(test_plain_wrong_password_fails_through_the_client),
        cmocka_unit_test(test_plain_tokens),
        cmocka_unit_test(test_step_after_the_outcome_is_refused),
        cmocka_unit_test(test_unknown_mechanism_is_refused),
        cmocka_unit_test(test_disabled_mechanism_is_refused),
        cmocka_unit_test(test_mechanisms_are_listed_in_configured_order),
        cmocka_unit_test(test_unsupported_mechanism_in_configuration_is_refused),
        cmocka_unit_test(test_missing_sasldb_is_refused_naming_the_path),
        cmocka_unit_test(test_server_works_again_after_the_last_one_is_freed),
        cmocka_unit_test(test_missing_plugins_are_named_with_their_package),
        cmocka_unit_test(test_sessions_run_concurrently_on_threads),
    };
    return cmocka_run_group_tests_name("host_sasl", tests, group_setup, group_teardown);
}
