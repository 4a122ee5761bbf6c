/* The broker's TLS module against real OpenSSL clients written in this
 * file, over socketpairs and loopback TCP, with certificates made by
 * scripts/make-test-certs in a temporary directory under BUILD_DIR. */
#include "kb_config.h"
#include "kb_tls.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define CA_ISSUER "CN=kafka-connections test CA,O=Example"
#define ALICE "CN=alice,OU=Payments,O=Example Corp,C=US"
#define IO_DEADLINE_S 5.0

static char certs_dir[PATH_MAX];

/* ---- certificates ----------------------------------------------------------- */

/* A path in the certificate directory; a few may be alive at once. */
static const char *cert(const char *name)
{
    static char paths[4][PATH_MAX];
    static unsigned next;
    char *p = paths[next++ % 4];
    int n = snprintf(p, PATH_MAX, "%s/%s", certs_dir, name);
    if (n < 0 || n >= PATH_MAX)
        fail_msg("path too long: %s/%s", certs_dir, name);
    return p;
}

static int run_make_test_certs(const char *source_root, const char *dir)
{
    char script[PATH_MAX];
    int n = snprintf(script, sizeof script, "%s/scripts/make-test-certs", source_root);
    if (n < 0 || n >= (int)sizeof script)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execl(script, script, dir, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int group_setup(void **state)
{
    (void)state;
    /* A peer that closes first must give an error, not kill the test. */
    signal(SIGPIPE, SIG_IGN);
    const char *build = getenv("BUILD_DIR"), *source = getenv("SOURCE_ROOT");
    if (build == NULL || source == NULL) {
        fprintf(stderr, "BUILD_DIR and SOURCE_ROOT must be set (meson test sets them)\n");
        return -1;
    }
    int n = snprintf(certs_dir, sizeof certs_dir, "%s/tls-certs-XXXXXX", build);
    if (n < 0 || n >= (int)sizeof certs_dir || mkdtemp(certs_dir) == NULL) {
        perror(certs_dir);
        return -1;
    }
    if (run_make_test_certs(source, certs_dir) != 0) {
        fprintf(stderr, "scripts/make-test-certs %s failed\n", certs_dir);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (getenv("KEEP_TEST_CERTS") != NULL) {
        fprintf(stderr, "certificates kept in %s\n", certs_dir);
        return 0;
    }
    return nftw(certs_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void concat_files(const char *out, const char *a, const char *b)
{
    FILE *o = fopen(out, "w");
    assert_non_null(o);
    const char *in[] = {a, b};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(in[i], "r");
        assert_non_null(f);
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            assert_int_equal(fwrite(buf, 1, n, o), n);
        fclose(f);
    }
    assert_int_equal(fclose(o), 0);
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle) == NULL)
        fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

/* ---- both ends of a connection ------------------------------------------- */

typedef struct pair {
    int sfd, cfd;
    kb_tls *server;
    SSL *client;
    char err[512];
} pair;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static kb_tls_ctx *server_ctx(int client_auth)
{
    char err[512] = "";
    kb_tls_ctx *c = kb_tls_ctx_new(cert("broker.pem"), NULL, cert("ca.pem"), client_auth, err, sizeof err);
    if (c == NULL)
        fail_msg("kb_tls_ctx_new: %s", err);
    return c;
}

/* A client that verifies the broker as a Kafka client does (CA and host
 * name); keystore (key + chain) may be NULL; max_version 0 = no cap. */
static SSL_CTX *client_ctx(const char *keystore, int max_version)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    assert_non_null(c);
    assert_int_equal(SSL_CTX_load_verify_file(c, cert("ca.pem")), 1);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (max_version != 0)
        assert_int_equal(SSL_CTX_set_max_proto_version(c, max_version), 1);
    if (keystore != NULL) {
        assert_int_equal(SSL_CTX_use_certificate_chain_file(c, keystore), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey_file(c, keystore, SSL_FILETYPE_PEM), 1);
    }
    return c;
}

static void socket_pair(int fds[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
}

/* An accepted loopback TCP connection, as the broker gets them. */
static void tcp_pair(int fds[2])
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(l >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l, 1), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &alen), 0);
    fds[1] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(fds[1] >= 0);
    int r = connect(fds[1], (struct sockaddr *)&a, sizeof a);
    assert_true(r == 0 || errno == EINPROGRESS);
    fds[0] = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    assert_true(fds[0] >= 0);
    close(l);
}

static void pair_open(pair *p, kb_tls_ctx *sctx, SSL_CTX *cctx, bool tcp)
{
    memset(p, 0, sizeof *p);
    int fds[2];
    if (tcp)
        tcp_pair(fds);
    else
        socket_pair(fds);
    p->sfd = fds[0];
    p->cfd = fds[1];
    p->server = kb_tls_new(sctx, p->sfd, p->err, sizeof p->err);
    if (p->server == NULL)
        fail_msg("kb_tls_new: %s", p->err);
    p->client = SSL_new(cctx);
    assert_non_null(p->client);
    assert_int_equal(SSL_set_fd(p->client, p->cfd), 1);
    SSL_set_connect_state(p->client);
    assert_int_equal(SSL_set_tlsext_host_name(p->client, "localhost"), 1);
    assert_int_equal(SSL_set1_host(p->client, "localhost"), 1);
}

static void pair_close(pair *p)
{
    kb_tls_free(p->server);
    SSL_free(p->client);
    if (p->sfd >= 0)
        close(p->sfd);
    close(p->cfd);
}

static void wait_readable(const pair *p, int timeout_ms)
{
    struct pollfd fds[2] = {{.fd = p->sfd, .events = POLLIN}, {.fd = p->cfd, .events = POLLIN}};
    poll(fds, p->sfd >= 0 ? 2 : 1, timeout_ms);
}

/* The client's side as kb_tls_status values, for the shared loops below. */
static ssize_t client_status(SSL *s, int ret)
{
    switch (SSL_get_error(s, ret)) {
    case SSL_ERROR_WANT_READ: return KB_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return KB_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN: return 0;
    default: return KB_TLS_ERROR;
    }
}

static ssize_t client_read(pair *p, void *buf, size_t len)
{
    ERR_clear_error();
    size_t n;
    int r = SSL_read_ex(p->client, buf, len, &n);
    return r == 1 ? (ssize_t)n : client_status(p->client, r);
}

static ssize_t client_write(pair *p, const void *buf, size_t len)
{
    ERR_clear_error();
    size_t n;
    int r = SSL_write_ex(p->client, buf, len, &n);
    return r == 1 ? (ssize_t)n : client_status(p->client, r);
}

static ssize_t server_read(pair *p, void *buf, size_t len)
{
    return kb_tls_read(p->server, buf, len, p->err, sizeof p->err);
}

static ssize_t server_write(pair *p, const void *buf, size_t len)
{
    return kb_tls_write(p->server, buf, len, p->err, sizeof p->err);
}

/* Runs both handshakes until both are decided (a TLS 1.3 client finishes
 * before the server has judged its certificate) or the deadline passes.
 * Returns the server's result; p->err says why it failed. */
static int handshake(pair *p)
{
    int s = KB_TLS_WANT_READ, c = KB_TLS_WANT_READ;
    double deadline = now_s() + IO_DEADLINE_S;
    while (now_s() < deadline) {
        if (s == KB_TLS_WANT_READ || s == KB_TLS_WANT_WRITE)
            s = kb_tls_handshake(p->server, p->err, sizeof p->err);
        if (c == KB_TLS_WANT_READ || c == KB_TLS_WANT_WRITE) {
            ERR_clear_error();
            int r = SSL_do_handshake(p->client);
            c = r == 1 ? KB_TLS_OK : (int)client_status(p->client, r);
        }
        bool s_done = s == KB_TLS_OK || s == KB_TLS_ERROR, c_done = c == KB_TLS_OK || c == KB_TLS_ERROR;
        if (s_done && c_done)
            break;
        wait_readable(p, 10);
    }
    return s;
}

static void handshake_ok(pair *p)
{
    int r = handshake(p);
    if (r != KB_TLS_OK)
        fail_msg("server handshake: %d %s", r, p->err);
}

typedef ssize_t (*io_fn)(pair *p, void *buf, size_t len);
typedef ssize_t (*io_const_fn)(pair *p, const void *buf, size_t len);

/* Sends len bytes one way with both ends non-blocking: the writer writes
 * until the socket is full and, after every WANT_*, retries from a fresh
 * copy at another address (freeing the old one), as a broker compacting
 * its send queue does; the reader takes whatever arrived. Returns how many
 * times the writer was told to wait. */
static int transfer(pair *p, io_const_fn wr, io_fn rd, const unsigned char *data, size_t len)
{
    unsigned char *rx = malloc(len), *moved = NULL;
    assert_non_null(rx);
    const unsigned char *from = data;
    size_t sent = 0, got = 0;
    int waits = 0;
    double deadline = now_s() + IO_DEADLINE_S;
    while (got < len && now_s() < deadline) {
        ssize_t n;
        while (sent < len && (n = wr(p, from, len - sent)) > 0) {
            sent += (size_t)n;
            from = data + sent;
        }
        if (sent < len) {
            if (n != KB_TLS_WANT_WRITE && n != KB_TLS_WANT_READ)
                fail_msg("write: %zd %s", n, p->err);
            waits++;
            unsigned char *copy = malloc(len - sent);
            assert_non_null(copy);
            memcpy(copy, data + sent, len - sent);
            free(moved);
            from = moved = copy;
        }
        while (got < len && (n = rd(p, rx + got, len - got)) > 0)
            got += (size_t)n;
        if (got < len && n != KB_TLS_WANT_READ)
            fail_msg("read: %zd %s", n, p->err);
        if (got < len)
            wait_readable(p, 10);
    }
    assert_int_equal(got, len);
    assert_memory_equal(rx, data, len);
    free(rx);
    free(moved);
    return waits;
}

/* Reads exactly len bytes on the server within the deadline. */
static void server_read_exactly(pair *p, void *buf, size_t len)
{
    size_t got = 0;
    double deadline = now_s() + IO_DEADLINE_S;
    while (got < len && now_s() < deadline) {
        ssize_t n = server_read(p, (char *)buf + got, len - got);
        if (n > 0)
            got += (size_t)n;
        else if (n == KB_TLS_WANT_READ)
            wait_readable(p, 10);
        else
            fail_msg("server read: %zd %s", n, p->err);
    }
    assert_int_equal(got, len);
}

/* The server's next read result once something arrives. */
static ssize_t server_read_result(pair *p)
{
    char b[64];
    ssize_t n = KB_TLS_WANT_READ;
    double deadline = now_s() + IO_DEADLINE_S;
    while (n == KB_TLS_WANT_READ && now_s() < deadline) {
        n = server_read(p, b, sizeof b);
        if (n == KB_TLS_WANT_READ)
            wait_readable(p, 10);
    }
    return n;
}

/* ---- data ---------------------------------------------------------------- */

static void handshake_and_echo_over_loopback_tcp(void **state)
{
    (void)state;
    kb_tls_ctx *sctx = server_ctx(KB_CLIENT_AUTH_NONE);
    SSL_CTX *cctx = client_ctx(NULL, 0);
    pair p;
    pair_open(&p, sctx, cctx, true);
    handshake_ok(&p);
    assert_string_equal(kb_tls_protocol(p.server), "TLSv1.3");

    const char ping[] = "ping from the client";
    assert_int_equal(client_write(&p, ping, sizeof ping), sizeof ping);
    char got[sizeof ping];
    server_read_exactly(&p, got, sizeof got);
    assert_memory_equal(got, ping, sizeof ping);

    /* Echo it back and read it on the client. */
    assert_int_equal(server_write(&p, got, sizeof got), sizeof got);
    char back[sizeof ping];
    size_t n = 0;
    double deadline = now_s() + IO_DEADLINE_S;
    while (n < sizeof back && now_s() < deadline) {
        ssize_t r = client_read(&p, back + n, sizeof back - n);
        if (r > 0)
            n += (size_t)r;
        else
            wait_readable(&p, 10);
    }
    assert_int_equal(n, sizeof back);
    assert_memory_equal(back, ping, sizeof ping);

    pair_close(&p);
    SSL_CTX_free(cctx);
    kb_tls_ctx_free(sctx);
}

static void large_transfers_both_ways_with_partial_and_moved_writes(void **state)
{
    (void)state;
    size_t len = 2u << 20; /* far more than a socketpair buffers */
    unsigned char *data = malloc(len);
    assert_non_null(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)(i * 2654435761u >> 13);
    kb_tls_ctx *sctx = server_ctx(KB_CLIENT_AUTH_NONE);
    SSL_CTX *cctx = client_ctx(NULL, 0);
    pair p;
    pair_open(&p, sctx, cctx, false);
    handshake_ok(&p);

    int server_waits = transfer(&p, server_write, client_read, data, len);
    assert_true(server_waits > 0); /* the moved-buffer retry did happen */
    transfer(&p, client_write, server_read, data, len);

    pair_close(&p);
    SSL_CTX_free(cctx);
    kb_tls_ctx_free(sctx);
    free(data);
}

static void pending_counts_decrypted_bytes_not_yet_read(void **state)
{
    (void)state;
    kb_tls_ctx *sctx = server_ctx(KB_CLIENT_AUTH_NONE);
    SSL_CTX *cctx = client_ctx(NULL, 0);
    pair p;
    pair_open(&p, sctx, cctx, false);
    handshake_ok(&p);
    char msg[100];
    memset(msg, 'k', sizeof msg);
    assert_int_equal(client_write(&p, msg, sizeof msg), sizeof msg); /* one record */
    char b[10];
    server_read_exactly(&p, b, sizeof b);
    assert_int_equal(kb_tls_pending(p.server), sizeof msg - sizeof b);
    pair_close(&p);
    SSL_CTX_free(cctx);
    kb_tls_ctx_free(sctx);
}

static void read_returns_0_on_close_notify(void **state)
{
    (void)state;
    kb_tls_ctx *sctx = server_ctx(KB_CLIENT_AUTH_NONE);
    SSL_CTX *cctx = client_ctx(NULL, 0);
    pair p;
    pair_open(&p, sctx, cctx, false);
    handshake_ok(&p);
    ERR_clear_error();
    assert_int_equal(SSL_shutdown(p.client), 0); /* close_notify sent */
    assert_int_equal(server_read_result(&p), 0);
    pair_close(&p);
    SSL_CTX_free(cctx);
    kb_tls_ctx_free(sctx);
}

static void read_returns_0_on_eof_without_close_notify(void **state)
{
    (void)state;
    kb_tls_ctx *sctx = server_ctx(KB_CLIENT_AUTH_NONE);
    SSL_CTX *cctx = client_ctx(NULL, 0);
    pair p;
    pair_open(&p, sctx, cctx, false);
    handshake_ok(&p);
    assert_int_equal(shutdown(p.cfd, SHUT_WR), 0);
    assert_int_equal(server_read_result(&p), 0);
    pair_close(&p);
    SSL_CTX_free(cctx);
    kb_tls_ctx_free(sctx);
}

static void shutdown_sends_close_notify_to_the_client(void **state)
{
    (void)state;
    kb_tls_ctx *sctx = server_ctx(KB_CLIENT_AUTH_NONE);
    SSL_CTX *cctx = client_ctx(NULL, 0);
    pair p;
    pair_open(&p, sctx, cctx, false);
    handshake_ok(&p);
    kb_tls_shutdown(p.server);
    char b[16];
    ssize_t r = KB_TLS_WANT_READ;
    double deadline = now_s() + IO_DEADLINE_S;
    while (r == KB_TLS_WANT_READ && now_s() < deadline) {
        r = client_read(&p, b, sizeof b);
        if (r == KB_TLS_WANT_READ)
            wait_readable(&p, 10);
    }
    assert_int_equal(r, 0); /* SSL_ERROR_ZERO_RETURN: a clean close_notify */
    pair_close(&p);
    SSL_CTX_free(cctx);
    kb_tls_ctx_free(sctx);
}

/* ---- client authentication ------------------------------------------------- */

typedef struct peer {
    char *subject, *issuer, *serial;
} peer;

static void peer_free(peer *pe)
{
    free(pe->subject);
    free(pe->issuer);
    free(pe->serial);
}

/* One handshake with ssl.client.auth = client_auth and the client holding
 * keystore (or none). Returns the server's result, the peer's names and the
 * server's error message. */
static int try_client_auth(int client_auth, const char *keystore, peer *pe, char *err, size_t err_size)
{
    kb_tls_ctx *sctx = server_ctx(client_auth);
    SSL_CTX *cctx = client_ctx(keystore, 0);
    pair p;
    pair_open(&p, sctx, cctx, false);
    int r = handshake(&p);
    memset(pe, 0, sizeof *pe);
    if (r == KB_TLS_OK)
        assert_int_equal(kb_tls_peer(p.server, &pe->subject, &pe->issuer, &pe->serial), 0);
    snprintf(err, err_size, "%s", p.err);
    pair_close(&p);
    SSL_CTX_free(cctx);
    kb_tls_ctx_free(sctx);
    return r;
}

static void expect_accepted(int client_auth, const char *keystore, const char *subject)
{
    peer pe;
    char err[512];
    int r = try_client_auth(client_auth, keystore, &pe, err, sizeof err);
    if (r != KB_TLS_OK)
        fail_msg("refused: %s", err);
    if (subject == NULL) {
        assert_null(pe.subject);
        assert_null(pe.issuer);
        assert_null(pe.serial);
    } else {
        assert_non_null(pe.subject);
        assert_string_equal(pe.subject, subject);
    }
    peer_free(&pe);
}

static void expect_refused(int client_auth, const char *keystore, const char *reason)
{
    peer pe;
    char err[512];
    assert_int_equal(try_client_auth(client_auth, keystore, &pe, err, sizeof err), KB_TLS_ERROR);
    assert_contains(err, "TLS handshake failed");
    assert_contains(err, reason);
    peer_free(&pe);
}

static void client_auth_none_does_not_ask_for_a_certificate(void **state)
{
    (void)state;
    expect_accepted(KB_CLIENT_AUTH_NONE, cert("client-alice.pem"), NULL);
}

static void client_auth_requested_accepts_a_client_without_certificate(void **state)
{
    (void)state;
    expect_accepted(KB_CLIENT_AUTH_REQUESTED, NULL, NULL);
}

static void client_auth_requested_reads_a_trusted_certificate(void **state)
{
    (void)state;
    expect_accepted(KB_CLIENT_AUTH_REQUESTED, cert("client-alice.pem"), ALICE);
}

static void client_auth_requested_refuses_an_untrusted_certificate(void **state)
{
    (void)state;
    expect_refused(KB_CLIENT_AUTH_REQUESTED, cert("untrusted-client.pem"), "certificate verify failed");
}

static void client_auth_required_refuses_a_client_without_certificate(void **state)
{
    (void)state;
    expect_refused(KB_CLIENT_AUTH_REQUIRED, NULL, "peer did not return a certificate");
}

static void client_auth_required_accepts_a_trusted_certificate(void **state)
{
    (void)state;
    expect_accepted(KB_CLIENT_AUTH_REQUIRED, cert("client-alice.pem"), ALICE);
}

static void client_auth_required_refuses_an_untrusted_certificate(void **state)
{
    (void)state;
    expect_refused(KB_CLIENT_AUTH_REQUIRED, cert("untrusted-client.pem"),
                   "(client certificate: self-signed certificate in certificate chain)");
}

/* ---- peer names: as Java's X500Principal.getName() ------------------------- */

static void expect_peer(const char *keystore, const char *subject, const char *serial)
{
    peer pe;
    char err[512];
    if (try_client_auth(KB_CLIENT_AUTH_REQUIRED, keystore, &pe, err, sizeof err) != KB_TLS_OK)
        fail_msg("refused: %s", err);
    assert_string_equal(pe.subject, subject);
    assert_string_equal(pe.issuer, CA_ISSUER);
    assert_string_equal(pe.serial, serial);
    peer_free(&pe);
}

/* The expected strings are what OpenJDK 17 prints for the same
 * certificates (getSubjectX500Principal().getName() and
 * getSerialNumber().toString(16)). */
static void peer_names_of_a_plain_subject(void **state)
{
    (void)state;
    expect_peer(cert("client-alice.pem"), ALICE, "a1b2c3d");
}

static void peer_subject_escapes_a_comma(void **state)
{
    (void)state;
    expect_peer(cert("client-smith.pem"), "CN=Smith\\, John,O=Example", "8000000000000001");
}

static void peer_subject_keeps_utf8_characters(void **state)
{
    (void)state;
    expect_peer(cert("client-jose.pem"), "CN=Jos\xC3\xA9,O=Example", "1000");
}

static void peer_subject_follows_java_escaping_order_and_keywords(void **state)
{
    (void)state;
    expect_peer(cert("client-special.pem"),
                "CN=\\# a\\=b\\+c\\;\\<d\\> \\\"q\\\" \\\\ z\\ ,CN=ops+UID=42,"
                "1.2.840.113549.1.9.1=#160f6f7073406578616d706c652e636f6d,STREET=1 Main St,DC=example",
                "42");
}

/* Client certificates whose subjects the openssl CLI cannot write:
 * arbitrary ASN.1 string types and bytes, signed here by the test CA. */
typedef struct raw_ava {
    const char *oid; /* dotted */
    int type;        /* V_ASN1_* */
    const char *bytes;
    int len;         /* -1: strlen */
} raw_ava;

static X509 *mint_client_cert(EVP_PKEY *key, const raw_ava *avas, size_t n, long serial)
{
    FILE *f = fopen(cert("ca.pem"), "r");
    assert_non_null(f);
    X509 *ca = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    f = fopen(cert("ca.key"), "r");
    assert_non_null(f);
    EVP_PKEY *ca_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(ca);
    assert_non_null(ca_key);

    X509_NAME *name = X509_NAME_new();
    for (size_t i = 0; i < n; i++) {
        ASN1_OBJECT *obj = OBJ_txt2obj(avas[i].oid, 1);
        assert_non_null(obj);
        const char *b = avas[i].bytes;
        assert_int_equal(X509_NAME_add_entry_by_OBJ(name, obj, avas[i].type, (const unsigned char *)b,
                                                    avas[i].len < 0 ? (int)strlen(b) : avas[i].len, -1, 0),
                         1);
        ASN1_OBJECT_free(obj);
    }
    X509 *x = X509_new();
    assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
    assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(ca)), 1);
    assert_int_equal(X509_set_subject_name(x, name), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -60));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
    assert_int_equal(X509_set_pubkey(x, key), 1);
    assert_true(X509_sign(x, ca_key, EVP_sha256()) > 0);
    X509_NAME_free(name);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return x;
}

static void expect_minted_peer(const char *file, const raw_ava *avas, size_t n, long serial,
                               const char *subject, const char *serial_hex)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    assert_non_null(key);
    X509 *x = mint_client_cert(key, avas, n, serial);
    /* Kept beside the others, to compare with another implementation. */
    FILE *f = fopen(cert(file), "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_X509(f, x), 1);
    fclose(f);

    kb_tls_ctx *sctx = server_ctx(KB_CLIENT_AUTH_REQUIRED);
    SSL_CTX *cctx = client_ctx(NULL, 0);
    assert_int_equal(SSL_CTX_use_certificate(cctx, x), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(cctx, key), 1);
    pair p;
    pair_open(&p, sctx, cctx, false);
    handshake_ok(&p);
    peer pe;
    assert_int_equal(kb_tls_peer(p.server, &pe.subject, &pe.issuer, &pe.serial), 0);
    assert_string_equal(pe.subject, subject);
    assert_string_equal(pe.issuer, CA_ISSUER);
    assert_string_equal(pe.serial, serial_hex);
    peer_free(&pe);
    pair_close(&p);
    SSL_CTX_free(cctx);
    kb_tls_ctx_free(sctx);
    X509_free(x);
    EVP_PKEY_free(key);
}

#define CN "2.5.4.3"

/* Java decodes the bytes of every string type as UTF-8, so a BMPString
 * (UTF-16BE) prints its zero bytes as \00 and an unpaired byte as U+FFFD. */
static void peer_subject_decodes_bmpstring_bytes_as_java_does(void **state)
{
    (void)state;
    raw_ava a[] = {{CN, V_ASN1_BMPSTRING, "\0J\0o\0s\0\xE9", 8}};
    expect_minted_peer("minted-bmp.crt", a, 1, 7, "CN=\\00J\\00o\\00s\\00\xEF\xBF\xBD", "7");
}

static void peer_subject_replaces_malformed_utf8_as_java_does(void **state)
{
    (void)state;
    /* OpenSSL refuses a UTF8String that is not UTF-8, but not a T61String
     * holding any bytes: Latin-1; then an emoji, a UTF-8-encoded surrogate,
     * an overlong '/' and a sequence cut short at the end. */
    raw_ava a[] = {{CN, V_ASN1_T61STRING, "caf\xE9", -1},
                   {CN, V_ASN1_T61STRING, "\xF0\x9F\x98\x80|\xED\xA0\x80|\xC0\xAF|\xE2\x82", -1}};
    expect_minted_peer("minted-malformed.crt", a, 2, 8,
                       "CN=\xF0\x9F\x98\x80|\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD,"
                       "CN=caf\xEF\xBF\xBD",
                       "8");
}

static void peer_subject_escapes_nul_and_edge_whitespace_only(void **state)
{
    (void)state;
    raw_ava a[] = {{CN, V_ASN1_UTF8STRING, "a\0b", 3},
                   {CN, V_ASN1_UTF8STRING, "  in side \r", -1},
                   {CN, V_ASN1_UTF8STRING, "\x01tab\there", -1},
                   {CN, V_ASN1_UTF8STRING, "", 0}};
    expect_minted_peer("minted-whitespace.crt", a, 4, 9,
                       "CN=,CN=\x01tab\there,CN=\\ \\ in side\\ \\\r,CN=a\\00b", "9");
}

static void peer_subject_prints_other_types_and_attributes_as_der_hex(void **state)
{
    (void)state;
    raw_ava a[] = {{"2.5.4.8", V_ASN1_UTF8STRING, "Bavaria", -1},  /* ST */
                   {"2.5.4.7", V_ASN1_UTF8STRING, "Munich", -1},   /* L */
                   {"2.5.4.12", V_ASN1_UTF8STRING, "Eng", -1},     /* title */
                   {"2.5.4.5", V_ASN1_PRINTABLESTRING, "42", -1},  /* serialNumber */
                   {"1.2.3.4", V_ASN1_UTF8STRING, "x", -1},
                   {CN, V_ASN1_NUMERICSTRING, "123", -1}};
    expect_minted_peer("minted-hex.crt", a, 6, 10,
                       "CN=#1203313233,1.2.3.4=#0c0178,2.5.4.5=#13023432,2.5.4.12=#0c03456e67,"
                       "L=Munich,ST=Bavaria",
                       "a");
}

static void peer_serial_is_java_biginteger_hex(void **state)
{
    (void)state;
    raw_ava a[] = {{CN, V_ASN1_UTF8STRING, "zero", -1}};
    expect_minted_peer("minted-serial0.crt", a, 1, 0, "CN=zero", "0");
    expect_minted_peer("minted-serial-neg.crt", a, 1, -0x1F, "CN=zero", "-1f");
}

/* ---- protocol versions and garbage ------------------------------------------ */

static void protocol_is_the_highest_both_sides_allow(void **state)
{
    (void)state;
    kb_tls_ctx *sctx = server_ctx(KB_CLIENT_AUTH_NONE);
    int caps[] = {0, TLS1_2_VERSION};
    const char *want[] = {"TLSv1.3", "TLSv1.2"};
    for (int i = 0; i < 2; i++) {
        SSL_CTX *cctx = client_ctx(NULL, caps[i]);
        pair p;
        pair_open(&p, sctx, cctx, false);
        handshake_ok(&p);
        assert_string_equal(kb_tls_protocol(p.server), want[i]);
        /* The IANA name of the suite the client negotiated. */
        assert_non_null(kb_tls_cipher(p.server));
        const SSL_CIPHER *negotiated = SSL_get_current_cipher(p.client);
        assert_string_equal(kb_tls_cipher(p.server), SSL_CIPHER_standard_name(negotiated));
        assert_true(strncmp(kb_tls_cipher(p.server), "TLS_", 4) == 0);
        pair_close(&p);
        SSL_CTX_free(cctx);
    }
    kb_tls_ctx_free(sctx);
}

static void a_tls_1_1_client_is_refused(void **state)
{
    (void)state;
    kb_tls_ctx *sctx = server_ctx(KB_CLIENT_AUTH_NONE);
    SSL_CTX *cctx = client_ctx(NULL, TLS1_1_VERSION);
    /* OpenSSL 3 only lets a client offer TLS 1.1 at security level 0. */
    SSL_CTX_set_security_level(cctx, 0);
    assert_int_equal(SSL_CTX_set_cipher_list(cctx, "DEFAULT:@SECLEVEL=0"), 1);
    pair p;
    pair_open(&p, sctx, cctx, false);
    assert_int_equal(handshake(&p), KB_TLS_ERROR);
    assert_contains(p.err, "unsupported protocol");
    pair_close(&p);
    SSL_CTX_free(cctx);
    kb_tls_ctx_free(sctx);
}

static void garbage_instead_of_a_client_hello_fails_at_once(void **state)
{
    (void)state;
    /* An HTTP request; a Kafka ApiVersions v3 request from a PLAINTEXT
     * client; a TLS record header claiming 64 KiB (no waiting for it). */
    static const char http[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    static const unsigned char kafka[] = {0, 0, 0, 0x1c, 0, 0x12, 0, 3, 0, 0, 0, 1, 0, 7, 'k', 'c', 'a', 't',
                                          '-', 'c', 'l', 0, 4, 'k', 'c', 'a', 't', 4, '1', '.', '0', 0};
    static const unsigned char huge[] = {0x16, 0x03, 0x01, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8};
    const void *inputs[] = {http, kafka, huge};
    size_t lens[] = {sizeof http - 1, sizeof kafka, sizeof huge};
    kb_tls_ctx *sctx = server_ctx(KB_CLIENT_AUTH_NONE);
    SSL_CTX *cctx = client_ctx(NULL, 0);
    for (int i = 0; i < 3; i++) {
        pair p;
        pair_open(&p, sctx, cctx, false);
        assert_int_equal(write(p.cfd, inputs[i], lens[i]), (ssize_t)lens[i]);
        /* The bytes are already there: one call decides. */
        assert_int_equal(kb_tls_handshake(p.server, p.err, sizeof p.err), KB_TLS_ERROR);
        assert_contains(p.err, "TLS handshake failed: error:");
        assert_int_equal(ERR_peek_error(), 0); /* nothing left for the next connection */
        pair_close(&p);
    }
    SSL_CTX_free(cctx);
    kb_tls_ctx_free(sctx);
}

/* One thread serves many connections: an error left in its OpenSSL queue by
 * anything else must not turn a healthy session's WANT_READ into an error. */
static void a_stale_error_in_the_thread_queue_does_not_fail_a_session(void **state)
{
    (void)state;
    kb_tls_ctx *sctx = server_ctx(KB_CLIENT_AUTH_NONE);
    SSL_CTX *cctx = client_ctx(NULL, 0);
    pair p;
    pair_open(&p, sctx, cctx, false);
    handshake_ok(&p);
    ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
    char b[8];
    assert_int_equal(server_read(&p, b, sizeof b), KB_TLS_WANT_READ);
    ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
    assert_int_equal(server_write(&p, "x", 1), 1);
    pair_close(&p);
    SSL_CTX_free(cctx);
    kb_tls_ctx_free(sctx);
}

/* ---- configuration errors ---------------------------------------------------- */

static void expect_ctx_error(const char *keystore, const char *password, const char *truststore,
                             int client_auth, const char *part1, const char *part2)
{
    char err[512] = "";
    kb_tls_ctx *c = kb_tls_ctx_new(keystore, password, truststore, client_auth, err, sizeof err);
    if (c != NULL)
        fail_msg("accepted keystore %s", keystore);
    assert_contains(err, part1);
    assert_contains(err, part2);
    assert_int_equal(ERR_peek_error(), 0);
}

static void a_missing_keystore_is_named(void **state)
{
    (void)state;
    const char *path = cert("no-such.pem");
    expect_ctx_error(path, NULL, NULL, KB_CLIENT_AUTH_NONE, path, "No such file or directory");
}

static void a_keystore_without_a_key_is_named(void **state)
{
    (void)state;
    const char *path = cert("ca.pem");
    expect_ctx_error(path, NULL, NULL, KB_CLIENT_AUTH_NONE, path, "cannot read the private key");
}

static void a_key_that_does_not_match_the_certificate_is_named(void **state)
{
    (void)state;
    const char *path = cert("mismatch.pem");
    concat_files(path, cert("client-alice.key"), cert("broker.crt"));
    expect_ctx_error(path, NULL, NULL, KB_CLIENT_AUTH_NONE, path, "does not match the certificate");
}

static void an_encrypted_key_needs_the_right_password(void **state)
{
    (void)state;
    const char *path = cert("broker-encrypted.pem");
    expect_ctx_error(path, NULL, NULL, KB_CLIENT_AUTH_NONE, path, "ssl.key.password is not set");
    expect_ctx_error(path, "wrong", NULL, KB_CLIENT_AUTH_NONE, path, "wrong ssl.key.password?");

    char password[128] = "";
    FILE *f = fopen(cert("key-password"), "r");
    assert_non_null(f);
    assert_non_null(fgets(password, sizeof password, f));
    fclose(f);
    char err[512] = "";
    kb_tls_ctx *sctx = kb_tls_ctx_new(path, password, NULL, KB_CLIENT_AUTH_NONE, err, sizeof err);
    if (sctx == NULL)
        fail_msg("%s", err);
    SSL_CTX *cctx = client_ctx(NULL, 0);
    pair p;
    pair_open(&p, sctx, cctx, false);
    handshake_ok(&p);
    pair_close(&p);
    SSL_CTX_free(cctx);
    kb_tls_ctx_free(sctx);
}

static void truststore_errors_are_named(void **state)
{
    (void)state;
    const char *ks = cert("broker.pem"), *missing = cert("no-such-ca.pem");
    expect_ctx_error(ks, NULL, missing, KB_CLIENT_AUTH_REQUIRED, missing, "ssl.truststore.location");
    const char *empty = cert("empty.pem");
    FILE *f = fopen(empty, "w");
    assert_non_null(f);
    fclose(f);
    expect_ctx_error(ks, NULL, empty, KB_CLIENT_AUTH_REQUIRED, empty, "ssl.truststore.location");
    expect_ctx_error(ks, NULL, NULL, KB_CLIENT_AUTH_REQUIRED, "ssl.client.auth=required",
                     "needs ssl.truststore.location");
    expect_ctx_error(ks, NULL, NULL, KB_CLIENT_AUTH_REQUESTED, "ssl.client.auth=requested",
                     "needs ssl.truststore.location");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake_and_echo_over_loopback_tcp),
        cmocka_unit_test(large_transfers_both_ways_with_partial_and_moved_writes),
        cmocka_unit_test(pending_counts_decrypted_bytes_not_yet_read),
        cmocka_unit_test(read_returns_0_on_close_notify),
        cmocka_unit_test(read_returns_0_on_eof_without_close_notify),
        cmocka_unit_test(shutdown_sends_close_notify_to_the_client),
        cmocka_unit_test(client_auth_none_does_not_ask_for_a_certificate),
        cmocka_unit_test(client_auth_requested_accepts_a_client_without_certificate),
        cmocka_unit_test(client_auth_requested_reads_a_trusted_certificate),
        cmocka_unit_test(client_auth_requested_refuses_an_untrusted_certificate),
        cmocka_unit_test(client_auth_required_refuses_a_client_without_certificate),
        cmocka_unit_test(client_auth_required_accepts_a_trusted_certificate),
        cmocka_unit_test(client_auth_required_refuses_an_untrusted_certificate),
        cmocka_unit_test(peer_names_of_a_plain_subject),
        cmocka_unit_test(peer_subject_escapes_a_comma),
        cmocka_unit_test(peer_subject_keeps_utf8_characters),
        cmocka_unit_test(peer_subject_follows_java_escaping_order_and_keywords),
        cmocka_unit_test(peer_subject_decodes_bmpstring_bytes_as_java_does),
        cmocka_unit_test(peer_subject_replaces_malformed_utf8_as_java_does),
        cmocka_unit_test(peer_subject_escapes_nul_and_edge_whitespace_only),
        cmocka_unit_test(peer_subject_prints_other_types_and_attributes_as_der_hex),
        cmocka_unit_test(peer_serial_is_java_biginteger_hex),
        cmocka_unit_test(protocol_is_the_highest_both_sides_allow),
        cmocka_unit_test(a_tls_1_1_client_is_refused),
        cmocka_unit_test(garbage_instead_of_a_client_hello_fails_at_once),
        cmocka_unit_test(a_stale_error_in_the_thread_queue_does_not_fail_a_session),
        cmocka_unit_test(a_missing_keystore_is_named),
        cmocka_unit_test(a_keystore_without_a_key_is_named),
        cmocka_unit_test(a_key_that_does_not_match_the_certificate_is_named),
        cmocka_unit_test(an_encrypted_key_needs_the_right_password),
        cmocka_unit_test(truststore_errors_are_named),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
