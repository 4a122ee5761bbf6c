/* The reference broker's network threads: accept, TLS, framing, output
 * queues, timeouts and shutdown. Requests are handled in kb_requests.c. */
#include "kb_server.h"
#include "kb_log.h"
#include "kcp_header.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* epoll data: small numbers tag the wake fd and listeners, anything else is
 * a kb_conn pointer. */
#define EV_WAKE 1u
#define EV_LISTENER_BASE 2u
#define MAX_EVENTS 256
#define READ_CHUNK 65536
#define TICK_MS 200
/* Stop reading from a client whose answers pile up unread. */
#define OUT_HIGH_WATER (8u << 20)

int64_t kb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int bind_listener(const kb_endpoint *ep, char *errstr, size_t errstr_size)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)ep->port);
    int gai = getaddrinfo(ep->host[0] ? ep->host : NULL, port, &hints, &res);
    if (gai != 0) {
        snprintf(errstr, errstr_size, "listener %s (%s:%u): %s", ep->listener, ep->host,
                 (unsigned)ep->port, gai_strerror(gai));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    /* No SO_REUSEPORT: a second broker on the same port must fail to start. */
    /* Accepted sockets inherit TCP_NODELAY from the listening one (Linux):
     * set once here rather than on every connection. */
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) ||
        bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 1024)) {
        snprintf(errstr, errstr_size, "listener %s (%s:%u): %s", ep->listener, ep->host,
                 (unsigned)ep->port, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* a.b.c.d written by hand into out (at least INET_ADDRSTRLEN bytes): every
 * accepted connection needs its peer's, and glibc's inet_ntop formats IPv4
 * with sprintf. */
static void ipv4_text(const uint8_t a[4], char *out)
{
    for (int i = 0; i < 4; i++) {
        unsigned v = a[i];
        if (v >= 100)
            *out++ = (char)('0' + v / 100);
        if (v >= 10)
            *out++ = (char)('0' + v / 10 % 10);
        *out++ = (char)('0' + v % 10);
        *out++ = i < 3 ? '.' : '\0';
    }
}

/* The numeric text and port of an address; an IPv4 client on a
 * dual-stack socket shows as a.b.c.d, not ::ffff:a.b.c.d. host_size must
 * be at least INET6_ADDRSTRLEN. */
static void numeric_name(const struct sockaddr_storage *ss, char *host, size_t host_size, uint16_t *port)
{
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)ss;
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)ss;
    bool done = false;
    if (ss->ss_family == AF_INET) {
        ipv4_text((const uint8_t *)&v4->sin_addr, host);
        done = true;
        *port = ntohs(v4->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        /* getnameinfo() below adds a link-local address's %scope. */
        if (v6->sin6_scope_id == 0 && IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
            ipv4_text(&v6->sin6_addr.s6_addr[12], host);
            done = true;
        } else if (v6->sin6_scope_id == 0) {
            done = inet_ntop(AF_INET6, &v6->sin6_addr, host, (socklen_t)host_size) != NULL;
        }
        *port = ntohs(v6->sin6_port);
    } else {
        *port = 0;
    }
    if (!done && getnameinfo((const struct sockaddr *)ss, sizeof *ss, host, (socklen_t)host_size, NULL, 0,
                             NI_NUMERICHOST) != 0)
        snprintf(host, host_size, "?");
}

static void remember_local_name(int listen_fd, kb_local_name *name)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    name->known = false;
    if (getsockname(listen_fd, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET)
        name->known = ((const struct sockaddr_in *)&ss)->sin_addr.s_addr != htonl(INADDR_ANY);
    else if (ss.ss_family == AF_INET6)
        name->known = !IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&ss)->sin6_addr);
    if (name->known)
        numeric_name(&ss, name->host, sizeof name->host, &name->port);
}

int kb_server_init(kb_server *srv, const kb_config *cfg, kcb_registry *reg, kb_sasl_server *sasl,
                   kb_tls_ctx *tls, char *errstr, size_t errstr_size)
{
    memset(srv, 0, sizeof *srv);
    srv->cfg = cfg;
    srv->reg = reg;
    srv->sasl = sasl;
    srv->tls = tls;
    srv->threads = calloc((size_t)cfg->num_network_threads, sizeof *srv->threads);
    srv->listen_fds = calloc(cfg->n_listeners, sizeof *srv->listen_fds);
    srv->local_names = calloc(cfg->n_listeners, sizeof *srv->local_names);
    if (!srv->threads || !srv->listen_fds || !srv->local_names) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    for (size_t l = 0; l < cfg->n_listeners; l++)
        srv->listen_fds[l] = -1;
    for (size_t l = 0; l < cfg->n_listeners; l++) {
        srv->listen_fds[l] = bind_listener(&cfg->listeners[l], errstr, errstr_size);
        if (srv->listen_fds[l] < 0)
            return -1;
        remember_local_name(srv->listen_fds[l], &srv->local_names[l]);
    }
    for (int32_t i = 0; i < cfg->num_network_threads; i++) {
        kb_thread *t = &srv->threads[i];
        t->srv = srv;
        t->index = (uint32_t)i;
        t->epfd = epoll_create1(EPOLL_CLOEXEC);
        t->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (t->epfd < 0 || t->wake_fd < 0) {
            snprintf(errstr, errstr_size, "network thread %d: %s", (int)i, strerror(errno));
            return -1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EV_WAKE};
        epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->wake_fd, &ev);
        /* Every thread waits on every listening socket; EPOLLEXCLUSIVE wakes
         * one of them per new connection rather than all. */
        for (size_t l = 0; l < cfg->n_listeners; l++) {
            ev.events = EPOLLIN | EPOLLEXCLUSIVE;
            ev.data.u64 = EV_LISTENER_BASE + l;
            epoll_ctl(t->epfd, EPOLL_CTL_ADD, srv->listen_fds[l], &ev);
        }
    }
    return 0;
}

void kb_server_stop(kb_server *srv)
{
    atomic_store(&srv->stopping, true);
    uint64_t one = 1;
    for (int32_t i = 0; srv->threads && i < srv->cfg->num_network_threads; i++)
        if (srv->threads[i].wake_fd > 0) {
            ssize_t w = write(srv->threads[i].wake_fd, &one, sizeof one);
            (void)w;
        }
}

void kb_server_free(kb_server *srv)
{
    for (int32_t i = 0; srv->threads && i < srv->cfg->num_network_threads; i++) {
        kb_thread *t = &srv->threads[i];
        if (t->epfd > 0)
            close(t->epfd);
        if (t->wake_fd > 0)
            close(t->wake_fd);
    }
    for (size_t l = 0; srv->listen_fds && l < srv->cfg->n_listeners; l++)
        if (srv->listen_fds[l] >= 0)
            close(srv->listen_fds[l]);
    free(srv->listen_fds);
    free(srv->local_names);
    srv->local_names = NULL;
    srv->listen_fds = NULL;
    free(srv->threads);
    srv->threads = NULL;
}

/* ---------------------------------------------------------- connections */

static void set_interest(kb_conn *c, bool want_write)
{
    /* Level-triggered: while reading is paused (answers piling up, or a
     * close pending) EPOLLIN must be off, or the thread would spin. */
    bool want_read = !c->close_after_flush && c->out_len <= OUT_HIGH_WATER;
    struct epoll_event ev = {.events = (want_read ? EPOLLIN : 0) | (want_write ? EPOLLOUT : 0),
                             .data.ptr = c};
    if (ev.events != c->interest && epoll_ctl(c->thread->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->interest = ev.events;
}

static void close_conn(kb_conn *c, int reason)
{
    kb_thread *t = c->thread;
    kb_log(reason == KCB_CLOSE_CLIENT || reason == KCB_CLOSE_SHUTDOWN ? KB_INFO : KB_WARN, "closed",
           "conn", kcb_conn_id(c->reg), "listener", c->listener->listener, "principal",
           c->principal ? c->principal : "User:ANONYMOUS", "reason", kcb_close_reason_name(reason),
           NULL);
    kcb_conn_closed(c->reg, reason, kb_now_ms());
    /* close() takes the socket out of the epoll set: nothing else holds it. */
    if (c->tls) {
        if (c->tls_done)
            kb_tls_shutdown(c->tls);
        kb_tls_free(c->tls);
    }
    close(c->fd);
    kb_sasl_session_free(c->sasl);
    kcp_frame_reader_free(&c->frames);
    free(c->out);
    free(c->mechanism);
    free(c->principal);
    if (c->prev)
        c->prev->next = c->next;
    else
        t->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    t->n_conns--;
    atomic_fetch_sub(&t->srv->open_conns, 1);
    free(c);
}

static void conn_event(kb_conn *c, uint32_t events);

/* peer is the address accept4() gave. */
static void accept_one(kb_thread *t, size_t l, int fd, const struct sockaddr_storage *peer)
{
    kb_server *srv = t->srv;
    const kb_endpoint *ep = &srv->cfg->listeners[l];
    const kb_local_name *bound = &srv->local_names[l];
    char local_text[INET6_ADDRSTRLEN + 8], phost[INET6_ADDRSTRLEN + 8];
    const char *lhost = bound->host;
    uint16_t lport = bound->port, pport = 0;
    if (!bound->known) {
        struct sockaddr_storage local;
        socklen_t llen = sizeof local;
        if (getsockname(fd, (struct sockaddr *)&local, &llen) != 0)
            memset(&local, 0, sizeof local);
        numeric_name(&local, local_text, sizeof local_text, &lport);
        lhost = local_text;
    }
    numeric_name(peer, phost, sizeof phost, &pport);

    if (atomic_load(&srv->open_conns) >= srv->cfg->max_connections) {
        char portbuf[8];
        snprintf(portbuf, sizeof portbuf, "%u", (unsigned)pport);
        kb_log(KB_WARN, "refused", "listener", ep->listener, "peer", phost, "port", portbuf, "why",
               "max.connections reached", NULL);
        close(fd);
        return;
    }
    kb_conn *c = calloc(1, sizeof *c);
    char err[256] = "";
    int64_t now = kb_now_ms();
    kcb_accept_info info = {.struct_size = sizeof info, .shard = t->index, .listener_name = ep->listener,
                            .security_protocol = ep->security_protocol, .local_host = lhost,
                            .local_port = lport, .peer_host = phost, .peer_port = pport, .now_ms = now};
    if (c)
        c->reg = kcb_conn_accepted(srv->reg, &info, err, sizeof err);
    bool tls = ep->security_protocol == KCB_SSL || ep->security_protocol == KCB_SASL_SSL;
    if (c && c->reg && tls)
        c->tls = kb_tls_new(srv->tls, fd, err, sizeof err);
    if (!c || !c->reg || (tls && !c->tls)) {
        kb_log(KB_ERROR, "refused", "listener", ep->listener, "peer", phost, "why",
               err[0] ? err : "out of memory", NULL);
        if (c && c->reg)
            kcb_conn_closed(c->reg, KCB_CLOSE_IO_ERROR, now);
        free(c);
        close(fd);
        return;
    }
    c->fd = fd;
    c->thread = t;
    c->listener = ep;
    c->tls_done = !tls;
    c->accepted_at = c->last_activity = now;
    c->session_expires_at = -1;
    bool sasl = ep->security_protocol == KCB_SASL_PLAINTEXT || ep->security_protocol == KCB_SASL_SSL;
    c->auth_phase = sasl ? KB_AUTH_HANDSHAKE : KB_AUTH_NONE;
    kcp_frame_reader_init(&c->frames, (size_t)srv->cfg->socket_request_max_bytes);
    c->next = t->conns;
    if (t->conns)
        t->conns->prev = c;
    t->conns = c;
    t->n_conns++;
    atomic_fetch_add(&srv->open_conns, 1);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev);
    c->interest = EPOLLIN;
    kb_log(KB_INFO, "accepted", "conn", kcb_conn_id(c->reg), "listener", ep->listener, NULL);
    /* Kafka clients speak first, and often the first request (or TLS
     * ClientHello) is already here: serving it now saves a wake-up. */
    conn_event(c, EPOLLIN);
}

static void accept_ready(kb_thread *t, size_t l)
{
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        int fd = accept4(t->srv->listen_fds[l], (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                kb_log(KB_WARN, "accept_failed", "listener", t->srv->cfg->listeners[l].listener,
                       "why", strerror(errno), NULL);
            return;
        }
        accept_one(t, l, fd, &peer);
    }
}

int kb_conn_send_raw(kb_conn *c, const void *data, size_t len)
{
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + len)
            cap *= 2;
        uint8_t *out = realloc(c->out, cap);
        if (!out)
            return -1;
        c->out = out;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    kcb_conn_response(c->reg, (uint32_t)len, kb_now_ms());
    return 0;
}

int kb_conn_send(kb_conn *c, int32_t correlation_id, int16_t header_version,
                 const kcp_message_desc *desc, const void *body, int16_t version)
{
    kcp_response_header h = {.correlation_id = correlation_id};
    size_t hlen = kcp_response_header_size(&h, header_version);
    size_t blen = desc->size(body, version);
    size_t total = 4 + hlen + blen;
    uint8_t *buf = malloc(total);
    if (!buf)
        return -1;
    kcp_writer w;
    kcp_writer_init(&w, buf, total);
    kcp_write_int32(&w, (int32_t)(hlen + blen));
    kcp_response_header_encode(&w, &h, header_version);
    int rc = desc->encode(&w, body, version);
    if (rc == 0 && w.pos == total)
        rc = kb_conn_send_raw(c, buf, total);
    else
        rc = -1;
    free(buf);
    return rc;
}

void kb_conn_close_after_flush(kb_conn *c, int reason)
{
    c->close_after_flush = true;
    c->close_reason = reason;
}

/* Sends what is queued. Returns 0, or a close reason. */
static int flush_out(kb_conn *c)
{
    char err[256];
    while (c->out_off < c->out_len) {
        ssize_t n;
        if (c->tls) {
            n = kb_tls_write(c->tls, c->out + c->out_off, c->out_len - c->out_off, err, sizeof err);
            if (n == KB_TLS_WANT_WRITE || n == KB_TLS_WANT_READ)
                break;
            if (n == KB_TLS_RESET)
                return KCB_CLOSE_CLIENT;
            if (n < 0) {
                kb_log(KB_WARN, "tls_write_failed", "conn", kcb_conn_id(c->reg), "why", err, NULL);
                return KCB_CLOSE_IO_ERROR;
            }
        } else {
            n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                break;
            if (n < 0)
                return errno == EPIPE || errno == ECONNRESET ? KCB_CLOSE_CLIENT : KCB_CLOSE_IO_ERROR;
        }
        c->out_off += (size_t)n;
        c->last_activity = kb_now_ms();
    }
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    set_interest(c, c->out_len > 0);
    if (c->out_len == 0 && c->close_after_flush)
        return c->close_reason;
    return 0;
}

/* Records the TLS session, and on SSL listeners the mTLS principal:
 * "User:" + the certificate subject in RFC 2253 form, as Kafka's default
 * principal builder does; User:ANONYMOUS without a client certificate. */
static void tls_established(kb_conn *c)
{
    char *subject = NULL, *issuer = NULL, *serial = NULL;
    if (kb_tls_peer(c->tls, &subject, &issuer, &serial))
        kb_log(KB_WARN, "tls_peer_unknown", "conn", kcb_conn_id(c->reg), "why", "out of memory", NULL);
    kcb_conn_tls(c->reg, kb_tls_protocol(c->tls), kb_tls_cipher(c->tls), subject, issuer, serial);
    if (c->listener->security_protocol == KCB_SSL) {
        char *principal = NULL;
        if (subject && asprintf(&principal, "User:%s", subject) < 0)
            principal = NULL;
        kcb_conn_authenticated(c->reg, principal ? principal : "User:ANONYMOUS",
                               subject ? "MTLS" : NULL, 0, kb_now_ms());
        c->principal = principal;
    }
    kb_log(KB_INFO, "tls_established", "conn", kcb_conn_id(c->reg), "protocol", kb_tls_protocol(c->tls),
           "cipher", kb_tls_cipher(c->tls), "peer_subject", subject ? subject : "-", NULL);
    free(subject);
    free(issuer);
    free(serial);
}

/* Reads and handles what arrived. Returns 0, or a close reason. */
static int read_in(kb_conn *c)
{
    static __thread uint8_t buf[READ_CHUNK];
    char err[256];
    for (int rounds = 0; rounds < 16; rounds++) {
        if (c->close_after_flush || c->out_len > OUT_HIGH_WATER)
            return 0;
        ssize_t n;
        if (c->tls) {
            n = kb_tls_read(c->tls, buf, sizeof buf, err, sizeof err);
            if (n == KB_TLS_WANT_READ || n == KB_TLS_WANT_WRITE)
                return 0;
            if (n == KB_TLS_RESET)
                return KCB_CLOSE_CLIENT;
            if (n < 0) {
                kb_log(KB_WARN, "tls_read_failed", "conn", kcb_conn_id(c->reg), "why", err, NULL);
                return KCB_CLOSE_IO_ERROR;
            }
        } else {
            n = recv(c->fd, buf, sizeof buf, 0);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                return 0;
            if (n < 0)
                return errno == ECONNRESET ? KCB_CLOSE_CLIENT : KCB_CLOSE_IO_ERROR;
        }
        if (n == 0)
            return KCB_CLOSE_CLIENT;
        c->last_activity = kb_now_ms();
        size_t off = 0;
        while (off < (size_t)n) {
            size_t used = 0;
            uint8_t *frame = NULL;
            size_t frame_len = 0;
            int rc = kcp_frame_reader_feed(&c->frames, buf + off, (size_t)n - off, &used, &frame,
                                           &frame_len, err, sizeof err);
            off += used;
            if (rc < 0) {
                kb_log(KB_WARN, "malformed_frame", "conn", kcb_conn_id(c->reg), "why", err, NULL);
                return KCB_CLOSE_MALFORMED;
            }
            if (rc == 0)
                break;
            int close_reason = kb_handle_frame(c, frame, frame_len);
            free(frame);
            if (close_reason)
                return close_reason;
            if (c->close_after_flush)
                return 0; /* ignore anything the client sent after a fatal answer */
        }
        if ((size_t)n < sizeof buf && !(c->tls && kb_tls_pending(c->tls) > 0))
            return 0;
    }
    return 0;
}

static void conn_event(kb_conn *c, uint32_t events)
{
    char err[256];
    int reason = 0;
    if (!c->tls_done) {
        int rc = kb_tls_handshake(c->tls, err, sizeof err);
        if (rc == KB_TLS_OK) {
            c->tls_done = true;
            tls_established(c);
        } else if (rc == KB_TLS_WANT_READ || rc == KB_TLS_WANT_WRITE) {
            set_interest(c, rc == KB_TLS_WANT_WRITE);
            return;
        } else {
            kb_log(KB_WARN, "tls_handshake_failed", "conn", kcb_conn_id(c->reg), "why", err, NULL);
            kcb_conn_auth_failed(c->reg, kb_now_ms());
            close_conn(c, KCB_CLOSE_AUTH_FAILED);
            return;
        }
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        reason = read_in(c);
    if (!reason)
        reason = flush_out(c);
    if (reason)
        close_conn(c, reason);
}

/* Closes connections that sat idle or never finished authenticating, or
 * began a re-authentication (KIP-368) and did not finish it in time. */
static void check_timeouts(kb_thread *t, int64_t now)
{
    const kb_config *cfg = t->srv->cfg;
    kb_conn *next;
    for (kb_conn *c = t->conns; c; c = next) {
        next = c->next;
        bool authenticating = !c->tls_done || (c->auth_phase != KB_AUTH_NONE &&
                                                c->auth_phase != KB_AUTH_DONE && !c->reauthenticating);
        bool reauth_stalled = c->reauthenticating && c->auth_phase != KB_AUTH_DONE &&
                              now - c->reauth_started_at > cfg->auth_timeout_ms;
        if ((authenticating && now - c->accepted_at > cfg->auth_timeout_ms) || reauth_stalled)
            close_conn(c, KCB_CLOSE_AUTH_TIMEOUT);
        else if (now - c->last_activity > cfg->connections_max_idle_ms)
            close_conn(c, KCB_CLOSE_IDLE_TIMEOUT);
    }
}

/* After a wave of connections has gone, hand the freed memory back to the
 * system: glibc keeps it otherwise, and a broker that once held 10k
 * connections would stay at that size. Thread 0 looks once a second. */
static void release_memory(kb_server *srv)
{
    int open = atomic_load(&srv->open_conns);
    if (open > srv->open_high_water)
        srv->open_high_water = open;
    if (srv->open_high_water >= 1000 && open < srv->open_high_water / 2) {
        malloc_trim(0);
        srv->open_high_water = open;
    }
}

static void *thread_main(void *arg)
{
    kb_thread *t = arg;
    struct epoll_event events[MAX_EVENTS];
    int64_t last_tick = kb_now_ms();
    while (!atomic_load(&t->srv->stopping)) {
        int n = epoll_wait(t->epfd, events, MAX_EVENTS, TICK_MS);
        for (int i = 0; i < n; i++) {
            uint64_t tag = events[i].data.u64;
            if (tag == EV_WAKE)
                continue;
            if (tag >= EV_LISTENER_BASE && tag < EV_LISTENER_BASE + t->srv->cfg->n_listeners)
                accept_ready(t, (size_t)(tag - EV_LISTENER_BASE));
            else
                conn_event(events[i].data.ptr, events[i].events);
        }
        int64_t now = kb_now_ms();
        if (now - last_tick >= 1000) {
            check_timeouts(t, now);
            if (t->index == 0)
                release_memory(t->srv);
            last_tick = now;
        }
    }
    while (t->conns) {
        kcb_conn_closing(t->conns->reg, KCB_CLOSE_SHUTDOWN);
        close_conn(t->conns, KCB_CLOSE_SHUTDOWN);
    }
    return NULL;
}

int kb_server_run(kb_server *srv)
{
    int32_t n = srv->cfg->num_network_threads;
    int32_t started = 0;
    for (; started < n; started++)
        if (pthread_create(&srv->threads[started].tid, NULL, thread_main, &srv->threads[started]) != 0)
            break;
    if (started < n)
        kb_server_stop(srv);
    for (int32_t i = 0; i < started; i++)
        pthread_join(srv->threads[i].tid, NULL);
    return started == n ? 0 : -1;
}
