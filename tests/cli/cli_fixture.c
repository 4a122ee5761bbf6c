/*
 * cli_fixture.c: hand-built brokers' answers and the Python round trip.
 * See cli_fixture.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli_fixture.h"
#include "kcp_strtab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"

void fx_init(fx *f)
{
    memset(f, 0, sizeof *f);
}

kc_result *fx_broker(fx *f, int32_t node_id, const char *host, uint16_t port, int status,
                     const char *error, int64_t broker_time_ms)
{
    assert_true(f->n < FX_MAX_BROKERS);
    kc_result *r = &f->results[f->n++];
    memset(r, 0, sizeof *r);
    r->broker.node_id = node_id;
    r->broker.host = strdup(host);
    r->broker.port = port;
    r->status = status;
    r->error = error ? strdup(error) : NULL;
    r->broker_time_ms = broker_time_ms;
    r->elapsed_ms = 3;
    return r;
}

static void *grow(void *v, size_t n, size_t elem)
{
    void *p = realloc(v, (n + 1) * elem);
    assert_non_null(p);
    return p;
}

/* A broker's one page and the table its Strings come from. The page comes
 * first, so r->pages[0] is the start of the allocation (kc_result_free()
 * frees it as a page). */
typedef struct fx_page {
    kcp_describe_connections_response m;
    kcp_strtab strings;
} fx_page;

static fx_page *page_of(kc_result *r)
{
    if (r->n_pages == 0) {
        fx_page *p = calloc(1, sizeof *p);
        assert_non_null(p);
        kcp_describe_connections_response_init(&p->m);
        kcp_strtab_init(&p->strings);
        r->pages = calloc(1, sizeof *r->pages);
        r->bodies = calloc(1, sizeof *r->bodies);
        assert_non_null(r->pages);
        assert_non_null(r->bodies);
        r->pages[0] = &p->m;
        r->n_pages = 1;
    }
    return (fx_page *)r->pages[0];
}

int32_t fx_str(kc_result *r, kcp_str s)
{
    fx_page *p = page_of(r);
    int32_t i = kcp_strtab_add(&p->strings, s);
    assert_true(i >= -1);
    p->m.strings.n = p->strings.n;
    p->m.strings.v = p->strings.v;
    return i;
}

kcp_describe_connections_response_connection *fx_row(kc_result *r, size_t i)
{
    assert_true(i < r->n_rows);
    return (kcp_describe_connections_response_connection *)r->rows[i].w;
}

kcp_describe_connections_response_connection *fx_conn(kc_result *r, const char *principal,
                                                      const char *client_host, uint16_t client_port,
                                                      const char *software_name,
                                                      const char *software_version,
                                                      const char *listener)
{
    fx_page *p = page_of(r);
    kcp_describe_connections_response_connection *c = kcp_arena_alloc(&p->m.arena, sizeof *c);
    char *id = kcp_arena_alloc(&p->m.arena, 96);
    assert_non_null(c);
    assert_non_null(id);
    kcp_describe_connections_response_connection_init(c);
    snprintf(id, 96, "127.0.0.1:9092-%s:%u-0-%u", client_host, (unsigned)client_port,
             (unsigned)client_port);
    c->connection_id = kcp_str_c(id);
    c->state = 1;
    c->listener_name_index = fx_str(r, kcp_str_c(listener));
    c->security_protocol = 2;
    c->principal_index = fx_str(r, kcp_str_c(principal));
    c->sasl_mechanism_index = fx_str(r, kcp_str_c("SCRAM-SHA-256"));
    c->client_host.len = (int32_t)strlen(client_host);
    c->client_host.ptr = kcp_arena_memdup(&p->m.arena, client_host, strlen(client_host) + 1);
    assert_non_null(c->client_host.ptr);
    c->client_port = client_port;
    c->local_host_index = fx_str(r, kcp_str_c("127.0.0.1"));
    c->local_port = 9092;
    c->client_software_name_index = fx_str(r, kcp_str_c(software_name));
    c->client_software_version_index = fx_str(r, kcp_str_c(software_version));
    c->connected_at_ms = r->broker_time_ms - 60000;
    c->authenticated_at_ms = r->broker_time_ms - 59990;
    c->last_activity_at_ms = r->broker_time_ms - 1500;
    c->requests = 7;
    c->bytes_in = 700;
    c->bytes_out = 1400;
    r->rows = grow(r->rows, r->n_rows, sizeof *r->rows);
    r->rows[r->n_rows++] = (kc_connection){c, &p->m};
    r->cap_rows = r->n_rows;
    r->total_count = (int32_t)r->n_rows;
    return c;
}

kcp_describe_connections_response_principal_summary *
fx_summary(kc_result *r, const char *principal, int32_t count, const char *const *listeners,
           const char *const *software, const int32_t *counts)
{
    kcp_arena *a = &page_of(r)->m.arena;
    kcp_describe_connections_response_principal_summary *s = kcp_arena_alloc(a, sizeof *s);
    assert_non_null(s);
    kcp_describe_connections_response_principal_summary_init(s);
    s->principal = kcp_str_c(principal);
    s->connections = count;
    size_t nl = 0, ns = 0, k = 0;
    while (listeners && listeners[nl])
        nl++;
    while (software && software[ns])
        ns++;
    s->listeners.n = (int32_t)nl;
    s->listeners.v = kcp_arena_alloc(a, (nl + 1) * sizeof *s->listeners.v);
    s->client_software.n = (int32_t)ns;
    s->client_software.v = kcp_arena_alloc(a, (ns + 1) * sizeof *s->client_software.v);
    assert_non_null(s->listeners.v);
    assert_non_null(s->client_software.v);
    for (size_t i = 0; i < nl; i++)
        s->listeners.v[i] = (kcp_describe_connections_response_count_by_name){
            kcp_str_c(listeners[i]), counts[k++], {0, NULL}};
    for (size_t i = 0; i < ns; i++)
        s->client_software.v[i] = (kcp_describe_connections_response_count_by_name){
            kcp_str_c(software[i]), counts[k++], {0, NULL}};
    r->summaries = grow((void *)r->summaries, r->n_summaries, sizeof *r->summaries);
    r->summaries[r->n_summaries++] = s;
    r->total_count += count;
    return s;
}

kcp_str fx_bytes(const char *s, size_t n)
{
    kcp_str r = {s, (int32_t)n};
    return r;
}

void fx_free(fx *f)
{
    for (size_t i = 0; i < f->n; i++) {
        kc_result *r = &f->results[i];
        if (r->n_pages)
            kcp_strtab_free(&page_of(r)->strings);
        kc_result_free(r);
    }
    memset(f, 0, sizeof *f);
}

char *fx_python(const char *script, const char *input, size_t input_len)
{
    char path[] = "/tmp/kc-cli-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, input, input_len), (ssize_t)input_len);
    close(fd);
    int out[2];
    assert_int_equal(pipe(out), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execl(PYTHON, PYTHON, "-c", script, path, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    for (;;) {
        if (len + 1024 > cap) {
            cap *= 2;
            text = realloc(text, cap);
            assert_non_null(text);
        }
        ssize_t n = read(out[0], text + len, cap - len - 1);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    text[len] = '\0';
    close(out[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    unlink(path);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        print_error("python failed (status %d) on:\n%.*s\noutput:\n%s\n", status, (int)input_len,
                    input, text);
        fail();
    }
    return text;
}
