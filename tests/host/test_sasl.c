/*
 * kb_sasl against real libsasl2 on both sides: a sasldb made by
 * saslpasswd2 (sasl2-bin), libsasl2's client API playing the Kafka client
 * for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, hand-built PLAIN tokens for
 * the cases a well-behaved client never sends, and a hand-built SCRAM
 * client (OpenSSL, checked against RFC 7677's example) for librdkafka's
 * doubled nonce and for malformed SCRAM messages.
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

#include <openssl/evp.h>
#include <openssl/hmac.h>
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

/* ---- a hand-built SCRAM client (OpenSSL) ---- */

#define SCRAM_MAX 1024

static const EVP_MD *scram_md(const char *mech)
{
    return strcmp(mech, "SCRAM-SHA-512") == 0 ? EVP_sha512() : EVP_sha256();
}

/* out holds 4 * ((len + 2) / 3) + 1 bytes. */
static void b64(const void *in, size_t len, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

/* EVP_DecodeBlock counts padding as zero bytes: they are taken off. */
static size_t unb64(const char *in, unsigned char *out)
{
    size_t len = strlen(in);
    int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);

    assert_true(n >= 0);
    while (len > 0 && in[len - 1] == '=') {
        len--;
        n--;
    }
    return (size_t)n;
}

/* RFC 5802 on the client's side: ClientProof and ServerSignature for one
 * AuthMessage. Returns the hash size. */
static size_t scram_proof(const EVP_MD *md, const char *password, const unsigned char *salt,
                          size_t salt_len, int iterations, const char *auth, unsigned char *proof,
                          unsigned char *server_sig)
{
    unsigned char salted[EVP_MAX_MD_SIZE], client_key[EVP_MAX_MD_SIZE];
    unsigned char stored[EVP_MAX_MD_SIZE], server_key[EVP_MAX_MD_SIZE], sig[EVP_MAX_MD_SIZE];
    size_t hlen = (size_t)EVP_MD_get_size(md);
    const unsigned char *a = (const unsigned char *)auth;
    unsigned int n;

    assert_int_equal(PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len,
                                       iterations, md, (int)hlen, salted),
                     1);
    assert_non_null(
        HMAC(md, salted, (int)hlen, (const unsigned char *)"Client Key", 10, client_key, &n));
    assert_int_equal(EVP_Digest(client_key, hlen, stored, &n, md, NULL), 1);
    assert_non_null(HMAC(md, stored, (int)hlen, a, strlen(auth), sig, &n));
    for (size_t i = 0; i < hlen; i++)
        proof[i] = client_key[i] ^ sig[i];
    assert_non_null(
        HMAC(md, salted, (int)hlen, (const unsigned char *)"Server Key", 10, server_key, &n));
    assert_non_null(HMAC(md, server_key, (int)hlen, a, strlen(auth), server_sig, &n));
    return hlen;
}

/* The hand-built client is checked before it judges the server: RFC 7677's
 * example exchange (user "user", password "pencil"). */
static void test_hand_built_scram_client_matches_rfc_7677(void **state)
{
    static const char nonce[] = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    char auth[512], text[128];
    unsigned char salt[32], proof[EVP_MAX_MD_SIZE], sig[EVP_MAX_MD_SIZE];
    size_t salt_len = unb64("W22ZaJ0SNY7soEsUEjb6gQ==", salt), hlen;

    (void)state;
    snprintf(auth, sizeof auth,
             "n=user,r=rOprNGfwEbeRWgbNEkqO,r=%s,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=%s",
             nonce, nonce);
    hlen = scram_proof(EVP_sha256(), "pencil", salt, salt_len, 4096, auth, proof, sig);
    b64(proof, hlen, text);
    assert_string_equal(text, "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    b64(sig, hlen, text);
    assert_string_equal(text, "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
}

/* One exchange driven by hand against the shared server. */
typedef struct hand {
    const char *mech;
    kb_sasl_session *s;
    int status; /* of the last kb_sasl_step */
    char err[512];
    char bare[SCRAM_MAX]; /* client-first-message-bare */
    char server_first[SCRAM_MAX];
    char nonce[SCRAM_MAX]; /* r= of the server-first-message */
    char salt64[SCRAM_MAX];
    long iterations;
    char server_final[SCRAM_MAX];
    bool server_verified; /* v= is the ServerSignature the client computed */
} hand;

/* RFC 5802 saslname: ',' and '=' escaped. */
static void saslname(const char *name, char *out, size_t size)
{
    size_t n = 0;

    for (; *name && n + 4 < size; name++) {
        const char *esc = *name == ',' ? "=2C" : *name == '=' ? "=3D" : NULL;
        if (esc) {
            memcpy(out + n, esc, 3);
            n += 3;
        } else {
            out[n++] = *name;
        }
    }
    out[n] = '\0';
}

/* Sends a client-first-message (len bytes) on a new session; on
 * KB_SASL_CONTINUE keeps what the client-final needs. */
static void hand_first(hand *h, const char *mech, const char *first, size_t len)
{
    const uint8_t *out = NULL;
    size_t out_len = 0;
    const char *comma;

    memset(h, 0, sizeof *h);
    h->mech = mech;
    h->s = kb_sasl_session_new(fx.srv, mech, h->err, sizeof h->err);
    assert_non_null(h->s);
    h->status = kb_sasl_step(h->s, (const uint8_t *)first, len, &out, &out_len, h->err,
                             sizeof h->err);
    if (h->status != KB_SASL_CONTINUE)
        return;
    comma = strchr(first, ',');
    comma = comma ? strchr(comma + 1, ',') : NULL;
    assert_non_null(comma);
    copy_text(h->bare, sizeof h->bare, comma + 1, len - (size_t)(comma + 1 - first));
    copy_text(h->server_first, sizeof h->server_first, out, out_len);
    assert_int_equal(sscanf(h->server_first, "r=%1023[^,],s=%1023[^,],i=%ld", h->nonce,
                            h->salt64, &h->iterations),
                     3);
}

static void hand_first_str(hand *h, const char *mech, const char *first)
{
    hand_first(h, mech, first, strlen(first));
}

/* The proof password gives over exactly without_proof, and the
 * ServerSignature to expect, both in base64. */
static void hand_proof(const hand *h, const char *without_proof, const char *password,
                       char *proof64, char *sig64)
{
    unsigned char salt[SCRAM_MAX], proof[EVP_MAX_MD_SIZE], sig[EVP_MAX_MD_SIZE];
    char auth[3 * SCRAM_MAX + 2];
    size_t salt_len = unb64(h->salt64, salt), hlen;

    snprintf(auth, sizeof auth, "%s,%s,%s", h->bare, h->server_first, without_proof);
    hlen = scram_proof(scram_md(h->mech), password, salt, salt_len, (int)h->iterations, auth,
                       proof, sig);
    b64(proof, hlen, proof64);
    b64(sig, hlen, sig64);
}

static void hand_final_bytes(hand *h, const char *final, size_t len)
{
    const uint8_t *out = NULL;
    size_t out_len = 0;

    h->status =
        kb_sasl_step(h->s, (const uint8_t *)final, len, &out, &out_len, h->err, sizeof h->err);
    if (h->status == KB_SASL_DONE)
        copy_text(h->server_final, sizeof h->server_final, out, out_len);
}

/* Sends without_proof ",p=" and the proof computed over exactly it. */
static void hand_final(hand *h, const char *without_proof, const char *password)
{
    char final[2 * SCRAM_MAX], proof64[128], sig64[128];

    hand_proof(h, without_proof, password, proof64, sig64);
    snprintf(final, sizeof final, "%s,p=%s", without_proof, proof64);
    hand_final_bytes(h, final, strlen(final));
    h->server_verified = h->status == KB_SASL_DONE && strncmp(h->server_final, "v=", 2) == 0 &&
                         strcmp(h->server_final + 2, sig64) == 0;
}

static void hand_end(hand *h)
{
    kb_sasl_session_free(h->s);
    h->s = NULL;
}

static void assert_hand_done(const hand *h, const char *user)
{
    if (h->status != KB_SASL_DONE)
        fail_msg("%s with %s: status %d: %s", user, h->mech, h->status, h->err);
    assert_true(h->server_verified);
    assert_string_equal(kb_sasl_username(h->s), user);
}

/* Failed, with errstr starting with want, and no secret said anywhere. */
static void assert_hand_failed(const hand *h, const char *want)
{
    if (h->status != KB_SASL_FAILED)
        fail_msg("%s: status %d, want a failure \"%s\"", h->mech, h->status, want);
    if (strncmp(h->err, want, strlen(want)) != 0)
        fail_msg("\"%s\" does not start with \"%s\"", h->err, want);
    assert_null(kb_sasl_username(h->s));
    assert_not_contains(h->err, "secret");
    assert_not_contains(kb_sasl_detail(h->s), "secret");
    assert_not_contains(h->err, "pw");
    assert_not_contains(kb_sasl_detail(h->s), "pw");
}

static const char *const scram_mechs[] = {"SCRAM-SHA-256", "SCRAM-SHA-512"};
/* librdkafka's nonces are 32 characters too. */
#define CNONCE "fyko+d2lbbFgONRv9qkxdawLrdkafka1"

/* librdkafka's client-final nonce is its client nonce followed by the whole
 * server-first nonce, itself starting with that client nonce; Kafka
 * accepts it, and the proof covers the doubled text. */
static void test_scram_accepts_librdkafka_doubled_client_nonce(void **state)
{
    (void)state;
    for (size_t m = 0; m < 2; m++)
        for (size_t i = 0; i < N_USERS; i++) {
            char first[SCRAM_MAX], without[2 * SCRAM_MAX], name[256];
            hand h;
            saslname(users[i].name, name, sizeof name);
            snprintf(first, sizeof first, "n,,n=%s,r=" CNONCE, name);
            hand_first_str(&h, scram_mechs[m], first);
            assert_int_equal(h.status, KB_SASL_CONTINUE);
            assert_int_equal(strncmp(h.nonce, CNONCE, strlen(CNONCE)), 0);
            assert_true(strlen(h.nonce) > strlen(CNONCE));
            assert_int_equal(h.iterations, 4096);
            snprintf(without, sizeof without, "c=biws,r=" CNONCE "%s", h.nonce);
            hand_final(&h, without, users[i].password);
            assert_hand_done(&h, users[i].name);
            /* One exchange per session. */
            hand_final(&h, without, users[i].password);
            assert_int_equal(h.status, KB_SASL_FAILED);
            assert_contains(h.err, "already finished");
            hand_end(&h);
        }
}

enum nonce_kind {
    NONCE_EXACT,         /* RFC 5802 */
    NONCE_DOUBLED,       /* librdkafka */
    NONCE_OTHER_PREFIX,  /* anything before the server nonce, as Kafka */
    NONCE_CLIENT_ONLY,
    NONCE_SERVER_PART,   /* the server's part without the client nonce */
    NONCE_TRUNCATED,
    NONCE_CHANGED,
    NONCE_EXTRA_SUFFIX,
};

/* out = a b, which must fit. */
static void concat(char *out, size_t size, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    assert_true(la + lb < size);
    memcpy(out, a, la);
    memcpy(out + la, b, lb + 1);
}

static void final_nonce(enum nonce_kind kind, const char *server, char *out, size_t size)
{
    size_t n = strlen(server);

    switch (kind) {
    case NONCE_EXACT:
        concat(out, size, "", server);
        break;
    case NONCE_DOUBLED:
        concat(out, size, CNONCE, server);
        break;
    case NONCE_OTHER_PREFIX:
        concat(out, size, "kafka", server);
        break;
    case NONCE_CLIENT_ONLY:
        concat(out, size, CNONCE, "");
        break;
    case NONCE_SERVER_PART:
        concat(out, size, "", server + strlen(CNONCE));
        break;
    case NONCE_TRUNCATED:
        concat(out, size, "", server);
        out[n - 1] = '\0';
        break;
    case NONCE_CHANGED:
        concat(out, size, "", server);
        out[n - 1] = out[n - 1] == 'A' ? 'B' : 'A';
        break;
    case NONCE_EXTRA_SUFFIX:
        concat(out, size, server, "x");
        break;
    }
}

static void test_scram_final_nonce_must_end_with_the_server_nonce(void **state)
{
    static const struct {
        enum nonce_kind kind;
        bool ok;
    } cases[] = {
        {NONCE_EXACT, true},        {NONCE_DOUBLED, true},    {NONCE_OTHER_PREFIX, true},
        {NONCE_CLIENT_ONLY, false}, {NONCE_SERVER_PART, false}, {NONCE_TRUNCATED, false},
        {NONCE_CHANGED, false},     {NONCE_EXTRA_SUFFIX, false},
    };

    (void)state;
    for (size_t m = 0; m < 2; m++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char nonce[SCRAM_MAX], without[2 * SCRAM_MAX];
            hand h;
            hand_first_str(&h, scram_mechs[m], "n,,n=alice,r=" CNONCE);
            assert_int_equal(h.status, KB_SASL_CONTINUE);
            final_nonce(cases[i].kind, h.nonce, nonce, sizeof nonce);
            snprintf(without, sizeof without, "c=biws,r=%s", nonce);
            hand_final(&h, without, "alice-secret");
            if (cases[i].ok)
                assert_hand_done(&h, "alice");
            else
                assert_hand_failed(&h, "invalid SASL/SCRAM-SHA-");
            if (!cases[i].ok)
                assert_contains(h.err, "client-final-message: nonce r= does not end with the "
                                       "server-first-message nonce");
            hand_end(&h);
        }
}

static void test_scram_wrong_proof_fails(void **state)
{
    (void)state;
    for (size_t m = 0; m < 2; m++) {
        char without[2 * SCRAM_MAX], final[3 * SCRAM_MAX], proof64[128], sig64[128];
        unsigned char proof[EVP_MAX_MD_SIZE];
        size_t plen;
        hand h;

        /* The wrong password, over the lenient nonce. */
        hand_first_str(&h, scram_mechs[m], "n,,n=alice,r=" CNONCE);
        snprintf(without, sizeof without, "c=biws,r=" CNONCE "%s", h.nonce);
        hand_final(&h, without, "not-alices-secret");
        assert_hand_failed(&h, "authentication failed for user alice");
        assert_string_equal(h.err, "authentication failed for user alice");
        assert_contains(kb_sasl_detail(h.s), "client proof does not match");
        hand_end(&h);

        /* The right proof with one bit flipped. */
        hand_first_str(&h, scram_mechs[m], "n,,n=alice,r=" CNONCE);
        snprintf(without, sizeof without, "c=biws,r=%s", h.nonce);
        hand_proof(&h, without, "alice-secret", proof64, sig64);
        plen = unb64(proof64, proof);
        proof[plen / 2] ^= 0x10;
        b64(proof, plen, proof64);
        snprintf(final, sizeof final, "%s,p=%s", without, proof64);
        hand_final_bytes(&h, final, strlen(final));
        assert_hand_failed(&h, "authentication failed for user alice");
        hand_end(&h);
    }
}

/* Unknown users get a server-first-message like anyone's and fail only at
 * the proof, with the message a wrong password gets. */
static void test_scram_unknown_user_fails_only_at_the_proof(void **state)
{
    /* bob exists in realm "other" only; '@' and blanks never name a user. */
    static const char *const names[] = {"mallory", "bob", "alice@kafka", " alice"};
    static const char *const passwords[] = {"guess-secret", "bob-secret", "alice-secret",
                                            "alice-secret"};

    (void)state;
    for (size_t m = 0; m < 2; m++) {
        hand known;
        hand_first_str(&known, scram_mechs[m], "n,,n=alice,r=" CNONCE);
        assert_int_equal(known.status, KB_SASL_CONTINUE);
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            char first[SCRAM_MAX], without[2 * SCRAM_MAX], want[256];
            hand h;
            snprintf(first, sizeof first, "n,,n=%s,r=" CNONCE, names[i]);
            hand_first_str(&h, scram_mechs[m], first);
            assert_int_equal(h.status, KB_SASL_CONTINUE);
            assert_int_equal(strlen(h.nonce), strlen(known.nonce));
            assert_int_equal(strlen(h.salt64), strlen(known.salt64));
            assert_int_equal(h.iterations, known.iterations);
            snprintf(without, sizeof without, "c=biws,r=%s", h.nonce);
            hand_final(&h, without, passwords[i]);
            snprintf(want, sizeof want, "authentication failed for user %s", names[i]);
            assert_hand_failed(&h, want);
            assert_string_equal(h.err, want);
            assert_contains(kb_sasl_detail(h.s), "no such user");
            hand_end(&h);
        }
        hand_end(&known);
    }
}

/* One exchange of user with password from client-first to the outcome;
 * *salt64 gets the salt the server offered. */
static void scram_login(const char *user, const char *password, bool want_ok, char *salt64,
                        size_t salt_size)
{
    char first[SCRAM_MAX], without[2 * SCRAM_MAX], want[256];
    hand h;

    snprintf(first, sizeof first, "n,,n=%s,r=" CNONCE, user);
    hand_first_str(&h, "SCRAM-SHA-256", first);
    assert_int_equal(h.status, KB_SASL_CONTINUE);
    copy_text(salt64, salt_size, h.salt64, strlen(h.salt64));
    snprintf(without, sizeof without, "c=biws,r=%s", h.nonce);
    hand_final(&h, without, password);
    snprintf(want, sizeof want, "authentication failed for user %s", user);
    if (want_ok)
        assert_hand_done(&h, user);
    else
        assert_hand_failed(&h, want);
    hand_end(&h);
}

/* Like a Kafka broker's stored credential, a user's salt and keys stay
 * until the password changes; the server nonce is fresh every time. */
static void test_scram_salt_is_kept_until_the_password_changes(void **state)
{
    char s1[SCRAM_MAX], s2[SCRAM_MAX], s3[SCRAM_MAX], m1[SCRAM_MAX], m2[SCRAM_MAX];
    hand a, b;

    (void)state;
    assert_int_equal(add_user(find_saslpasswd2(), REALM, "carol", "carol-one"), 0);
    scram_login("carol", "carol-one", true, s1, sizeof s1);
    scram_login("carol", "carol-one", true, s2, sizeof s2);
    assert_string_equal(s1, s2);

    /* Rotation: the next login derives from the new password, the old one fails. */
    assert_int_equal(add_user(find_saslpasswd2(), REALM, "carol", "carol-two"), 0);
    scram_login("carol", "carol-one", false, s2, sizeof s2);
    assert_string_not_equal(s1, s2);
    scram_login("carol", "carol-two", true, s3, sizeof s3);
    assert_string_equal(s2, s3);

    /* A name that does not exist keeps its salt too, so the salt tells nothing. */
    scram_login("mallory", "guess", false, m1, sizeof m1);
    scram_login("mallory", "guess", false, m2, sizeof m2);
    assert_string_equal(m1, m2);
    assert_string_not_equal(m1, s3);

    hand_first_str(&a, "SCRAM-SHA-256", "n,,n=carol,r=" CNONCE);
    hand_first_str(&b, "SCRAM-SHA-256", "n,,n=carol,r=" CNONCE);
    assert_string_not_equal(a.nonce, b.nonce);
    hand_end(&a);
    hand_end(&b);
}

/* Brokers sharing sasl.scram.salt.secret offer a user the same salt, as
 * Kafka brokers serve one cluster-wide credential; each new cache below
 * stands for another broker process. */
static void test_scram_salt_secret_gives_every_broker_the_same_salt(void **state)
{
    char a1[SCRAM_MAX], a2[SCRAM_MAX], other[SCRAM_MAX], none1[SCRAM_MAX], none2[SCRAM_MAX];
    char m1[SCRAM_MAX], m2[SCRAM_MAX];

    (void)state;
    assert_int_equal(add_user(find_saslpasswd2(), REALM, "dave", "dave-pw"), 0);
    assert_int_equal(kb_sasl_server_set_salt_secret(fx.srv, "cluster-one"), 0);
    scram_login("dave", "dave-pw", true, a1, sizeof a1);
    scram_login("mallory", "guess", false, m1, sizeof m1);
    assert_int_equal(kb_sasl_server_set_salt_secret(fx.srv, "cluster-one"), 0);
    scram_login("dave", "dave-pw", true, a2, sizeof a2);
    scram_login("mallory", "guess", false, m2, sizeof m2);
    assert_string_equal(a1, a2);
    assert_string_equal(m1, m2);
    assert_int_equal(kb_sasl_server_set_salt_secret(fx.srv, "cluster-two"), 0);
    scram_login("dave", "dave-pw", true, other, sizeof other);
    assert_string_not_equal(a1, other);
    /* Without a secret each process has its own salts. */
    assert_int_equal(kb_sasl_server_set_salt_secret(fx.srv, NULL), 0);
    scram_login("dave", "dave-pw", true, none1, sizeof none1);
    assert_int_equal(kb_sasl_server_set_salt_secret(fx.srv, NULL), 0);
    scram_login("dave", "dave-pw", true, none2, sizeof none2);
    assert_string_not_equal(none1, none2);
    assert_string_not_equal(none1, a1);
}

/* Without channel binding c= is the gs2 header the client sent, base64. */
static void test_scram_channel_binding_must_echo_the_gs2_header(void **state)
{
    static const struct {
        const char *gs2;
        const char *echoed;
    } cases[] = {
        {"n,,", "n,,"},  {"y,,", "y,,"},   {"n,a=alice,", "n,a=alice,"},
        {"n,,", "y,,"},  {"y,,", "n,,"},   {"n,a=alice,", "n,,"},
        {"n,,", "n,"},   {"n,,", ""},
    };
    hand h;

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char first[SCRAM_MAX], without[2 * SCRAM_MAX], c64[64];
        hand_first(&h, "SCRAM-SHA-512", first,
                   (size_t)snprintf(first, sizeof first, "%sn=alice,r=" CNONCE, cases[i].gs2));
        assert_int_equal(h.status, KB_SASL_CONTINUE);
        b64(cases[i].echoed, strlen(cases[i].echoed), c64);
        snprintf(without, sizeof without, "c=%s,r=%s", c64, h.nonce);
        hand_final(&h, without, "alice-secret");
        if (strcmp(cases[i].gs2, cases[i].echoed) == 0) {
            assert_hand_done(&h, "alice");
        } else {
            assert_hand_failed(&h, "invalid SASL/SCRAM-SHA-512 client-final-message: channel "
                                   "binding c= does not match the client-first gs2 header");
        }
        hand_end(&h);
    }
    hand_first_str(&h, "SCRAM-SHA-512", "p=tls-unique,,n=alice,r=" CNONCE);
    assert_hand_failed(&h, "invalid SASL/SCRAM-SHA-512 client-first-message: channel binding "
                           "(p=) is not supported");
    hand_end(&h);
}

#define CF "invalid SASL/SCRAM-SHA-256 client-first-message: "

static void test_scram_malformed_client_first_is_refused(void **state)
{
    static const struct {
        const char *msg;
        size_t len;
        const char *want;
    } cases[] = {
        {TOK("n,,r=" CNONCE), CF "expected n= (user name)"},
        {TOK("n,,n=alice"), CF "expected r= (client nonce) after n="},
        {TOK("n,,r=" CNONCE ",n=alice"), CF "expected n= (user name)"},
        {TOK("n,,n=alice,r="), CF "client nonce r= must be printable"},
        {TOK("n,,n=alice,r=a b"), CF "client nonce r= must be printable"},
        {TOK("n,,n=alice,r=ab\x7f"), CF "client nonce r= must be printable"},
        {TOK("n,,n=alice,r=" CNONCE ",x=1"), CF "SCRAM extensions are not supported"},
        {TOK("n,,n=alice,r=" CNONCE ",tokenauth=true"), CF "SCRAM extensions are not supported"},
        {TOK("n,,m=x,n=alice,r=" CNONCE), CF "mandatory extension m= is not supported"},
        {TOK("x,,n=alice,r=" CNONCE), CF "gs2 header must start with n or y"},
        {TOK(",,n=alice,r=" CNONCE), CF "missing gs2 header"},
        {TOK("n,n=alice,r=" CNONCE), CF "expected a= (authorization id) or nothing"},
        {TOK("n,"), CF "incomplete gs2 header"},
        {TOK("n"), CF "incomplete gs2 header"},
        {TOK("n,a=,n=alice,r=" CNONCE), CF "invalid authorization id a="},
        {TOK("n,a=al=ice,n=alice,r=" CNONCE), CF "invalid authorization id a="},
        {TOK("n,,n=,r=" CNONCE), CF "invalid user name n="},
        {TOK("n,,n=a=2cb,r=" CNONCE), CF "invalid user name n="}, /* =2C is upper case */
        {TOK("n,,n=a=b,r=" CNONCE), CF "invalid user name n="},
        {TOK("n,,n=alice=,r=" CNONCE), CF "invalid user name n="},
        {TOK("n,,n=alice=3,r=" CNONCE), CF "invalid user name n="},
        {TOK("n,,n=al\0ice,r=" CNONCE), CF "NUL byte"},
        {TOK("n,a=a=3Db=2Cc,n=alice,r=" CNONCE),
         "authentication failed for user alice: the authorization id must be empty or equal to "
         "the user name"},
        {"", 0, "empty SASL/SCRAM-SHA-256 token from the client"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hand h;
        hand_first(&h, "SCRAM-SHA-256", cases[i].msg, cases[i].len);
        assert_hand_failed(&h, cases[i].want);
        hand_end(&h);
    }
}

/* Expands a client-final template for h: {N} is the server nonce, {P} the
 * right proof over what precedes ",p=", {PS} the same with stray bits in
 * its last base64 character, {Z16} and {Z32} base64 of that many zero
 * bytes. */
static void expand_final(const hand *h, const char *tmpl, char *out, size_t size)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char zeros[32] = {0};
    size_t n = 0;

    while (*tmpl && n + 1 < size) {
        char piece[SCRAM_MAX], sig64[128];
        size_t len;
        if (strncmp(tmpl, "{N}", 3) == 0) {
            snprintf(piece, sizeof piece, "%s", h->nonce);
            tmpl += 3;
        } else if (strncmp(tmpl, "{P}", 3) == 0 || strncmp(tmpl, "{PS}", 4) == 0) {
            bool stray = tmpl[2] == 'S';
            char without[2 * SCRAM_MAX];
            assert_true(n >= 3 && strncmp(out + n - 3, ",p=", 3) == 0);
            snprintf(without, sizeof without, "%.*s", (int)(n - 3), out);
            hand_proof(h, without, "alice-secret", piece, sig64);
            if (stray) { /* "xy=" or "x==": the bits after the data must be 0 */
                char *last = strchr(piece, '=') - 1;
                *last = alphabet[(strchr(alphabet, *last) - alphabet) | 1];
            }
            tmpl += stray ? 4 : 3;
        } else if (strncmp(tmpl, "{Z16}", 5) == 0 || strncmp(tmpl, "{Z32}", 5) == 0) {
            b64(zeros, tmpl[2] == '1' ? 16 : 32, piece);
            tmpl += 5;
        } else {
            piece[0] = *tmpl++;
            piece[1] = '\0';
        }
        len = strlen(piece);
        assert_true(n + len < size);
        memcpy(out + n, piece, len + 1);
        n += len;
    }
}

#define CL "invalid SASL/%s client-final-message: "

static void test_scram_malformed_client_final_is_refused(void **state)
{
    static const struct {
        const char *tmpl;
        const char *want; /* after CL */
    } cases[] = {
        {"c=biws,r={N},p={P}", NULL}, /* the template itself is right */
        {"r={N},p={P}", "expected c= (channel binding) first"},
        {"C=biws,r={N},p={P}", "expected c= (channel binding) first"},
        {"c=biws,p={P}", "expected r= (nonce) after c="},
        {"c=biws,r={N}", "missing p= (client proof)"},
        {"c=biws,r={N},", "expected p= (client proof) after r="},
        {"c=biws,r={N},x=1,p={P}", "SCRAM extensions are not supported"},
        {"c=biws,r={N},p={P},x=1", "p= (client proof) must come last"},
        {"c=biws,r=,p={P}", "nonce r= must be printable"},
        {"c=biws,r={N} ,p={P}", "nonce r= must be printable"},
        {"c=biw,r={N},p={P}", "channel binding c= is not valid base64"},
        {"c=biws=,r={N},p={P}", "channel binding c= is not valid base64"},
        {"c=bi ws,r={N},p={P}", "channel binding c= is not valid base64"},
        {"c=,r={N},p={P}", "channel binding c= does not match the client-first gs2 header"},
        {"c=biws,r={N},p=!!!!", "client proof p= is not valid base64"},
        {"c=biws,r={N},p=abc", "client proof p= is not valid base64"},
        {"c=biws,r={N},p=AA=A", "client proof p= is not valid base64"},
        {"c=biws,r={N},p={PS}", "client proof p= is not valid base64"},
        {"c=biws,r={N},p=", "client proof p= has 0 bytes"},
        {"c=biws,r={N},p={Z16}", "client proof p= has 16 bytes"},
        {"c=biws,r={N},p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
         "AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
         "client proof p= has more than"},
    };

    (void)state;
    for (size_t m = 0; m < 2; m++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char final[3 * SCRAM_MAX], want[256];
            hand h;
            hand_first_str(&h, scram_mechs[m], "n,,n=alice,r=" CNONCE);
            assert_int_equal(h.status, KB_SASL_CONTINUE);
            expand_final(&h, cases[i].tmpl, final, sizeof final);
            hand_final_bytes(&h, final, strlen(final));
            if (!cases[i].want) {
                assert_int_equal(h.status, KB_SASL_DONE);
            } else {
                snprintf(want, sizeof want, CL "%s", scram_mechs[m], cases[i].want);
                assert_hand_failed(&h, want);
            }
            hand_end(&h);
        }
    }
}

/* Proof sizes follow the hash; NUL bytes and empty tokens are refused. */
static void test_scram_final_proof_size_and_bytes(void **state)
{
    static const char nul_final[] = "c=biws\0,r=x,p=AAAA";
    char final[3 * SCRAM_MAX];
    hand h;

    (void)state;
    hand_first_str(&h, "SCRAM-SHA-512", "n,,n=alice,r=" CNONCE);
    expand_final(&h, "c=biws,r={N},p={Z32}", final, sizeof final);
    hand_final_bytes(&h, final, strlen(final));
    assert_hand_failed(&h, "invalid SASL/SCRAM-SHA-512 client-final-message: client proof p= "
                           "has 32 bytes, not 64");
    hand_end(&h);
    hand_first_str(&h, "SCRAM-SHA-256", "n,,n=alice,r=" CNONCE);
    hand_final_bytes(&h, nul_final, sizeof nul_final - 1);
    assert_hand_failed(&h, "invalid SASL/SCRAM-SHA-256 client-final-message: NUL byte");
    hand_end(&h);
    hand_first_str(&h, "SCRAM-SHA-256", "n,,n=alice,r=" CNONCE);
    hand_final_bytes(&h, "", 0);
    assert_hand_failed(&h, "empty SASL/SCRAM-SHA-256 token from the client");
    hand_end(&h);
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

/* Plugins load in sasl_server_init, which runs again only once every
 * server is gone: frees the shared server and points libsasl2 at a folder
 * holding only the named plugins. restore_plugins brings the shared server
 * back, before the caller asserts anything. */
static void use_plugins(char *home, const char *name, const char *const *plugins)
{
    char dir[PATH_MAX];

    kb_sasl_server_free(fx.srv);
    fx.srv = NULL;
    plugin_folder(home, name, plugins, dir, sizeof dir);
    assert_int_equal(sasl_set_path(SASL_PATH_TYPE_PLUGIN, dir), SASL_OK);
}

static void restore_plugins(char *home)
{
    char err[512] = "";

    assert_int_equal(sasl_set_path(SASL_PATH_TYPE_PLUGIN, home), SASL_OK);
    fx.srv = kb_sasl_server_new(fx.db, REALM, all_mechs, 3, err, sizeof err);
    if (!fx.srv)
        fail_msg("%s", err);
}

static void test_missing_plugins_are_named_with_their_package(void **state)
{
    static const char *const none[] = {NULL};
    static const char *const no_db[] = {"libplain.so", "libscram.so", NULL};
    static const struct {
        const char *name;
        const char *const *plugins;
        const char *want;
    } cases[] = {
        {"plugins-none", none,
         "SASL mechanism PLAIN is not available in libsasl2: install its plugin "
         "(Debian package libsasl2-modules); libsasl2 offers: none"},
        {"plugins-no-db", no_db,
         "libsasl2's sasldb plugin is not available: install the Debian package "
         "libsasl2-modules-db"},
    };
    char home[PATH_MAX], err[2][512];
    bool refused[2];

    (void)state;
    plugin_home(home, sizeof home);
    for (size_t i = 0; i < 2; i++) {
        kb_sasl_server *srv;
        use_plugins(home, cases[i].name, cases[i].plugins);
        srv = kb_sasl_server_new(fx.db, REALM, all_mechs, 3, err[i], sizeof err[i]);
        refused[i] = srv == NULL;
        kb_sasl_server_free(srv);
    }
    restore_plugins(home);
    for (size_t i = 0; i < 2; i++) {
        assert_true(refused[i]);
        assert_string_equal(err[i], cases[i].want);
    }
}

/* SCRAM is the broker's own: libsasl2 only reads the sasldb for it, so its
 * SCRAM plugin (libscram.so) is not needed, and PLAIN's only for PLAIN.
 * The client side keeps the plugins it loaded at sasl_client_init. */
static void test_scram_needs_only_the_sasldb_plugin(void **state)
{
    static const char *const db_only[] = {"libsasldb.so", NULL};
    static const char *const no_scram[] = {"libplain.so", "libsasldb.so", NULL};
    char *scram_only[] = {"SCRAM-SHA-256", "SCRAM-SHA-512"};
    creds c = {"jos\xc3\xa9", NULL, "contrase\xc3\xb1" "a"};
    char home[PATH_MAX], err[2][512] = {"", ""};
    outcome r[4];
    bool started[2];
    kb_sasl_server *srv;

    (void)state;
    plugin_home(home, sizeof home);
    use_plugins(home, "plugins-db-only", db_only);
    srv = kb_sasl_server_new(fx.db, REALM, scram_only, 2, err[0], sizeof err[0]);
    started[0] = srv != NULL;
    if (srv) {
        authenticate(srv, "SCRAM-SHA-256", &c, &r[0]);
        authenticate(srv, "SCRAM-SHA-512", &c, &r[1]);
    }
    kb_sasl_server_free(srv);
    use_plugins(home, "plugins-no-scram", no_scram);
    srv = kb_sasl_server_new(fx.db, REALM, all_mechs, 3, err[1], sizeof err[1]);
    started[1] = srv != NULL;
    if (srv) {
        authenticate(srv, "SCRAM-SHA-512", &c, &r[2]);
        authenticate(srv, "PLAIN", &c, &r[3]);
    }
    kb_sasl_server_free(srv);
    restore_plugins(home);
    for (size_t i = 0; i < 2; i++)
        if (!started[i])
            fail_msg("%s", err[i]);
    for (size_t i = 0; i < 4; i++)
        assert_authenticated(&r[i], c.authname);
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
        cmocka_unit_test(test_hand_built_scram_client_matches_rfc_7677),
        cmocka_unit_test(test_scram_accepts_librdkafka_doubled_client_nonce),
        cmocka_unit_test(test_scram_final_nonce_must_end_with_the_server_nonce),
        cmocka_unit_test(test_scram_wrong_proof_fails),
        cmocka_unit_test(test_scram_unknown_user_fails_only_at_the_proof),
        cmocka_unit_test(test_scram_salt_is_kept_until_the_password_changes),
        cmocka_unit_test(test_scram_salt_secret_gives_every_broker_the_same_salt),
        cmocka_unit_test(test_scram_channel_binding_must_echo_the_gs2_header),
        cmocka_unit_test(test_scram_malformed_client_first_is_refused),
        cmocka_unit_test(test_scram_malformed_client_final_is_refused),
        cmocka_unit_test(test_scram_final_proof_size_and_bytes),
        cmocka_unit_test(test_unknown_mechanism_is_refused),
        cmocka_unit_test(test_disabled_mechanism_is_refused),
        cmocka_unit_test(test_mechanisms_are_listed_in_configured_order),
        cmocka_unit_test(test_unsupported_mechanism_in_configuration_is_refused),
        cmocka_unit_test(test_missing_sasldb_is_refused_naming_the_path),
        cmocka_unit_test(test_server_works_again_after_the_last_one_is_freed),
        cmocka_unit_test(test_missing_plugins_are_named_with_their_package),
        cmocka_unit_test(test_scram_needs_only_the_sasldb_plugin),
        cmocka_unit_test(test_sessions_run_concurrently_on_threads),
    };
    return cmocka_run_group_tests_name("host_sasl", tests, group_setup, group_teardown);
}
