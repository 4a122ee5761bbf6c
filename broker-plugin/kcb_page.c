/* The rows of a DescribeConnections page: one formatter per record, the
 * merge of the shard runs by seq, and the answer's body around the rows. */
#include "kcb_page.h"

#include <stdlib.h>
#include <string.h>

typedef kcp_describe_connections_response_connection row_t;
typedef kcp_describe_connections_response resp_t;

struct kcb_page_chunk {
    kcb_page_chunk *next;
    size_t size;
    uint8_t data[];
};

/* Encoded rows go into chunks that double from 16 KiB up to 4 MiB, so a
 * small page takes little memory and a large one few allocations. They come
 * from malloc rather than the response's arena: the arena maps fresh pages
 * for large chunks, while malloc reuses what the last describe freed, and
 * faulting in tens of megabytes of fresh pages costs more than writing
 * them. */
enum { CHUNK_FIRST = 16 << 10, CHUNK_MAX = 4 << 20 };
/* Each encoded row is preceded by its length, so the index need not hold it. */
enum { LEN_PREFIX = 4 };

int kcb_page_init(kcb_page *p, kcb_body body, int16_t version, kcp_arena *arena, size_t max_runs)
{
    memset(p, 0, sizeof *p);
    p->body = body;
    p->version = version;
    p->arena = arena;
    p->max_runs = max_runs;
    kcp_describe_connections_response_connection_init(&p->defaults);
    p->row = p->defaults;
    p->run_start = calloc(max_runs + 1, sizeof *p->run_start);
    return p->run_start ? 0 : -1;
}

void kcb_page_free(kcb_page *p)
{
    while (p->chunks) {
        kcb_page_chunk *next = p->chunks->next;
        free(p->chunks);
        p->chunks = next;
    }
    free(p->rows);
    free(p->run_start);
    free(p->pos);
    free(p->hist);
    memset(p, 0, sizeof *p);
}

/* Makes room for more rows; the scan asks once per run for as many rows as
 * the run can contribute, so the index grows a few times at most. */
static void reserve_rows(kcb_page *p, size_t more)
{
    if (p->n + more <= p->cap)
        return;
    size_t cap = p->n + more;
    if (cap < p->cap * 2)
        cap = p->cap * 2;
    kcb_page_row *v = realloc(p->rows, cap * sizeof *v);
    if (!v) {
        p->oom = true;
        return;
    }
    p->rows = v;
    p->cap = cap;
}

void kcb_page_begin_run(kcb_page *p, bool history, size_t expected_rows)
{
    if (p->n_runs == p->max_runs) { /* a caller bug; refuse rather than overrun */
        p->oom = true;
        return;
    }
    p->run_start[p->n_runs++] = p->n;
    p->history_run = history;
    reserve_rows(p, expected_rows);
}

/* Writes the record into out, a row that starts with the spec's defaults
 * and is reused for every record of the page: each field a record sets is
 * written every time (d gives the default where it has none), and fields
 * it never sets keep their default, so a row costs no clearing. The strings
 * are views of the record's, valid while the record's lock is held. */
static void fill_row(const kcb_rec *r, row_t *out, const row_t *d)
{
    const kcp_str anonymous = KCB_LITERAL_VIEW(KCB_ANONYMOUS), unknown = KCB_LITERAL_VIEW(KCB_UNKNOWN);
    out->connection_id = kcb__id_view(r);
    out->state = r->state;
    out->listener_name = kcb__istr_view(r->listener, KCB_LITERAL_VIEW(""));
    out->security_protocol = r->security_protocol;
    out->principal = kcb__istr_view(r->principal, anonymous);
    out->sasl_mechanism = kcb__istr_view(r->mechanism, KCP_STR_NULL);
    out->client_host = kcb__peer_host_view(r);
    out->client_port = r->peer_port;
    out->local_host = kcb__local_host_view(r);
    out->local_port = r->local_port;
    out->client_id = kcb__istr_view(r->client_id, KCP_STR_NULL);
    out->client_software_name = kcb__istr_view(r->sw_name, unknown);
    out->client_software_version = kcb__istr_view(r->sw_version, unknown);
    out->connected_at_ms = r->connected_at;
    out->authenticated_at_ms = r->authenticated_at;
    out->last_activity_at_ms = atomic_load_explicit(&r->last_activity, memory_order_relaxed);
    out->requests = atomic_load_explicit(&r->requests, memory_order_relaxed);
    out->bytes_in = atomic_load_explicit(&r->bytes_in, memory_order_relaxed);
    out->bytes_out = atomic_load_explicit(&r->bytes_out, memory_order_relaxed);
    out->close_reason = r->close_reason != KCB_CLOSE_NONE
                            ? kcp_str_c(kcb_close_reason_name(r->close_reason))
                            : d->close_reason;
    out->closed_at_ms = r->closed_at;
    out->session_expires_at_ms = r->session_expires_at;
    const kcb_tls *t = r->tls;
    out->tls_protocol = t ? t->v[KCB_TLS_PROTOCOL] : d->tls_protocol;
    out->tls_cipher = t ? t->v[KCB_TLS_CIPHER] : d->tls_cipher;
    out->peer_certificate_subject = t ? t->v[KCB_TLS_SUBJECT] : d->peer_certificate_subject;
    out->peer_certificate_issuer = t ? t->v[KCB_TLS_ISSUER] : d->peer_certificate_issuer;
    out->peer_certificate_serial = t ? t->v[KCB_TLS_SERIAL] : d->peer_certificate_serial;
}

/* Starts a chunk with room for at least need bytes. */
static int new_chunk(kcb_page *p, size_t need)
{
    size_t size = p->chunks ? p->chunks->size * 2 : CHUNK_FIRST;
    if (size > CHUNK_MAX)
        size = CHUNK_MAX;
    if (size < need)
        size = need;
    kcb_page_chunk *c = malloc(sizeof *c + size);
    if (!c)
        return -1;
    c->next = p->chunks;
    c->size = size;
    p->chunks = c;
    p->free_at = c->data;
    p->free_len = size;
    return 0;
}

static void add_encoded(kcb_page *p, const row_t *row, uint64_t seq)
{
    /* Encode into the room left; only when it does not fit is the exact
     * size computed, for a new chunk. */
    kcp_writer w;
    size_t room = p->free_len > LEN_PREFIX ? p->free_len - LEN_PREFIX : 0;
    kcp_writer_init(&w, room ? p->free_at + LEN_PREFIX : NULL, room);
    kcp_describe_connections_response_connection_encode(&w, row, p->version);
    if (w.err) {
        size_t need = kcp_describe_connections_response_connection_size(row, p->version);
        if (need > UINT32_MAX || new_chunk(p, LEN_PREFIX + need)) {
            p->oom = true;
            return;
        }
        kcp_writer_init(&w, p->free_at + LEN_PREFIX, p->free_len - LEN_PREFIX);
        kcp_describe_connections_response_connection_encode(&w, row, p->version);
        if (w.err) {
            p->oom = true;
            return;
        }
    }
    uint32_t len = (uint32_t)w.pos;
    memcpy(p->free_at, &len, LEN_PREFIX);
    p->rows[p->n++] = (kcb_page_row){seq, p->free_at};
    p->free_at += LEN_PREFIX + len;
    p->free_len -= LEN_PREFIX + len;
    p->bytes += len;
}

static size_t row_len(const kcb_page *p, const kcb_page_row *r)
{
    uint32_t len = 0;
    if (p->body == KCB_BODY_SPLICED)
        memcpy(&len, r->data, LEN_PREFIX);
    return len;
}

/* Every string field of a row, for the whole body's deep copy. */
static const size_t row_strings[] = {
    offsetof(row_t, connection_id), offsetof(row_t, listener_name), offsetof(row_t, principal),
    offsetof(row_t, sasl_mechanism), offsetof(row_t, client_host), offsetof(row_t, local_host),
    offsetof(row_t, client_id), offsetof(row_t, client_software_name),
    offsetof(row_t, client_software_version), offsetof(row_t, close_reason),
    offsetof(row_t, tls_protocol), offsetof(row_t, tls_cipher),
    offsetof(row_t, peer_certificate_subject), offsetof(row_t, peer_certificate_issuer),
    offsetof(row_t, peer_certificate_serial),
};

static void add_struct(kcb_page *p, const row_t *row, uint64_t seq)
{
    row_t *copy = kcp_arena_alloc(p->arena, sizeof *copy);
    if (!copy) {
        p->oom = true;
        return;
    }
    *copy = *row;
    for (size_t i = 0; i < sizeof row_strings / sizeof row_strings[0]; i++) {
        kcp_str *f = (kcp_str *)((char *)copy + row_strings[i]);
        if (f->len < 0)
            continue;
        /* Nothing may point into the record once its lock is released. */
        f->ptr = f->len ? kcp_arena_memdup(p->arena, f->ptr, (size_t)f->len) : "";
        if (!f->ptr) {
            p->oom = true;
            return;
        }
    }
    p->rows[p->n++] = (kcb_page_row){seq, (const uint8_t *)copy};
}

void kcb_page_add(kcb_page *p, const kcb_rec *r)
{
    reserve_rows(p, 1);
    if (p->oom)
        return;
    fill_row(r, &p->row, &p->defaults);
    if (p->body == KCB_BODY_SPLICED)
        add_encoded(p, &p->row, r->seq);
    else
        add_struct(p, &p->row, r->seq);
}

static int cmp_seq(const void *a, const void *b)
{
    uint64_t x = (*(const kcb_page_row *const *)a)->seq, y = (*(const kcb_page_row *const *)b)->seq;
    return x < y ? -1 : x > y;
}

static bool is_history(const kcb_page *p, size_t run)
{
    return p->history_run && run + 1 == p->n_runs;
}

static void merge_rewind(kcb_page *p)
{
    for (size_t r = 0; r < p->n_runs; r++)
        p->pos[r] = p->run_start[r];
    p->hist_pos = 0;
}

/* The row of run r that the merge takes next, NULL when the run is done. */
static const kcb_page_row *run_head(const kcb_page *p, size_t r)
{
    if (is_history(p, r))
        return p->hist_pos < p->hist_n ? p->hist[p->hist_pos] : NULL;
    return p->pos[r] < p->run_start[r + 1] ? &p->rows[p->pos[r]] : NULL;
}

/* Takes the row with the smallest seq among the runs' heads (few runs, one
 * per shard: a linear pick), or NULL when every run is done. */
static const kcb_page_row *merge_next(kcb_page *p)
{
    size_t best = SIZE_MAX;
    const kcb_page_row *best_row = NULL;
    for (size_t r = 0; r < p->n_runs; r++) {
        const kcb_page_row *row = run_head(p, r);
        if (row && (!best_row || row->seq < best_row->seq)) {
            best = r;
            best_row = row;
        }
    }
    if (!best_row)
        return NULL;
    if (is_history(p, best))
        p->hist_pos++;
    else
        p->pos[best]++;
    return best_row;
}

int kcb_page_order(kcb_page *p, size_t limit)
{
    p->run_start[p->n_runs] = p->n;
    p->pos = calloc(p->n_runs + 1, sizeof *p->pos);
    if (!p->pos)
        return -1;
    if (p->history_run) {
        /* History rows come in close order: sort them (the ring is small). */
        size_t h0 = p->run_start[p->n_runs - 1];
        p->hist_n = p->n - h0;
        p->hist = malloc((p->hist_n ? p->hist_n : 1) * sizeof *p->hist);
        if (!p->hist)
            return -1;
        for (size_t i = 0; i < p->hist_n; i++)
            p->hist[i] = &p->rows[h0 + i];
        qsort(p->hist, p->hist_n, sizeof *p->hist, cmp_seq);
    }
    merge_rewind(p);
    p->n_order = p->n < limit ? p->n : limit;
    p->order_bytes = 0;
    p->last_seq = 0;
    if (p->n_order == p->n) {
        /* All of them: the last is the largest seq, found at a run's end. */
        p->order_bytes = p->bytes;
        for (size_t r = 0; r < p->n_runs; r++) {
            const kcb_page_row *last = is_history(p, r) ? (p->hist_n ? p->hist[p->hist_n - 1] : NULL)
                                                        : (p->run_start[r + 1] > p->run_start[r]
                                                               ? &p->rows[p->run_start[r + 1] - 1]
                                                               : NULL);
            if (last && last->seq > p->last_seq)
                p->last_seq = last->seq;
        }
        return 0;
    }
    for (size_t i = 0; i < p->n_order; i++) {
        const kcb_page_row *row = merge_next(p);
        p->order_bytes += row_len(p, row);
        p->last_seq = row->seq;
    }
    merge_rewind(p);
    return 0;
}

int kcb_encode_response(const resp_t *resp, int16_t version, uint8_t **out, size_t *out_len)
{
    size_t len = kcp_describe_connections_response_size(resp, version);
    uint8_t *buf = malloc(len ? len : 1);
    kcp_writer w;
    kcp_writer_init(&w, buf, len);
    if (!buf || kcp_describe_connections_response_encode(&w, resp, version) || w.pos != len) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

static bool flexible(int16_t version)
{
    const kcp_api_info *api = kcp_api_info_get(KCP_API_DESCRIBE_CONNECTIONS);
    return api->flexible_from >= 0 && version >= api->flexible_from;
}

/* Where the Connections array sits in the encoding of resp: *head_len bytes
 * come before its count, and after the count of an empty array the rest.
 * Found by encoding resp with no row and with one default row, and checked:
 * the two must differ only by the count and that row's bytes. Returns 0,
 * -1 (memory or encoding) or 1 (the layout is not that). *empty gets the
 * encoding with no row. */
static int find_connections(resp_t *resp, int16_t version, uint8_t **empty, size_t *empty_len,
                            size_t *head_len)
{
    row_t probe;
    kcp_describe_connections_response_connection_init(&probe);
    bool flex = flexible(version);
    uint8_t count0[8], count1[8], *one = NULL, *row = NULL;
    size_t one_len = 0, row_len = kcp_describe_connections_response_connection_size(&probe, version);
    kcp_writer w0, w1, wr;
    kcp_writer_init(&w0, count0, sizeof count0);
    kcp_writer_init(&w1, count1, sizeof count1);
    kcp_write_array_len(&w0, flex, 0);
    kcp_write_array_len(&w1, flex, 1);

    resp->connections.n = 0;
    resp->connections.v = NULL;
    if (kcb_encode_response(resp, version, empty, empty_len))
        return -1;
    resp->connections.n = 1;
    resp->connections.v = &probe;
    int rc = kcb_encode_response(resp, version, &one, &one_len);
    resp->connections.n = 0;
    resp->connections.v = NULL;
    row = malloc(row_len ? row_len : 1);
    if (rc || !row)
        goto fail;
    kcp_writer_init(&wr, row, row_len);
    kcp_describe_connections_response_connection_encode(&wr, &probe, version);
    if (wr.err)
        goto fail;

    /* The counts 0 and 1 differ in their last byte only. */
    const uint8_t *e = *empty;
    size_t n = *empty_len, d = 0;
    while (d < n && d < one_len && e[d] == one[d])
        d++;
    size_t head = d + 1 >= w0.pos ? d + 1 - w0.pos : 0, tail = head + w0.pos;
    bool ok = d + 1 >= w0.pos && tail <= n && one_len == n - w0.pos + w1.pos + row_len &&
              memcmp(e + head, count0, w0.pos) == 0 && memcmp(one, e, head) == 0 &&
              memcmp(one + head, count1, w1.pos) == 0 &&
              memcmp(one + head + w1.pos, row, row_len) == 0 &&
              memcmp(one + head + w1.pos + row_len, e + tail, n - tail) == 0;
    free(one);
    free(row);
    *head_len = head;
    return ok ? 0 : 1;
fail:
    free(one);
    free(row);
    free(*empty);
    *empty = NULL;
    return -1;
}

static int encode_spliced(kcb_page *p, resp_t *resp, uint8_t **out, size_t *out_len)
{
    uint8_t *empty;
    size_t empty_len, head;
    int rc = find_connections(resp, p->version, &empty, &empty_len, &head);
    if (rc) {
        if (rc > 0)
            free(empty);
        return rc;
    }
    bool flex = flexible(p->version);
    size_t count0 = kcp_len32_size(flex, 0), tail = empty_len - head - count0;
    size_t len = head + kcp_len32_size(flex, (int32_t)p->n_order) + p->order_bytes + tail;
    uint8_t *buf = malloc(len);
    if (!buf) {
        free(empty);
        return -1;
    }
    memcpy(buf, empty, head);
    kcp_writer w;
    kcp_writer_init(&w, buf + head, len - head);
    kcp_write_array_len(&w, flex, (int32_t)p->n_order);
    uint8_t *at = buf + head + w.pos;
    /* Each run's rows sit one after another, so the copy reads a few
     * sequential streams, which the hardware prefetches by itself. */
    for (size_t i = 0; i < p->n_order; i++) {
        const kcb_page_row *row = merge_next(p);
        size_t len = row_len(p, row);
        memcpy(at, row->data + LEN_PREFIX, len);
        at += len;
    }
    memcpy(at, empty + head + count0, tail);
    free(empty);
    *out = buf;
    *out_len = len;
    return 0;
}

static int encode_whole(kcb_page *p, resp_t *resp, uint8_t **out, size_t *out_len)
{
    row_t *v = p->n_order ? kcp_arena_alloc(p->arena, p->n_order * sizeof *v) : NULL;
    if (p->n_order && !v)
        return -1;
    for (size_t i = 0; i < p->n_order; i++)
        v[i] = *(const row_t *)(const void *)merge_next(p)->data;
    resp->connections.n = (int32_t)p->n_order;
    resp->connections.v = v;
    return kcb_encode_response(resp, p->version, out, out_len);
}

int kcb_page_encode(kcb_page *p, resp_t *resp, uint8_t **out, size_t *out_len)
{
    if (p->body == KCB_BODY_SPLICED)
        return encode_spliced(p, resp, out, out_len);
    return encode_whole(p, resp, out, out_len);
}
