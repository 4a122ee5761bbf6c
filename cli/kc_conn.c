/* One broker's exchange, step by step on a non-blocking socket. Requests
 * go one at a time, with one exception: when the scout (kc_scout.c) has
 * seen the cluster serve DescribeConnections, the first page's request
 * travels right behind ApiVersions, saving a round trip. Kafka answers a
 * connection's requests in order, so answers are matched by counting. */
#include "kc_conn.h"

#include "kc_codec.h"
#include "kc_net.h"
#include "kc_sasl.h"
#include "kc_version.h"
#include "kcp_frame.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Highest versions this client speaks. */
#define KC_API_VERSIONS_VERSION 3
#define KC_SASL_HANDSHAKE_VERSION 1 /* v1: tokens travel in SaslAuthenticate (KIP-152) */

enum phase {
    PH_RESOLVE, PH_CONNECT, PH_TLS, PH_API_VERSIONS, PH_SASL_HANDSHAKE, PH_SASL_AUTH, PH_DESCRIBE, PH_DONE
};

static const char *const phase_names[] = {
    "DNS lookup", "connect", "TLS handshake", "ApiVersions", "SASL handshake", "SASL authentication",
    "DescribeConnections", "done"};

#define ERRBUF 512

struct kc_conn {
    const kc_conn_env *env;
    kc_result *r;
    int phase;
    int fd;
    short want;
    int64_t started, deadline;
    struct addrinfo *addrs, *next_addr;
    int connect_errno;
    kc_tls *tls;
    kc_sasl *sasl;
    int sasl_state;                 /* enum kc_sasl_state after our last token */
    int32_t correlation_id;         /* of the last request sent */
    int32_t answered;               /* answers read; the next carries answered + 1 */
    bool pipelined;                 /* the first page was sent behind ApiVersions */
    bool classic;                   /* never pipeline (again) on this exchange */
    bool unconfirmed;               /* requests queued while connect() is in progress */
    int io_errno;                   /* errno of the last failed send or recv */
    int16_t api_versions_version;   /* of the ApiVersions request in flight */
    bool api_versions_retried;
    int16_t sasl_authenticate_version;
    int16_t describe_version;
    kcp_bytes cursor;               /* NextCursor of the last page (kept in the result) */
    uint8_t *out;                   /* the request being sent */
    size_t out_len, out_pos;
    kcp_frame_reader frames;
    uint8_t in[16384];
    size_t in_len, in_pos;
};

static void close_transport(kc_conn *c)
{
    kc_tls_free(c->tls);
    c->tls = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static void finish(kc_conn *c)
{
    c->phase = PH_DONE;
    c->r->elapsed_ms = kc_now_ms() - c->started;
    close_transport(c);
    kc_sasl_free(c->sasl);
    c->sasl = NULL;
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_pos = 0;
}

static void fail(kc_conn *c, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void fail(kc_conn *c, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kc_result_vfail(c->r, status, fmt, ap);
    va_end(ap);
    finish(c);
}

/* strerror() with a lower-case first letter, to read as part of a line. */
static const char *errno_text(int e, char *buf, size_t size)
{
    kc_fmt(buf, size, "%s", strerror(e));
    if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
        buf[0] = (char)(buf[0] - 'A' + 'a');
    return buf;
}

/* ---------------------------------------------------------- sending */

/* Queues a request behind any not yet written (a pipelined pair). */
static void send_request(kc_conn *c, int phase, kcp_api_id api, int16_t api_key, int16_t version,
                         const void *body)
{
    const kc_settings *s = c->env->s;
    uint8_t *frame = NULL;
    size_t len = 0;
    int rc = kc_encode_request(api, api_key, version, ++c->correlation_id,
                               s->client_id ? s->client_id : KC_SOFTWARE_NAME, body, &frame, &len);
    if (rc) {
        fail(c, KC_ERROR, "cannot encode the %s request: %s", phase_names[phase], kcp_err_name(rc));
        return;
    }
    if (c->out_pos == c->out_len) {
        free(c->out);
        c->out = frame;
        c->out_len = len;
        c->out_pos = 0;
    } else {
        uint8_t *both = realloc(c->out, c->out_len + len);
        if (!both) {
            free(frame);
            fail(c, KC_ERROR, "out of memory");
            return;
        }
        memcpy(both + c->out_len, frame, len);
        free(frame);
        c->out = both;
        c->out_len += len;
    }
    c->phase = phase;
}

static void send_api_versions(kc_conn *c, int16_t version)
{
    kcp_api_versions_request req;
    kcp_api_versions_request_init(&req);
    if (version >= 3) {
        req.client_software_name = kcp_str_c(KC_SOFTWARE_NAME);
        req.client_software_version = kcp_str_c(KC_VERSION);
    }
    c->api_versions_version = version;
    send_request(c, PH_API_VERSIONS, KCP_API_API_VERSIONS, KCP_API_KEY_API_VERSIONS, version, &req);
}

static void send_sasl_handshake(kc_conn *c)
{
    kcp_sasl_handshake_request req;
    kcp_sasl_handshake_request_init(&req);
    req.mechanism = kcp_str_c(c->env->s->sasl_mechanism);
    send_request(c, PH_SASL_HANDSHAKE, KCP_API_SASL_HANDSHAKE, KCP_API_KEY_SASL_HANDSHAKE,
                 KC_SASL_HANDSHAKE_VERSION, &req);
}

static void send_sasl_token(kc_conn *c, const uint8_t *token, size_t len)
{
    kcp_sasl_authenticate_request req;
    kcp_sasl_authenticate_request_init(&req);
    req.auth_bytes.ptr = token;
    req.auth_bytes.len = (int32_t)len;
    send_request(c, PH_SASL_AUTH, KCP_API_SASL_AUTHENTICATE, KCP_API_KEY_SASL_AUTHENTICATE,
                 c->sasl_authenticate_version, &req);
}

static void send_describe(kc_conn *c)
{
    /* A shallow copy: the caller's filters, our cursor and page size. */
    kcp_describe_connections_request req = *c->env->req;
    req.cursor = c->cursor;
    int64_t max_rows = c->env->max_rows;
    if (max_rows > 0 && !req.summary_only) {
        int64_t left = max_rows - (int64_t)c->r->n_rows;
        if (left > INT32_MAX)
            left = INT32_MAX;
        if (req.limit == 0 || req.limit > left)
            req.limit = (int32_t)left;
    }
    c->r->describe_version = c->describe_version;
    send_request(c, PH_DESCRIBE, KCP_API_DESCRIBE_CONNECTIONS, c->env->s->api_key, c->describe_version, &req);
}

/* The first requests once the transport is up: ApiVersions, and the first
 * page right behind it when the scout's version may be sent blind (never
 * with SASL, which must come first). */
static void send_first(kc_conn *c)
{
    send_api_versions(c, KC_API_VERSIONS_VERSION);
    const kc_conn_env *env = c->env;
    if (c->phase == PH_API_VERSIONS && !env->scout && !c->classic && !kc_uses_sasl(env->s) &&
        env->pipeline_version >= KCP_DESCRIBE_CONNECTIONS_REQUEST_MIN_VERSION &&
        env->pipeline_version <= KCP_DESCRIBE_CONNECTIONS_REQUEST_MAX_VERSION) {
        c->describe_version = env->pipeline_version;
        send_describe(c);
        if (c->phase == PH_DONE)
            return;
        c->phase = PH_API_VERSIONS; /* the first answer to come */
        c->pipelined = true;
    }
}

static void connect_next(kc_conn *c);

/* Drops the transport and every request queued on it, then connects to
 * c->next_addr onwards. Same deadline. */
static void reconnect(kc_conn *c)
{
    close_transport(c);
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_pos = 0;
    c->in_len = c->in_pos = 0;
    kcp_frame_reader_free(&c->frames);
    kcp_frame_reader_init(&c->frames, 0);
    c->correlation_id = c->answered = 0;
    c->pipelined = c->unconfirmed = false;
    c->api_versions_retried = false;
    c->r->describe_version = -1;
    connect_next(c);
}

/* The pipelined page cannot be trusted (this broker answered ApiVersions
 * unlike the scout's, or hung up first): ask again on a new connection,
 * waiting for each answer. */
static void restart_classic(kc_conn *c)
{
    c->classic = true;
    c->connect_errno = 0;
    c->next_addr = c->addrs;
    reconnect(c);
}

/* ---------------------------------------------------------- answers */

/* Finds api_key in an ApiVersions answer; NULL when not advertised. */
static const kcp_api_versions_response_api_version *advertised(const kcp_api_versions_response *m,
                                                               int16_t api_key)
{
    for (int32_t i = 0; i < m->api_keys.n; i++)
        if (m->api_keys.v[i].api_key == api_key)
            return &m->api_keys.v[i];
    return NULL;
}

/* Picks the highest version both sides speak in [lo, hi]; -1 if none. */
static int16_t common_version(const kcp_api_versions_response_api_version *a, int16_t lo, int16_t hi)
{
    if (!a || a->max_version < lo || a->min_version > hi)
        return -1;
    return a->max_version < hi ? a->max_version : hi;
}

/* KIP-511: a broker that does not know our ApiVersions version answers
 * UNSUPPORTED_VERSION with a v0 body listing its own ApiVersions range;
 * retry with the highest version it has, at most once. */
static void retry_api_versions(kc_conn *c, const uint8_t *body, size_t len)
{
    char err[ERRBUF];
    kcp_api_versions_response m;
    int rc = kc_decode_response(KCP_API_API_VERSIONS, 0, body, len, &m, err, sizeof err);
    int16_t v = rc ? -1 : common_version(advertised(&m, KCP_API_KEY_API_VERSIONS), 0,
                                         (int16_t)(c->api_versions_version - 1));
    kcp_api_versions_response_free(&m);
    if (rc)
        fail(c, KC_ERROR, "ApiVersions: %s", err);
    else if (c->api_versions_retried)
        fail(c, KC_ERROR, "ApiVersions v%d: UNSUPPORTED_VERSION", (int)c->api_versions_version);
    else {
        c->api_versions_retried = true;
        send_api_versions(c, v < 0 ? 0 : v);
    }
}

/* After ApiVersions: what the broker serves decides what comes next. */
static void check_versions(kc_conn *c, const kcp_api_versions_response *m)
{
    const kc_settings *s = c->env->s;
    const kcp_api_versions_response_api_version *dc = advertised(m, s->api_key);
    int16_t sent = c->describe_version;
    c->describe_version = common_version(dc, KCP_DESCRIBE_CONNECTIONS_REQUEST_MIN_VERSION,
                                         KCP_DESCRIBE_CONNECTIONS_REQUEST_MAX_VERSION);
    if (c->env->scout) {
        c->r->describe_version = c->describe_version;
        finish(c);
        return;
    }
    if (c->pipelined && dc) {
        if (sent < dc->min_version || sent > dc->max_version) {
            restart_classic(c);
        } else {
            /* Its answer is already on the way. */
            c->describe_version = sent;
            c->phase = PH_DESCRIBE;
        }
        return;
    }
    if (!dc) {
        fail(c, KC_UNSUPPORTED,
             "DescribeConnections (API key %d) is not advertised: the broker does not serve it "
             "(no kafka-connections plugin, or another --api-key)", (int)s->api_key);
        return;
    }
    if (c->describe_version < 0) {
        fail(c, KC_UNSUPPORTED, "the broker serves DescribeConnections (API key %d) versions %d-%d, this "
             "client speaks %d-%d", (int)s->api_key, (int)dc->min_version, (int)dc->max_version,
             KCP_DESCRIBE_CONNECTIONS_REQUEST_MIN_VERSION, KCP_DESCRIBE_CONNECTIONS_REQUEST_MAX_VERSION);
        return;
    }
    if (!kc_uses_sasl(s)) {
        send_describe(c);
        return;
    }
    int16_t hs = common_version(advertised(m, KCP_API_KEY_SASL_HANDSHAKE), KC_SASL_HANDSHAKE_VERSION,
                                KC_SASL_HANDSHAKE_VERSION);
    c->sasl_authenticate_version = common_version(advertised(m, KCP_API_KEY_SASL_AUTHENTICATE),
                                                  KCP_SASL_AUTHENTICATE_REQUEST_MIN_VERSION,
                                                  KCP_SASL_AUTHENTICATE_REQUEST_MAX_VERSION);
    if (hs < 0 || c->sasl_authenticate_version < 0)
        fail(c, KC_ERROR, "the broker does not advertise SaslHandshake v1 and SaslAuthenticate, which "
             "SASL needs here");
    else if (!s->sasl_mechanism)
        fail(c, KC_ERROR, "SASL needs a mechanism (sasl.mechanism)");
    else
        send_sasl_handshake(c);
}

static void on_api_versions(kc_conn *c, const uint8_t *body, size_t len)
{
    char err[ERRBUF], name[32];
    /* ErrorCode comes first in every version: read it before choosing
     * which version to decode the body as. */
    int16_t code = len >= 2 ? (int16_t)(body[0] << 8 | body[1]) : 0;
    if (code == KC_ERR_UNSUPPORTED_VERSION && c->pipelined) {
        restart_classic(c);
        return;
    }
    if (code == KC_ERR_UNSUPPORTED_VERSION && c->api_versions_version > 0) {
        retry_api_versions(c, body, len);
        return;
    }
    kcp_api_versions_response m;
    if (kc_decode_response(KCP_API_API_VERSIONS, c->api_versions_version, body, len, &m, err, sizeof err))
        fail(c, KC_ERROR, "ApiVersions v%d: %s", (int)c->api_versions_version, err);
    else if (m.error_code)
        fail(c, KC_ERROR, "ApiVersions failed: %s", kc_kafka_error_name(m.error_code, name, sizeof name));
    else
        check_versions(c, &m);
    kcp_api_versions_response_free(&m);
}

/* Joins a string array for a message, e.g. "PLAIN, SCRAM-SHA-256". */
static void join(char *buf, size_t size, const kcp_str *v, int32_t n)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (int32_t i = 0; i < n && pos < size; i++) {
        kc_fmt(buf + pos, size - pos, "%s%.*s", i ? ", " : "", (int)v[i].len, v[i].ptr);
        pos += strlen(buf + pos);
    }
    if (n <= 0)
        kc_fmt(buf, size, "none");
}

/* Sends the SASL client's token, or goes on once both sides are done. */
static void sasl_next(kc_conn *c, int state, const uint8_t *token, size_t len, bool server_done)
{
    c->sasl_state = state;
    if (state == KC_SASL_DONE && server_done && len == 0)
        send_describe(c);
    else
        send_sasl_token(c, token, len);
}

/* The broker accepted the mechanism: the client speaks first. */
static void start_sasl(kc_conn *c)
{
    char err[ERRBUF];
    const kc_settings *s = c->env->s;
    const uint8_t *token = NULL;
    size_t token_len = 0;
    c->sasl = kc_sasl_new(c->r->broker.host, s->sasl_username, s->sasl_password, err, sizeof err);
    int st = c->sasl ? kc_sasl_start(c->sasl, s->sasl_mechanism, &token, &token_len, err, sizeof err)
                     : KC_SASL_FAILED;
    if (st == KC_SASL_FAILED)
        fail(c, KC_ERROR, "SASL %s: %s", s->sasl_mechanism, err);
    else
        sasl_next(c, st, token, token_len, false);
}

static void on_sasl_handshake(kc_conn *c, const uint8_t *body, size_t len)
{
    char err[ERRBUF], list[256], name[32];
    const kc_settings *s = c->env->s;
    kcp_sasl_handshake_response m;
    if (kc_decode_response(KCP_API_SASL_HANDSHAKE, KC_SASL_HANDSHAKE_VERSION, body, len, &m, err,
                           sizeof err)) {
        fail(c, KC_ERROR, "SaslHandshake: %s", err);
    } else if (m.error_code == KC_ERR_UNSUPPORTED_SASL_MECHANISM) {
        join(list, sizeof list, m.mechanisms.v, m.mechanisms.n);
        fail(c, KC_UNAUTHORIZED, "SASL mechanism %s is not enabled on the broker (it offers %s)",
             s->sasl_mechanism, list);
    } else if (m.error_code) {
        fail(c, KC_UNAUTHORIZED, "SASL handshake failed: %s",
             kc_kafka_error_name(m.error_code, name, sizeof name));
    } else {
        start_sasl(c);
    }
    kcp_sasl_handshake_response_free(&m);
}

static void on_sasl_authenticate(kc_conn *c, const uint8_t *body, size_t len)
{
    char err[ERRBUF], name[32];
    kcp_sasl_authenticate_response m;
    if (kc_decode_response(KCP_API_SASL_AUTHENTICATE, c->sasl_authenticate_version, body, len, &m, err,
                           sizeof err)) {
        fail(c, KC_ERROR, "SaslAuthenticate: %s", err);
    } else if (m.error_code) {
        if (m.error_message.len > 0)
            fail(c, KC_UNAUTHORIZED, "SASL authentication failed: %.*s", (int)m.error_message.len,
                 m.error_message.ptr);
        else
            fail(c, KC_UNAUTHORIZED, "SASL authentication failed: %s",
                 kc_kafka_error_name(m.error_code, name, sizeof name));
    } else if (c->sasl_state == KC_SASL_DONE) {
        send_describe(c);
    } else {
        /* The server's token: for SCRAM the last one carries its proof
         * (ServerSignature), which the client plugin checks here. */
        const uint8_t *token = NULL;
        size_t token_len = 0;
        int st = kc_sasl_step(c->sasl, m.auth_bytes.ptr, m.auth_bytes.len > 0 ? (size_t)m.auth_bytes.len : 0,
                              &token, &token_len, err, sizeof err);
        if (st == KC_SASL_FAILED)
            fail(c, KC_UNAUTHORIZED, "SASL authentication failed: the broker's %s answer did not verify: %s",
                 c->env->s->sasl_mechanism, err);
        else
            sasl_next(c, st, token, token_len, true);
    }
    kcp_sasl_authenticate_response_free(&m);
}

/* kcp_connections_check() worded like the decoder's own errors. */
static int check_indexes(const kcp_describe_connections_response *m, char *err, size_t size)
{
    char why[ERRBUF - 32];
    if (kcp_connections_check(m, why, sizeof why) == 0)
        return 0;
    kc_fmt(err, size, "malformed response: %s", why);
    return -1;
}

/* Takes frame: the result keeps what the page refers to and frees it. */
static void on_describe(kc_conn *c, uint8_t *frame, size_t body_off, size_t len)
{
    char err[ERRBUF], name[32];
    kcp_describe_connections_response m;
    /* Rows name their strings by index into the page's Strings: an index
     * out of range is as malformed as a truncated field. */
    if (kc_decode_response(KCP_API_DESCRIBE_CONNECTIONS, c->describe_version, frame + body_off,
                           len - body_off, &m, err, sizeof err) ||
        check_indexes(&m, err, sizeof err)) {
        kcp_describe_connections_response_free(&m);
        free(frame);
        fail(c, KC_ERROR, "DescribeConnections: %s", err);
        return;
    }
    if (m.error_code) {
        const char *ename = kc_kafka_error_name(m.error_code, name, sizeof name);
        c->r->denied = m.error_code == KC_ERR_CLUSTER_AUTHORIZATION_FAILED;
        int status = c->r->denied ? KC_UNAUTHORIZED : KC_ERROR;
        if (m.error_message.len > 0)
            fail(c, status, "DescribeConnections failed: %s: %.*s", ename, (int)m.error_message.len,
                 m.error_message.ptr);
        else
            fail(c, status, "DescribeConnections failed: %s", ename);
        kcp_describe_connections_response_free(&m);
        free(frame);
        return;
    }
    if (kc_result_add_page(c->r, frame, len, &m, c->env->max_rows)) {
        fail(c, KC_ERROR, "out of memory after %zu rows", c->r->n_rows);
        return;
    }
    /* The page, and its NextCursor's bytes, now live in the result. */
    kcp_bytes next = c->r->pages[c->r->n_pages - 1]->next_cursor;
    bool repeated = next.len >= 0 && kcp_bytes_eq(next, c->cursor);
    bool full = c->env->max_rows > 0 && c->r->n_rows >= (uint64_t)c->env->max_rows;
    if (next.len < 0 || full || c->env->req->summary_only) {
        finish(c);
    } else if (repeated) {
        /* A broker handing back the same cursor would page forever. */
        fail(c, KC_ERROR, "DescribeConnections returned the same NextCursor twice");
    } else {
        c->cursor = next;
        send_describe(c);
    }
}

/* One whole response frame (without its size prefix); takes frame. */
static void on_frame(kc_conn *c, uint8_t *frame, size_t len)
{
    static const kcp_api_id api_of[] = {
        [PH_API_VERSIONS] = KCP_API_API_VERSIONS, [PH_SASL_HANDSHAKE] = KCP_API_SASL_HANDSHAKE,
        [PH_SASL_AUTH] = KCP_API_SASL_AUTHENTICATE, [PH_DESCRIBE] = KCP_API_DESCRIBE_CONNECTIONS};
    int16_t version = c->phase == PH_API_VERSIONS ? c->api_versions_version
                      : c->phase == PH_SASL_HANDSHAKE ? KC_SASL_HANDSHAKE_VERSION
                      : c->phase == PH_SASL_AUTH ? c->sasl_authenticate_version
                                                 : c->describe_version;
    char err[ERRBUF];
    size_t off = 0;
    if (kc_response_body(api_of[c->phase], version, ++c->answered, frame, len, &off, err, sizeof err)) {
        free(frame);
        fail(c, KC_ERROR, "%s: %s", phase_names[c->phase], err);
        return;
    }
    switch (c->phase) {
    case PH_API_VERSIONS: on_api_versions(c, frame + off, len - off); break;
    case PH_SASL_HANDSHAKE: on_sasl_handshake(c, frame + off, len - off); break;
    case PH_SASL_AUTH: on_sasl_authenticate(c, frame + off, len - off); break;
    case PH_DESCRIBE: on_describe(c, frame, off, len); return; /* took frame */
    default: break;
    }
    free(frame);
}

/* ---------------------------------------------------------- transport */

static int transport_write(kc_conn *c, char *err, size_t size)
{
    const uint8_t *p = c->out + c->out_pos;
    size_t n = c->out_len - c->out_pos, put = 0;
    if (c->tls) {
        int io = kc_tls_write(c->tls, p, n, &put, err, size);
        c->out_pos += put;
        return io;
    }
    ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
    if (w >= 0) {
        c->out_pos += (size_t)w;
        c->unconfirmed = false; /* TCP sends only once connected */
        return KC_IO_DONE;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return KC_IO_WANT_WRITE;
    c->io_errno = errno;
    errno_text(errno, err, size);
    return KC_IO_ERROR;
}

static int transport_read(kc_conn *c, char *err, size_t size)
{
    size_t got = 0;
    c->in_pos = c->in_len = 0;
    if (c->tls) {
        int io = kc_tls_read(c->tls, c->in, sizeof c->in, &got, err, size);
        c->in_len = got;
        return io;
    }
    ssize_t n = recv(c->fd, c->in, sizeof c->in, 0);
    if (n > 0) {
        c->in_len = (size_t)n;
        return KC_IO_DONE;
    }
    if (n == 0)
        return KC_IO_EOF;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return KC_IO_WANT_READ;
    c->io_errno = errno;
    errno_text(errno, err, size);
    return KC_IO_ERROR;
}

/* Moves bytes until the socket would block or the exchange ends (or
 * starts over on a new connection, which sets its own wait). */
static void pump(kc_conn *c)
{
    char err[ERRBUF];
    while (c->phase > PH_TLS && c->phase != PH_DONE) {
        int io;
        if (c->out_pos < c->out_len) {
            io = transport_write(c, err, sizeof err);
        } else if (c->in_pos < c->in_len) {
            size_t used = 0, flen = 0;
            uint8_t *frame = NULL;
            int rc = kcp_frame_reader_feed(&c->frames, c->in + c->in_pos, c->in_len - c->in_pos, &used,
                                           &frame, &flen, err, sizeof err);
            c->in_pos += used;
            if (rc < 0)
                fail(c, KC_ERROR, "%s: %s", phase_names[c->phase], err);
            else if (rc == 1)
                on_frame(c, frame, flen);
            continue;
        } else {
            io = transport_read(c, err, sizeof err);
        }
        if (io == KC_IO_WANT_READ || io == KC_IO_WANT_WRITE) {
            c->want = io == KC_IO_WANT_READ ? POLLIN : POLLOUT;
            return;
        }
        if (io == KC_IO_DONE)
            continue;
        if (c->unconfirmed) {
            /* The connect failed: its error came back from the send. */
            c->connect_errno = io == KC_IO_ERROR ? c->io_errno : ECONNRESET;
            reconnect(c);
        } else if (c->pipelined && c->phase == PH_API_VERSIONS) {
            restart_classic(c); /* perhaps it refuses requests sent ahead */
        } else if (io == KC_IO_EOF) {
            fail(c, KC_ERROR, "the broker closed the connection during %s", phase_names[c->phase]);
        } else {
            fail(c, KC_ERROR, "%s during %s", err, phase_names[c->phase]);
        }
    }
}

static void tls_step(kc_conn *c)
{
    char err[ERRBUF];
    int io = kc_tls_handshake(c->tls, err, sizeof err);
    if (io == KC_IO_WANT_READ || io == KC_IO_WANT_WRITE) {
        c->want = io == KC_IO_WANT_READ ? POLLIN : POLLOUT;
        return;
    }
    if (io != KC_IO_DONE) {
        fail(c, KC_ERROR, "%s", err);
        return;
    }
    send_first(c);
    pump(c);
}

static void connected(kc_conn *c)
{
    if (kc_uses_tls(c->env->s)) {
        /* TLS may write twice in a row (its last handshake flight, then
         * the first request), which Nagle would hold back for an ACK.
         * Without TLS every write follows a whole answer, which
         * acknowledged everything sent before: nothing to hold back. */
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char err[ERRBUF];
        if (!c->env->tls) {
            fail(c, KC_ERROR, "%s", c->env->tls_error ? c->env->tls_error : "TLS is not set up");
            return;
        }
        if (!(c->tls = kc_tls_new(c->env->tls, c->fd, c->r->broker.host, err, sizeof err))) {
            fail(c, KC_ERROR, "%s", err);
            return;
        }
        c->phase = PH_TLS;
        tls_step(c);
        return;
    }
    send_first(c);
    pump(c);
}

static void connect_done(kc_conn *c);

/* Tries the resolved addresses in order (IPv6 and IPv4 as the resolver
 * sorted them) until one connects or starts to. */
static void connect_next(kc_conn *c)
{
    char ebuf[128];
    c->phase = PH_CONNECT;
    for (; c->next_addr; c->next_addr = c->next_addr->ai_next) {
        struct addrinfo *a = c->next_addr;
        c->fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (c->fd < 0) {
            c->connect_errno = errno;
            continue;
        }
        if (connect(c->fd, a->ai_addr, a->ai_addrlen) == 0) {
            connected(c);
            return;
        }
        if (errno == EINPROGRESS && !kc_uses_tls(c->env->s)) {
            /* Queue the first requests at once: send() waits for the
             * handshake (EAGAIN) and reports a failed connect as its error,
             * which saves the poll() and getsockopt() of the TLS path. */
            c->next_addr = a->ai_next;
            c->unconfirmed = true;
            connected(c);
            return;
        }
        if (errno == EINPROGRESS) {
            c->want = POLLOUT;
            c->next_addr = a->ai_next;
            /* On loopback and nearby hosts the handshake is often over
             * by now; going on at once saves a trip through poll(). */
            struct pollfd now = {.fd = c->fd, .events = POLLOUT};
            if (poll(&now, 1, 0) == 1)
                connect_done(c);
            return;
        }
        c->connect_errno = errno;
        close(c->fd);
        c->fd = -1;
    }
    int e = c->connect_errno ? c->connect_errno : ECONNREFUSED;
    fail(c, KC_UNREACHABLE, "%s", errno_text(e, ebuf, sizeof ebuf));
}

static void connect_done(kc_conn *c)
{
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
        e = errno;
    if (e == 0) {
        connected(c);
        return;
    }
    c->connect_errno = e;
    close(c->fd);
    c->fd = -1;
    connect_next(c);
}

/* ---------------------------------------------------------- public */

kc_conn *kc_conn_start(const kc_conn_env *env, const kc_broker *b, kc_result *r)
{
    kc_conn *c = calloc(1, sizeof *c);
    if (kc_result_begin(r, b) || !c) {
        if (!r->error)
            kc_result_fail(r, KC_ERROR, "out of memory");
        free(c);
        return NULL;
    }
    c->env = env;
    c->r = r;
    c->fd = -1;
    c->phase = PH_RESOLVE;
    c->cursor = env->req->cursor; /* null: from the beginning */
    c->started = kc_now_ms();
    c->deadline = c->started + kc_timeout_ms(env->s);
    kcp_frame_reader_init(&c->frames, 0);

    char port[8];
    kc_fmt(port, sizeof port, "%u", (unsigned)b->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    int rc = getaddrinfo(r->broker.host, port, &hints, &c->addrs);
    if (rc != 0) {
        c->addrs = NULL;
        fail(c, KC_UNREACHABLE, "cannot resolve %s: %s", r->broker.host, gai_strerror(rc));
        return c;
    }
    c->next_addr = c->addrs;
    connect_next(c);
    return c;
}

bool kc_conn_done(const kc_conn *c)
{
    return c->phase == PH_DONE;
}

int kc_conn_fd(const kc_conn *c)
{
    return c->fd;
}

short kc_conn_events(const kc_conn *c)
{
    return c->want;
}

int64_t kc_conn_deadline(const kc_conn *c)
{
    return c->deadline;
}

void kc_conn_step(kc_conn *c, short revents)
{
    if (revents && c->phase != PH_DONE) {
        if (c->phase == PH_CONNECT)
            connect_done(c);
        else if (c->phase == PH_TLS)
            tls_step(c);
        else
            pump(c);
    }
    if (c->phase != PH_DONE && kc_now_ms() >= c->deadline)
        fail(c, KC_UNREACHABLE, "timed out after %d ms during %s", (int)(c->deadline - c->started),
             c->unconfirmed ? phase_names[PH_CONNECT] : phase_names[c->phase]);
}

void kc_conn_abort(kc_conn *c, const char *why)
{
    if (c->phase != PH_DONE)
        fail(c, KC_ERROR, "%s during %s", why,
             c->unconfirmed ? phase_names[PH_CONNECT] : phase_names[c->phase]);
}

void kc_conn_free(kc_conn *c)
{
    if (!c)
        return;
    if (c->phase != PH_DONE)
        finish(c);
    freeaddrinfo(c->addrs);
    kcp_frame_reader_free(&c->frames);
    free(c);
}
