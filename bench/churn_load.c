/*
 * churn_load: the load generator of bench/churn.
 *
 * Holds up to --max connections to the brokers and opens and closes them at
 * --rate per second for --seconds: first it opens until --max are held,
 * then every new connection replaces one picked at random, whatever its
 * state, so that brokers also see clients leave in the middle of their
 * handshake. Half the closes (--abort-percent) are resets (SO_LINGER 0),
 * the rest orderly. Every connection speaks as a real client does:
 * ApiVersions v3 naming its software (KIP-511), then, on SASL_PLAINTEXT,
 * SaslHandshake v1 and SaslAuthenticate v2 with PLAIN, and then stays idle.
 * Requests are encoded and answers decoded by protocol/'s generated codecs,
 * through the CLI's kc_codec. One thread, one epoll loop, non-blocking
 * sockets.
 *
 * On stdout, one JSON object a line: "status" every second; "holding" once
 * the churn is over and every connection left has finished its handshake,
 * with how many it holds by endpoint and principal; "closed" once it has
 * closed them all. Commands on stdin, one a line, once holding: "close"
 * closes every connection. End of input, SIGTERM or SIGINT close every
 * connection and end the program. The password of --user is read from
 * the environment (CHURN_LOAD_PASSWORD), never from the command line.
 *
 * Exit status: 0 after a run that reached "holding" with no failed
 * connection; 1 when a connection failed (the broker closed it, refused it
 * or answered with an error) or a handshake did not finish in time; 2 for
 * a usage error.
 */
#include "bench_report.h"
#include "kc_codec.h"
#include "kcp_frame.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define SOFTWARE_NAME "churn-load"
#define CLIENT_ID "churn-load"
#define API_VERSIONS_VERSION 3       /* v3: ClientSoftwareName/Version (KIP-511) */
#define SASL_HANDSHAKE_VERSION 1     /* v1: tokens in SaslAuthenticate (KIP-152) */
#define SASL_AUTHENTICATE_VERSION 2  /* flexible: request header v2, response header v1 */
#define MAX_ENDPOINTS 64
#define EVENTS_PER_WAIT 512
#define LOOP_WAIT_MS 5
#define FAILURES_SHOWN 10            /* failure messages written to stderr */

enum state { ST_CONNECTING, ST_API_VERSIONS, ST_SASL_HANDSHAKE, ST_SASL_AUTHENTICATE, ST_READY };
static const char *const state_names[] = {"connect", "ApiVersions", "SaslHandshake", "SaslAuthenticate",
                                          "ready"};

enum failure { F_CONNECT, F_CLOSED, F_ERROR_ANSWER, F_MALFORMED, F_SETTLE, F__COUNT };
static const char *const failure_names[] = {"connect", "closed_by_broker", "error_answer", "malformed",
                                            "handshake_timeout"};

enum phase { PH_CHURN, PH_SETTLE, PH_HOLD, PH_CLOSED, PH_QUIT };
static const char *const phase_names[] = {"churn", "settle", "hold", "closed", "quit"};

typedef struct endpoint {
    const char *text; /* HOST:PORT as given */
    struct sockaddr_storage addr;
    socklen_t addr_len;
    bool sasl;
    long open; /* connections to it now, in any state */
} endpoint;

typedef struct conn {
    int fd;
    enum state state;
    uint32_t events;       /* what epoll watches for it now */
    endpoint *ep;
    size_t slot;           /* its index in load.live */
    int32_t correlation_id;
    int64_t opened_ns;
    uint8_t *out;          /* the request being sent */
    size_t out_len, out_pos;
    kcp_frame_reader frames;
} conn;

typedef struct options {
    long max, rate, seed;
    double seconds, settle_seconds;
    int sasl_percent, abort_percent;
    const char *user, *password;
} options;

typedef struct load {
    options o;
    endpoint eps[MAX_ENDPOINTS];
    size_t n_eps, n_plain, n_sasl;
    size_t next_plain, next_sasl; /* round robin over each kind */
    conn **live;                  /* every connection held, in any state */
    size_t n_live;
    long handshaking;             /* held connections not ready yet */
    long scheduled;               /* opens the rate has granted so far */
    long opened, closed, victims, ready_total, max_open;
    double churn_ended;           /* seconds from the start */
    long failures[F__COUNT];
    long failures_shown;
    double handshake_ms_sum, handshake_ms_max;
    int epfd;
    bool held;                    /* "holding" was reported */
    int64_t t0;
    uint64_t rng;
    enum phase phase;
    char stdin_buf[256];
    size_t stdin_len;
} load;

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static double elapsed_s(const load *l)
{
    return (double)(bench_now_ns() - l->t0) / 1e9;
}

/* xorshift64*: a reproducible choice of victims and listeners (--seed). */
static uint64_t next_random(load *l)
{
    l->rng ^= l->rng >> 12;
    l->rng ^= l->rng << 25;
    l->rng ^= l->rng >> 27;
    return l->rng * UINT64_C(2685821657736338717);
}

/* ------------------------------------------------------------ reports */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void principal_of(const load *l, const endpoint *ep, char *buf, size_t size)
{
    /* What the broker names them: User:ANONYMOUS without SASL, else the
     * SASL user (see SECURITY in kafka-connections-broker(1)). */
    snprintf(buf, size, "User:%s", ep->sasl ? l->o.user : "ANONYMOUS");
}

static void report_counters(const load *l)
{
    printf("\"t\": %.3f, \"phase\": \"%s\", \"open\": %zu, \"handshaking\": %ld, \"opened\": %ld, "
           "\"closed\": %ld, \"victims\": %ld, \"ready_total\": %ld, \"max_open\": %ld, \"failed\": {",
           elapsed_s(l), phase_names[l->phase], l->n_live, l->handshaking, l->opened, l->closed,
           l->victims, l->ready_total, l->max_open);
    for (int i = 0; i < F__COUNT; i++)
        printf("%s\"%s\": %ld", i ? ", " : "", failure_names[i], l->failures[i]);
    printf("}, \"handshake_ms_mean\": %.3f, \"handshake_ms_max\": %.3f",
           l->ready_total ? l->handshake_ms_sum / (double)l->ready_total : 0.0, l->handshake_ms_max);
}

static void report(const load *l, const char *event)
{
    printf("{\"event\": \"%s\", ", event);
    report_counters(l);
    printf("}\n");
    fflush(stdout);
}

/* The counts a caller checks against the brokers': by endpoint, and by
 * principal summed over the endpoints. */
static void report_holding(const load *l)
{
    char principal[256];
    printf("{\"event\": \"holding\", ");
    report_counters(l);
    printf(", \"endpoints\": [");
    for (size_t i = 0; i < l->n_eps; i++) {
        const endpoint *ep = &l->eps[i];
        principal_of(l, ep, principal, sizeof principal);
        printf("%s{\"endpoint\": ", i ? ", " : "");
        json_string(stdout, ep->text);
        printf(", \"security_protocol\": \"%s\", \"principal\": ", ep->sasl ? "SASL_PLAINTEXT" : "PLAINTEXT");
        json_string(stdout, principal);
        printf(", \"open\": %ld}", ep->open);
    }
    printf("]}\n");
    fflush(stdout);
}

static void failed(load *l, conn *c, enum failure kind, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* ------------------------------------------------------ connections */

static int watch(load *l, conn *c, uint32_t events)
{
    if (c->events == events)
        return 0;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(l->epfd, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) != 0)
        return -1;
    c->events = events;
    return 0;
}

/* Closes c and forgets it; abortive sends a reset instead of a FIN. */
static void close_conn(load *l, conn *c, bool abortive)
{
    if (abortive) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(c->fd);
    if (c->state != ST_READY)
        l->handshaking--;
    c->ep->open--;
    l->live[c->slot] = l->live[--l->n_live];
    l->live[c->slot]->slot = c->slot;
    l->closed++;
    free(c->out);
    kcp_frame_reader_free(&c->frames);
    free(c);
}

static void failed(load *l, conn *c, enum failure kind, const char *fmt, ...)
{
    l->failures[kind]++;
    if (l->failures_shown++ < FAILURES_SHOWN) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "churn_load: %s, %s: ", c->ep->text, state_names[c->state]);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    close_conn(l, c, false);
}

/* Sends what is left of c's request; watches for room when the socket is
 * full and for the answer once all is sent. 0, or -1 after failing c. */
static int flush_out(load *l, conn *c)
{
    while (c->out_pos < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_pos, c->out_len - c->out_pos, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (watch(l, c, EPOLLOUT) == 0)
                return 0;
            failed(l, c, F_CONNECT, "epoll: %s", strerror(errno));
            return -1;
        }
        if (n < 0) {
            failed(l, c, F_CLOSED, "send: %s", strerror(errno));
            return -1;
        }
        c->out_pos += (size_t)n;
    }
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_pos = 0;
    if (watch(l, c, EPOLLIN) != 0) {
        failed(l, c, F_CONNECT, "epoll: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int send_request(load *l, conn *c, enum state next, kcp_api_id api, int16_t version, const void *body)
{
    int rc = kc_encode_request(api, kcp_api_info_get(api)->api_key, version, ++c->correlation_id, CLIENT_ID,
                               body, &c->out, &c->out_len);
    if (rc) {
        failed(l, c, F_MALFORMED, "cannot encode %s v%d: %s", kcp_api_info_get(api)->name, version,
               kcp_err_name(rc));
        return -1;
    }
    c->out_pos = 0;
    c->state = next;
    return flush_out(l, c);
}

static int send_api_versions(load *l, conn *c)
{
    kcp_api_versions_request req;
    kcp_api_versions_request_init(&req);
    req.client_software_name = kcp_str_c(SOFTWARE_NAME);       /* ClientSoftwareName */
    req.client_software_version = kcp_str_c(CHURN_LOAD_VERSION); /* ClientSoftwareVersion */
    return send_request(l, c, ST_API_VERSIONS, KCP_API_API_VERSIONS, API_VERSIONS_VERSION, &req);
}

static int send_sasl_handshake(load *l, conn *c)
{
    kcp_sasl_handshake_request req;
    kcp_sasl_handshake_request_init(&req);
    req.mechanism = kcp_str_c("PLAIN"); /* Mechanism */
    return send_request(l, c, ST_SASL_HANDSHAKE, KCP_API_SASL_HANDSHAKE, SASL_HANDSHAKE_VERSION, &req);
}

static int send_sasl_authenticate(load *l, conn *c)
{
    /* RFC 4616: authzid (empty) NUL authcid NUL password. */
    size_t user_len = strlen(l->o.user), pass_len = strlen(l->o.password);
    uint8_t token[1024];
    if (user_len + pass_len + 2 > sizeof token) {
        failed(l, c, F_MALFORMED, "user name and password too long");
        return -1;
    }
    token[0] = 0;
    memcpy(token + 1, l->o.user, user_len);
    token[1 + user_len] = 0;
    memcpy(token + 2 + user_len, l->o.password, pass_len);
    kcp_sasl_authenticate_request req;
    kcp_sasl_authenticate_request_init(&req);
    req.auth_bytes = (kcp_bytes){token, (int32_t)(user_len + pass_len + 2)}; /* AuthBytes */
    return send_request(l, c, ST_SASL_AUTHENTICATE, KCP_API_SASL_AUTHENTICATE, SASL_AUTHENTICATE_VERSION,
                        &req);
}

static void became_ready(load *l, conn *c)
{
    c->state = ST_READY;
    l->handshaking--;
    l->ready_total++;
    double ms = (double)(bench_now_ns() - c->opened_ns) / 1e6;
    l->handshake_ms_sum += ms;
    if (ms > l->handshake_ms_max)
        l->handshake_ms_max = ms;
}

/* The ErrorCode of an answer (every one of ours has it), -1 with err set
 * when the frame does not decode as the answer to c's request. */
static int answer_error(conn *c, kcp_api_id api, int16_t version, const uint8_t *frame, size_t len, void *msg,
                        char *err, size_t err_size)
{
    size_t off;
    if (kc_response_body(api, version, c->correlation_id, frame, len, &off, err, err_size) ||
        kc_decode_response(api, version, frame + off, len - off, msg, err, err_size))
        return -1;
    return 0;
}

/* One whole answer for c; 0, or -1 after failing c. */
static int on_frame(load *l, conn *c, const uint8_t *frame, size_t len)
{
    char err[512];
    int16_t code;
    int rc;
    switch (c->state) {
    case ST_API_VERSIONS: {
        kcp_api_versions_response m;
        kcp_api_versions_response_init(&m);
        rc = answer_error(c, KCP_API_API_VERSIONS, API_VERSIONS_VERSION, frame, len, &m, err, sizeof err);
        code = m.error_code;
        kcp_api_versions_response_free(&m);
        break;
    }
    case ST_SASL_HANDSHAKE: {
        kcp_sasl_handshake_response m;
        kcp_sasl_handshake_response_init(&m);
        rc = answer_error(c, KCP_API_SASL_HANDSHAKE, SASL_HANDSHAKE_VERSION, frame, len, &m, err, sizeof err);
        code = m.error_code;
        kcp_sasl_handshake_response_free(&m);
        break;
    }
    case ST_SASL_AUTHENTICATE: {
        kcp_sasl_authenticate_response m;
        kcp_sasl_authenticate_response_init(&m);
        rc = answer_error(c, KCP_API_SASL_AUTHENTICATE, SASL_AUTHENTICATE_VERSION, frame, len, &m, err,
                          sizeof err);
        code = m.error_code;
        kcp_sasl_authenticate_response_free(&m);
        break;
    }
    default:
        failed(l, c, F_MALFORMED, "an answer nothing was asked for (%zu bytes)", len);
        return -1;
    }
    if (rc) {
        failed(l, c, F_MALFORMED, "%s", err);
        return -1;
    }
    if (code) {
        failed(l, c, F_ERROR_ANSWER, "error code %d", code);
        return -1;
    }
    if (c->state == ST_SASL_HANDSHAKE)
        return send_sasl_authenticate(l, c);
    if (c->state == ST_API_VERSIONS && c->ep->sasl)
        return send_sasl_handshake(l, c);
    became_ready(l, c);
    return 0;
}

static void on_readable(load *l, conn *c)
{
    uint8_t buf[4096];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            failed(l, c, F_CLOSED, "%s", n == 0 ? "the broker closed the connection" : strerror(errno));
            return;
        }
        size_t off = 0;
        while (off < (size_t)n) {
            size_t used;
            uint8_t *frame;
            size_t frame_len;
            char err[256];
            int rc = kcp_frame_reader_feed(&c->frames, buf + off, (size_t)n - off, &used, &frame, &frame_len,
                                           err, sizeof err);
            off += used;
            if (rc < 0) {
                failed(l, c, F_MALFORMED, "%s", err);
                return;
            }
            if (rc == 1) {
                rc = on_frame(l, c, frame, frame_len);
                free(frame);
                if (rc)
                    return;
            }
        }
    }
}

static void on_connected(load *l, conn *c)
{
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
        e = errno;
    if (e) {
        failed(l, c, F_CONNECT, "%s", strerror(e));
        return;
    }
    send_api_versions(l, c);
}

static void on_event(load *l, conn *c, uint32_t events)
{
    if (c->state == ST_CONNECTING) {
        on_connected(l, c);
    } else if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        on_readable(l, c);
    } else if (events & EPOLLOUT) {
        flush_out(l, c);
    }
}

static endpoint *pick_endpoint(load *l)
{
    bool sasl = l->n_sasl && (!l->n_plain || (long)(next_random(l) % 100) < l->o.sasl_percent);
    size_t *next = sasl ? &l->next_sasl : &l->next_plain;
    size_t want = (*next)++ % (sasl ? l->n_sasl : l->n_plain);
    for (size_t i = 0; i < l->n_eps; i++)
        if (l->eps[i].sasl == sasl && want-- == 0)
            return &l->eps[i];
    return &l->eps[0];
}

/* Opens one connection; failures are counted, not fatal. */
static void open_conn(load *l)
{
    endpoint *ep = pick_endpoint(l);
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        fprintf(stderr, "churn_load: out of memory\n");
        exit(1);
    }
    c->fd = socket(ep->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        fprintf(stderr, "churn_load: socket: %s\n", strerror(errno));
        exit(1);
    }
    c->ep = ep;
    c->state = ST_CONNECTING;
    c->opened_ns = bench_now_ns();
    kcp_frame_reader_init(&c->frames, 0);
    c->slot = l->n_live;
    l->live[l->n_live++] = c;
    ep->open++;
    l->handshaking++;
    l->opened++;
    if (l->n_live > (size_t)l->max_open)
        l->max_open = (long)l->n_live;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&ep->addr, ep->addr_len) != 0 && errno != EINPROGRESS) {
        failed(l, c, F_CONNECT, "%s", strerror(errno));
        return;
    }
    if (watch(l, c, EPOLLOUT) != 0)
        failed(l, c, F_CONNECT, "epoll: %s", strerror(errno));
}

static void close_all(load *l)
{
    while (l->n_live)
        close_conn(l, l->live[l->n_live - 1], false);
}


/* ------------------------------------------------------- the phases */

/* Opens what the rate allows by now, replacing a random connection once
 * --max are held. A late loop catches up by at most a tenth of a second's
 * worth, so that a stall never turns into a burst (the status lines show
 * the rate reached). */
static void churn_step(load *l)
{
    long due = (long)((double)l->o.rate * elapsed_s(l));
    long burst = l->o.rate / 10 + 1;
    if (due - l->scheduled > burst)
        l->scheduled = due - burst;
    for (; l->scheduled < due; l->scheduled++) {
        if (l->n_live >= (size_t)l->o.max) {
            conn *victim = l->live[next_random(l) % l->n_live];
            l->victims++;
            close_conn(l, victim, (long)(next_random(l) % 100) < l->o.abort_percent);
        }
        open_conn(l);
    }
}

/* After the churn: waits for the handshakes in flight, then holds. */
static void settle_step(load *l)
{
    if (l->handshaking > 0 && elapsed_s(l) < l->churn_ended + l->o.settle_seconds)
        return;
    for (size_t i = l->n_live; i-- > 0;) {
        conn *c = l->live[i];
        if (c->state != ST_READY)
            failed(l, c, F_SETTLE, "not done %.0f s after the churn ended", l->o.settle_seconds);
    }
    l->phase = PH_HOLD;
    l->held = true;
    report_holding(l);
}

/* One command line of stdin. */
static void on_command(load *l, const char *line)
{
    if (strcmp(line, "close") == 0 && l->phase == PH_HOLD) {
        close_all(l);
        l->phase = PH_CLOSED;
        report(l, "closed");
    } else if (line[0]) {
        fprintf(stderr, "churn_load: ignored command '%s' in phase %s\n", line, phase_names[l->phase]);
    }
}

static void on_stdin(load *l)
{
    ssize_t n = read(0, l->stdin_buf + l->stdin_len, sizeof l->stdin_buf - 1 - l->stdin_len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        l->phase = PH_QUIT;
        return;
    }
    l->stdin_len += (size_t)n;
    l->stdin_buf[l->stdin_len] = 0;
    char *nl;
    while ((nl = strchr(l->stdin_buf, '\n')) != NULL) {
        *nl = 0;
        on_command(l, l->stdin_buf);
        l->stdin_len -= (size_t)(nl + 1 - l->stdin_buf);
        memmove(l->stdin_buf, nl + 1, l->stdin_len + 1);
    }
    if (l->stdin_len == sizeof l->stdin_buf - 1)
        l->stdin_len = 0; /* a line too long to be a command */
}

static int run(load *l)
{
    struct epoll_event evs[EVENTS_PER_WAIT];
    double next_status = 1.0;
    l->t0 = bench_now_ns();
    report(l, "status");
    while (l->phase != PH_QUIT && !stop_signal) {
        int n = epoll_wait(l->epfd, evs, EVENTS_PER_WAIT, LOOP_WAIT_MS);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "churn_load: epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        /* stdin last: "close" frees connections that later events of this
         * batch may name. */
        bool command = false;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr)
                on_event(l, evs[i].data.ptr, evs[i].events);
            else
                command = true;
        }
        if (command)
            on_stdin(l);
        if (l->phase == PH_CHURN) {
            if (elapsed_s(l) >= l->o.seconds) {
                l->phase = PH_SETTLE;
                l->churn_ended = elapsed_s(l);
                report(l, "churn_ended");
            } else {
                churn_step(l);
            }
        }
        if (l->phase == PH_SETTLE)
            settle_step(l);
        if (l->phase != PH_QUIT && elapsed_s(l) >= next_status) {
            report(l, "status");
            next_status += 1.0;
        }
    }
    close_all(l);
    l->phase = PH_QUIT;
    report(l, "end");
    long failures = 0;
    for (int i = 0; i < F__COUNT; i++)
        failures += l->failures[i];
    return l->held && !failures && !stop_signal ? 0 : 1;
}

/* ------------------------------------------------------------ setup */

static int parse_endpoint(endpoint *ep, const char *text, bool sasl, char *err, size_t err_size)
{
    char host[256];
    const char *port;
    if (text[0] == '[') {
        const char *end = strchr(text, ']');
        if (!end || end[1] != ':' || (size_t)(end - text - 1) >= sizeof host) {
            snprintf(err, err_size, "'%s' is not [IPV6]:PORT", text);
            return -1;
        }
        memcpy(host, text + 1, (size_t)(end - text - 1));
        host[end - text - 1] = 0;
        port = end + 2;
    } else {
        const char *colon = strrchr(text, ':');
        if (!colon || (size_t)(colon - text) >= sizeof host) {
            snprintf(err, err_size, "'%s' is not HOST:PORT", text);
            return -1;
        }
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = 0;
        port = colon + 1;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc) {
        snprintf(err, err_size, "%s: %s", text, gai_strerror(rc));
        return -1;
    }
    memcpy(&ep->addr, res->ai_addr, res->ai_addrlen);
    ep->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    ep->text = text;
    ep->sasl = sasl;
    return 0;
}

/* Adds every HOST:PORT of a comma-separated list (modified in place). */
static int add_endpoints(load *l, char *list, bool sasl)
{
    char err[512];
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (l->n_eps == MAX_ENDPOINTS) {
            fprintf(stderr, "churn_load: more than %d endpoints\n", MAX_ENDPOINTS);
            return -1;
        }
        if (parse_endpoint(&l->eps[l->n_eps], tok, sasl, err, sizeof err)) {
            fprintf(stderr, "churn_load: %s\n", err);
            return -1;
        }
        l->n_eps++;
        *(sasl ? &l->n_sasl : &l->n_plain) += 1;
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: churn_load [--plaintext HOST:PORT,...] [--sasl HOST:PORT,... --user NAME]\n"
               "                  [--max N] [--rate N] [--seconds S] [--settle-seconds S]\n"
               "                  [--sasl-percent P] [--abort-percent P] [--seed N]\n"
               "The SASL password is read from $CHURN_LOAD_PASSWORD. Defaults: --max 10000, --rate 1000,\n"
               "--seconds 60, --settle-seconds 30, --sasl-percent 20, --abort-percent 50, --seed 1.\n");
}

/* A whole number within [min, max], or -1 after saying why. */
static int parse_long(const char *name, const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        fprintf(stderr, "churn_load: %s wants a whole number from %ld to %ld, not '%s'\n", name, min, max,
                text);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_options(load *l, int argc, char **argv)
{
    static const struct option longs[] = {
        {"plaintext", required_argument, 0, 'p'}, {"sasl", required_argument, 0, 's'},
        {"user", required_argument, 0, 'u'},      {"max", required_argument, 0, 'm'},
        {"rate", required_argument, 0, 'r'},      {"seconds", required_argument, 0, 't'},
        {"settle-seconds", required_argument, 0, 'w'}, {"sasl-percent", required_argument, 0, 'P'},
        {"abort-percent", required_argument, 0, 'A'},  {"seed", required_argument, 0, 'S'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    options *o = &l->o;
    *o = (options){.max = 10000, .rate = 1000, .seed = 1, .seconds = 60, .settle_seconds = 30,
                   .sasl_percent = 20, .abort_percent = 50};
    long v;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (opt) {
        case 'p':
        case 's':
            if (add_endpoints(l, optarg, opt == 's'))
                return -1;
            break;
        case 'u': o->user = optarg; break;
        case 'm': if (parse_long("--max", optarg, 1, 1000000, &o->max)) return -1; break;
        case 'r': if (parse_long("--rate", optarg, 1, 1000000, &o->rate)) return -1; break;
        case 't': if (parse_long("--seconds", optarg, 0, 86400, &v)) return -1; o->seconds = (double)v; break;
        case 'w': if (parse_long("--settle-seconds", optarg, 1, 3600, &v)) return -1; o->settle_seconds = (double)v; break;
        case 'P': if (parse_long("--sasl-percent", optarg, 0, 100, &v)) return -1; o->sasl_percent = (int)v; break;
        case 'A': if (parse_long("--abort-percent", optarg, 0, 100, &v)) return -1; o->abort_percent = (int)v; break;
        case 'S': if (parse_long("--seed", optarg, 1, 1L << 30, &o->seed)) return -1; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind != argc || l->n_eps == 0) {
        usage(stderr);
        return -1;
    }
    if (l->n_sasl && (!o->user || !(o->password = getenv("CHURN_LOAD_PASSWORD")))) {
        fprintf(stderr, "churn_load: --sasl needs --user and $CHURN_LOAD_PASSWORD\n");
        return -1;
    }
    return 0;
}

/* Room for --max sockets, the loop's own descriptors and a margin. */
static int raise_nofile(long need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if (rl.rlim_cur >= (rlim_t)need)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)need) {
        fprintf(stderr, "churn_load: --max %ld needs %ld open files, the hard limit is %ld\n", need - 64,
                need, (long)rl.rlim_max);
        return -1;
    }
    rl.rlim_cur = (rlim_t)need;
    return setrlimit(RLIMIT_NOFILE, &rl);
}

int main(int argc, char **argv)
{
    static load l;
    if (parse_options(&l, argc, argv))
        return 2;
    if (raise_nofile(l.o.max + 64))
        return 2;
    l.rng = (uint64_t)l.o.seed * UINT64_C(0x9E3779B97F4A7C15);
    l.live = calloc((size_t)l.o.max + 1, sizeof *l.live);
    l.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!l.live || l.epfd < 0) {
        fprintf(stderr, "churn_load: %s\n", l.live ? strerror(errno) : "out of memory");
        return 1;
    }
    /* stdin carries commands when it is a pipe or a terminal; a file or
     * /dev/null cannot be watched, and then only a signal ends a hold. */
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    (void)epoll_ctl(l.epfd, EPOLL_CTL_ADD, 0, &ev);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int rc = run(&l);
    close(l.epfd);
    free(l.live);
    return rc;
}
