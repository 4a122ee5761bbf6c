/* Prometheus text exposition of the registry, over a minimal HTTP/1.0
 * listener: one request per connection, answered and closed. */
#include "kb_metrics.h"

#include <errno.h>
#include <stdbool.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct kb_metrics {
    int fd;
    int wake[2];
    kcb_registry *reg;
    pthread_t tid;
};

/* Prometheus label values escape backslash, double quote and newline. */
static void put_label(FILE *f, const char *name, const char *value, bool first)
{
    fprintf(f, "%s%s=\"", first ? "" : ",", name);
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            fputc('\\', f);
        if (*p == '\n')
            fputs("\\n", f);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void put_group(void *opaque, const char *principal, const char *listener, const char *name,
                      const char *version, uint64_t n)
{
    FILE *f = opaque;
    fputs("kafka_connections_open{", f);
    put_label(f, "principal", principal, true);
    put_label(f, "listener", listener, false);
    put_label(f, "client_software_name", name, false);
    put_label(f, "client_software_version", version, false);
    fprintf(f, "} %llu\n", (unsigned long long)n);
}

char *kb_metrics_render(kcb_registry *reg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    kcb_stats st;
    kcb_registry_stats(reg, &st);
    fputs("# HELP kafka_connections_open Connections open now, by principal, listener and client software.\n"
          "# TYPE kafka_connections_open gauge\n", f);
    int rc = kcb_registry_counts(reg, put_group, f);
    fprintf(f,
            "# HELP kafka_connections_accepted_total Connections accepted since start.\n"
            "# TYPE kafka_connections_accepted_total counter\n"
            "kafka_connections_accepted_total %llu\n"
            "# HELP kafka_connections_closed_total Connections closed since start.\n"
            "# TYPE kafka_connections_closed_total counter\n"
            "kafka_connections_closed_total %llu\n"
            "# HELP kafka_connections_authentication_failures_total Failed authentications since start.\n"
            "# TYPE kafka_connections_authentication_failures_total counter\n"
            "kafka_connections_authentication_failures_total %llu\n",
            (unsigned long long)st.accepted, (unsigned long long)st.closed,
            (unsigned long long)st.auth_failures);
    if (fclose(f) != 0 || rc != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void serve_one(kb_metrics *m, int fd)
{
    char req[2048];
    size_t got = 0;
    /* Read the request head, waiting at most two seconds in all. */
    for (int i = 0; i < 20 && got < sizeof req - 1 && !memmem(req, got, "\r\n\r\n", 4); i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = recv(fd, req + got, sizeof req - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    req[got] = '\0';
    const char *status = "404 Not Found", *type = "text/plain", *body = "not found\n";
    char *text = NULL;
    if (strncmp(req, "GET /metrics ", 13) == 0 || strncmp(req, "GET / ", 6) == 0) {
        text = kb_metrics_render(m->reg);
        status = text ? "200 OK" : "500 Internal Server Error";
        type = "text/plain; version=0.0.4; charset=utf-8";
        body = text ? text : "out of memory\n";
    }
    char head[256];
    int n = snprintf(head, sizeof head, "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, type, strlen(body));
    write_all(fd, head, (size_t)n);
    write_all(fd, body, strlen(body));
    free(text);
}

static void *metrics_main(void *arg)
{
    kb_metrics *m = arg;
    for (;;) {
        struct pollfd p[2] = {{.fd = m->fd, .events = POLLIN}, {.fd = m->wake[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        if (p[0].revents & POLLIN) {
            int fd = accept4(m->fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0) {
                serve_one(m, fd);
                close(fd);
            }
        }
    }
    return NULL;
}

kb_metrics *kb_metrics_start(const char *hostport, kcb_registry *reg, char *errstr, size_t errstr_size)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof host) {
        snprintf(errstr, errstr_size, "metrics.listener '%s' is not HOST:PORT", hostport);
        return NULL;
    }
    const char *h = hostport;
    size_t hl = (size_t)(colon - hostport);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res;
    int gai = getaddrinfo(host, colon + 1, &hints, &res);
    if (gai) {
        snprintf(errstr, errstr_size, "metrics.listener '%s': %s", hostport, gai_strerror(gai));
        return NULL;
    }
    kb_metrics *m = calloc(1, sizeof *m);
    int one = 1;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (!m || fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 64) || pipe(m->wake)) {
        snprintf(errstr, errstr_size, "metrics.listener '%s': %s", hostport, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(m);
        freeaddrinfo(res);
        return NULL;
    }
    freeaddrinfo(res);
    m->fd = fd;
    m->reg = reg;
    if (pthread_create(&m->tid, NULL, metrics_main, m) != 0) {
        snprintf(errstr, errstr_size, "metrics.listener: cannot start its thread");
        close(fd);
        close(m->wake[0]);
        close(m->wake[1]);
        free(m);
        return NULL;
    }
    return m;
}

void kb_metrics_stop(kb_metrics *m)
{
    if (!m)
        return;
    ssize_t w = write(m->wake[1], "x", 1);
    (void)w;
    pthread_join(m->tid, NULL);
    close(m->fd);
    close(m->wake[0]);
    close(m->wake[1]);
    free(m);
}
