/* The rows of a DescribeConnections page: one formatter per record, the
 * rows written in page order into the answer's buffer, and the answer's
 * fields around them. */
#include "kcb_page.h"

#include <stdlib.h>
#include <string.h>

typedef kcp_describe_connections_response_connection row_t;
typedef kcp_describe_connections_response resp_t;

/* A guess at a row's encoded size, to size the buffer before the first row
 * is known; untouched room costs address space only. */
enum { ROW_GUESS = 256, BUF_FIRST = 4 << 10 };

int kcb_page_init(kcb_page *p, kcb_body body, int16_t version, kcp_arena *arena)
{
    memset(p, 0, sizeof *p);
    p->body = body;
    p->version = version;
    p->arena = arena;
    kcp_describe_connections_response_connection_init(&p->defaults);
    p->row = p->defaults;
    return 0;
}

void kcb_page_free(kcb_page *p)
{
    free(p->buf);
    free(p->structs);
    memset(p, 0, sizeof *p);
}

/* Makes the spliced buffer hold at least need bytes. Growth doubles, so
 * the rows are moved a few times at most, and realloc moves large blocks by
 * remapping their pages rather than copying them. */
static int grow_buf(kcb_page *p, size_t need)
{
    if (need <= p->cap)
        return 0;
    size_t cap = p->cap * 2 > need ? p->cap * 2 : need;
    uint8_t *b = realloc(p->buf, cap);
    if (!b)
        return -1;
    p->buf = b;
    p->cap = cap;
    return 0;
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

static void add_encoded(kcb_page *p, const row_t *row)
{
    if (!p->buf && grow_buf(p, BUF_FIRST)) {
        p->oom = true;
        return;
    }
    if (p->end < p->reserved)
        p->end = p->reserved;
    /* Encode into the room left; only when it does not fit is the exact
     * size computed, to grow the buffer. */
    kcp_writer w;
    kcp_writer_init(&w, p->buf + p->end, p->cap - p->end);
    kcp_describe_connections_response_connection_encode(&w, row, p->version);
    if (w.err) {
        size_t need = kcp_describe_connections_response_connection_size(row, p->version);
        if (grow_buf(p, p->end + need)) {
            p->oom = true;
            return;
        }
        kcp_writer_init(&w, p->buf + p->end, p->cap - p->end);
        kcp_describe_connections_response_connection_encode(&w, row, p->version);
        if (w.err) {
            p->oom = true;
            return;
        }
    }
    p->end += w.pos;
    p->n++;
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

static void add_struct(kcb_page *p, const row_t *row)
{
    if (p->n == p->cap_structs) {
        size_t cap = p->cap_structs ? p->cap_structs * 2 : 64;
        const row_t **v = realloc(p->structs, cap * sizeof *v);
        if (!v) {
            p->oom = true;
            return;
        }
        p->structs = v;
        p->cap_structs = cap;
    }
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
    p->structs[p->n++] = copy;
}

void kcb_page_add(kcb_page *p, const kcb_rec *r)
{
    if (p->oom)
        return;
    fill_row(r, &p->row, &p->defaults);
    if (p->body == KCB_BODY_SPLICED)
        add_encoded(p, &p->row);
    else
        add_struct(p, &p->row);
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

void kcb_page_expect(kcb_page *p, resp_t *resp, size_t expect_rows, int32_t cursor_len)
{
    if (p->body != KCB_BODY_SPLICED || p->buf)
        return;
    uint8_t dummy[64] = {0}, *empty = NULL;
    size_t empty_len, head;
    kcp_bytes saved = resp->next_cursor;
    if (cursor_len >= 0 && (size_t)cursor_len <= sizeof dummy) {
        resp->next_cursor.ptr = dummy;
        resp->next_cursor.len = cursor_len;
    }
    int rc = find_connections(resp, p->version, &empty, &empty_len, &head);
    resp->next_cursor = saved;
    if (rc >= 0)
        free(empty);
    if (rc) /* kcb_page_encode() will find out again and say so */
        return;
    size_t rows = expect_rows > INT32_MAX ? INT32_MAX : expect_rows;
    p->reserved = head + kcp_len32_size(flexible(p->version), (int32_t)rows);
    p->end = p->reserved;
    size_t want = p->reserved + rows * ROW_GUESS;
    if (grow_buf(p, want > BUF_FIRST ? want : BUF_FIRST))
        p->oom = true;
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
    size_t count_len = kcp_len32_size(flex, (int32_t)p->n);
    size_t rows = p->end > p->reserved ? p->end - p->reserved : 0, at = head + count_len;
    size_t from = p->end > p->reserved ? p->reserved : at;
    size_t len = at + rows + tail;
    if (grow_buf(p, (from > at ? from : at) + rows + tail)) {
        free(empty);
        return -1;
    }
    /* Only when the guess of kcb_page_expect() was wrong. */
    if (from != at)
        memmove(p->buf + at, p->buf + from, rows);
    memcpy(p->buf, empty, head);
    kcp_writer w;
    kcp_writer_init(&w, p->buf + head, count_len);
    kcp_write_array_len(&w, flex, (int32_t)p->n);
    memcpy(p->buf + at + rows, empty + head + count0, tail);
    free(empty);
    *out = p->buf;
    *out_len = len;
    p->buf = NULL;
    p->cap = p->reserved = p->end = 0;
    return 0;
}

static int encode_whole(kcb_page *p, resp_t *resp, uint8_t **out, size_t *out_len)
{
    row_t *v = p->n ? kcp_arena_alloc(p->arena, p->n * sizeof *v) : NULL;
    if (p->n && !v)
        return -1;
    for (size_t i = 0; i < p->n; i++)
        v[i] = *p->structs[i];
    resp->connections.n = (int32_t)p->n;
    resp->connections.v = v;
    return kcb_encode_response(resp, p->version, out, out_len);
}

int kcb_page_encode(kcb_page *p, resp_t *resp, uint8_t **out, size_t *out_len)
{
    if (p->oom)
        return -1;
    if (p->body == KCB_BODY_SPLICED)
        return encode_spliced(p, resp, out, out_len);
    return encode_whole(p, resp, out, out_len);
}
