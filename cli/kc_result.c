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
    /* Node ids are not negative: -1 is a bootstrap server (kc_scout.c). */
    if (r->error && r->broker.node_id < 0)
        kc_fmt(r->error, KC_ERROR_MAX, "bootstrap server (%s): %s", where, cause);
    else if (r->error)
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
    r->describe_version = -1;
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

/* Capacities of pages and summaries are not in kc_result, so those arrays
 * grow to the next power of two of their length. */
static size_t cap_of(size_t n)
{
    size_t c = 4;
    while (c < n)
        c *= 2;
    return n ? c : 0;
}

/* Beyond this many rows a broker's TotalCount is not taken on trust. */
#define KC_RESERVE_MAX_ROWS ((size_t)1 << 22)

/* Room for every row the first page announces (TotalCount, up to
 * max_rows), so a large listing takes one allocation of the right size
 * rather than doublings that copy and overshoot. TotalCount is only the
 * broker's word: past KC_RESERVE_MAX_ROWS, or if that much cannot be had,
 * rows grow as they come. */
static void reserve_rows(kc_result *r, const kcp_describe_connections_response *first, int64_t max_rows)
{
    uint64_t want = first->total_count > 0 ? (uint64_t)first->total_count : 0;
    if (max_rows > 0 && want > (uint64_t)max_rows)
        want = (uint64_t)max_rows;
    if (want > KC_RESERVE_MAX_ROWS)
        want = KC_RESERVE_MAX_ROWS;
    if (want <= r->cap_rows)
        return;
    kc_connection *p = realloc(r->rows, (size_t)want * sizeof *p);
    if (p) {
        r->rows = p;
        r->cap_rows = (size_t)want;
    }
}

/* ---- keeping only the bytes a page refers to ----------------------------- */

/* A decoded page points into its frame for every string and bytes field
 * (unknown tagged fields included), but the frame also holds every number
 * of every row, which the decoded rows hold already: that is most of its
 * bytes. So what the page refers to is copied into one buffer of its exact
 * size and the frame goes. Two walks over the page: the first (out NULL)
 * measures, the second copies and repoints. */
typedef struct mover {
    uintptr_t lo, hi; /* the frame */
    uint8_t *out;     /* NULL while measuring */
    size_t size;
} mover;

/* Where ptr (len bytes) lives once the frame is gone. An empty string
 * points at a constant, so that nothing is left pointing into the frame. */
static const void *move(void *opaque, const void *ptr, int32_t len)
{
    mover *mv = opaque;
    uintptr_t at = (uintptr_t)ptr;
    if (!ptr || at < mv->lo || at >= mv->hi || len < 0)
        return ptr;
    if (len == 0)
        return "";
    const void *to = mv->out ? memcpy(mv->out + mv->size, ptr, (size_t)len) : ptr;
    mv->size += (size_t)len;
    return to;
}

/* Moves what m refers to out of frame (len bytes) into *bytes (malloc'd;
 * NULL when m refers to nothing there). Returns 0, or -1 when out of
 * memory (m unchanged). */
static int keep_referenced(kcp_describe_connections_response *m, const uint8_t *frame, size_t len,
                           uint8_t **bytes)
{
    mover mv = {(uintptr_t)frame, (uintptr_t)frame + len, NULL, 0};
    kcp_describe_connections_response_views(m, move, &mv);
    *bytes = NULL;
    if (mv.size == 0)
        return 0;
    mv.out = malloc(mv.size);
    if (!mv.out)
        return -1;
    mv.size = 0;
    kcp_describe_connections_response_views(m, move, &mv);
    *bytes = mv.out;
    return 0;
}

int kc_result_add_page(kc_result *r, uint8_t *frame, size_t frame_len,
                       kcp_describe_connections_response *page, int64_t max_rows)
{
    uint8_t *bytes = NULL;
    size_t pcap = cap_of(r->n_pages), bcap = pcap;
    size_t rows = page->connections.n > 0 ? (size_t)page->connections.n : 0;
    size_t sums = page->summaries.n > 0 ? (size_t)page->summaries.n : 0;
    if (max_rows > 0 && r->n_rows + rows > (uint64_t)max_rows)
        rows = (size_t)max_rows - r->n_rows;
    if (r->n_pages == 0)
        reserve_rows(r, page, max_rows);
    size_t scap = cap_of(r->n_summaries);
    void *pages = r->pages, *bodies = r->bodies, *vrows = r->rows, *vsums = (void *)r->summaries;
    kcp_describe_connections_response *p = malloc(sizeof *p);
    int rc = p ? keep_referenced(page, frame, frame_len, &bytes) : -1;
    rc = rc ? rc : grow(&pages, &pcap, r->n_pages + 1, sizeof *r->pages);
    r->pages = pages;
    rc = rc ? rc : grow(&bodies, &bcap, r->n_pages + 1, sizeof *r->bodies);
    r->bodies = bodies;
    rc = rc ? rc : grow(&vrows, &r->cap_rows, r->n_rows + rows, sizeof *r->rows);
    r->rows = vrows;
    rc = rc ? rc : grow(&vsums, &scap, r->n_summaries + sums, sizeof *r->summaries);
    r->summaries = vsums;
    free(frame);
    if (rc) {
        free(p);
        free(bytes);
        kcp_describe_connections_response_free(page);
        return -1;
    }
    if (r->n_pages == 0) {
        r->broker_time_ms = page->broker_time_ms;
        r->total_count = page->total_count;
    }
    r->restricted |= page->restricted;
    /* The decoded arrays live in the page's arena, so moving the struct
     * keeps them where they are. */
    *p = *page;
    memset(page, 0, sizeof *page);
    r->pages[r->n_pages] = p;
    r->bodies[r->n_pages++] = bytes;
    for (size_t i = 0; i < rows; i++)
        r->rows[r->n_rows++] = (kc_connection){&p->connections.v[i], p};
    for (size_t i = 0; i < sums; i++)
        r->summaries[r->n_summaries++] = &p->summaries.v[i];
    return 0;
}

void kc_result_free(kc_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_pages; i++) {
        kcp_describe_connections_response_free(r->pages[i]);
        free(r->pages[i]);
        free(r->bodies[i]);
    }
    free(r->pages);
    free(r->bodies);
    free(r->rows);
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

bool kc_result_truncated(const kc_result *r)
{
    return r->status == KC_OK && r->total_count > 0 && (size_t)r->total_count > r->n_rows;
}
