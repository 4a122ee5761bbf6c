/* One broker's answer: status, error message and the pages collected. */
#include "kc_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *kc_status_name(int status)
{
    switch (status) {
    case KC_OK: return "ok";
    case KC_UNSUPPORTED: return "unsupported";
    case KC_UNAUTHORIZED: return "unauthorized";
    case KC_UNREACHABLE: return "unreachable";
    default: return "error";
    }
}

/* Room for a message that names the broker, its address and a cause that
 * may quote the broker's own ErrorMessage. */
#define KC_ERROR_MAX 1024

void kc_result_vfail(kc_result *r, int status, const char *fmt, va_list ap)
{
    char where[300], cause[KC_ERROR_MAX - 320];
    kc_host_port(where, sizeof where, r->broker.host ? r->broker.host : "?", r->broker.port);
    kc_vfmt(cause, sizeof cause, fmt, ap);
    free(r->error);
    r->error = malloc(KC_ERROR_MAX);
    if (r->error)
        kc_fmt(r->error, KC_ERROR_MAX, "broker %d (%s): %s", (int)r->broker.node_id, where, cause);
    r->status = status == KC_OK ? KC_ERROR : status;
}

void kc_result_fail(kc_result *r, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kc_result_vfail(r, status, fmt, ap);
    va_end(ap);
}

int kc_result_begin(kc_result *r, const kc_broker *b)
{
    memset(r, 0, sizeof *r);
    r->broker.node_id = b->node_id;
    r->broker.port = b->port;
    r->broker.host = strdup(b->host ? b->host : "");
    r->broker_time_ms = -1;
    r->status = KC_OK;
    if (!r->broker.host) {
        kc_result_fail(r, KC_ERROR, "out of memory");
        return -1;
    }
    return 0;
}

/* Grows *v (of *cap elements of size elem) to hold need elements. */
static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 4;
    while (n < need)
        n *= 2;
    void *p = realloc(*v, n * elem);
    if (!p)
        return -1;
    *v = p;
    *cap = n;
    return 0;
}

/* Capacities are not in kc_result (its layout is the public contract), so
 * arrays grow to the next power of two of their length. */
static size_t cap_of(size_t n)
{
    size_t c = 4;
    while (c < n)
        c *= 2;
    return n ? c : 0;
}

int kc_result_add_page(kc_result *r, uint8_t *frame, kcp_describe_connections_response *page,
                       int64_t max_rows)
{
    size_t pcap = cap_of(r->n_pages), bcap = pcap;
    size_t rows = page->connections.n > 0 ? (size_t)page->connections.n : 0;
    size_t sums = page->summaries.n > 0 ? (size_t)page->summaries.n : 0;
    if (max_rows > 0 && r->n_rows + rows > (uint64_t)max_rows)
        rows = (size_t)max_rows - r->n_rows;
    size_t rcap = cap_of(r->n_rows), scap = cap_of(r->n_summaries);
    void *pages = r->pages, *bodies = r->bodies, *vrows = (void *)r->rows, *vsums = (void *)r->summaries;
    int rc = grow(&pages, &pcap, r->n_pages + 1, sizeof *r->pages);
    r->pages = pages;
    rc = rc ? rc : grow(&bodies, &bcap, r->n_pages + 1, sizeof *r->bodies);
    r->bodies = bodies;
    rc = rc ? rc : grow(&vrows, &rcap, r->n_rows + rows, sizeof *r->rows);
    r->rows = vrows;
    rc = rc ? rc : grow(&vsums, &scap, r->n_summaries + sums, sizeof *r->summaries);
    r->summaries = vsums;
    if (rc) {
        kcp_describe_connections_response_free(page);
        free(frame);
        return -1;
    }
    if (r->n_pages == 0) {
        r->broker_time_ms = page->broker_time_ms;
        r->total_count = page->total_count;
    }
    r->restricted |= page->restricted;
    /* The decoded arrays live in the page's arena, not in the struct, so
     * row pointers stay valid when pages[] moves. */
    r->pages[r->n_pages] = *page;
    r->bodies[r->n_pages] = frame;
    const kcp_describe_connections_response *p = &r->pages[r->n_pages++];
    for (size_t i = 0; i < rows; i++)
        r->rows[r->n_rows++] = &p->connections.v[i];
    for (size_t i = 0; i < sums; i++)
        r->summaries[r->n_summaries++] = &p->summaries.v[i];
    memset(page, 0, sizeof *page);
    return 0;
}

void kc_result_free(kc_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_pages; i++) {
        kcp_describe_connections_response_free(&r->pages[i]);
        free(r->bodies[i]);
    }
    free(r->pages);
    free(r->bodies);
    free((void *)r->rows);
    free((void *)r->summaries);
    free(r->error);
    free(r->broker.host);
    memset(r, 0, sizeof *r);
}

void kc_brokers_free(kc_broker *brokers, size_t n)
{
    for (size_t i = 0; brokers && i < n; i++)
        free(brokers[i].host);
    free(brokers);
}
