/* The rows of a DescribeConnections page: one formatter per record, the
 * rows written in page order into the answer's buffer with their strings
 * gathered in the page's Strings table, and the answer's fields around
 * them. */
#include "kcb_page.h"

#include <stdlib.h>
#include <string.h>

typedef kcp_describe_connections_response_connection row_t;
typedef kcp_describe_connections_response resp_t;

/* A guess at a row's encoded size, to size the buffer before the first row
 * is known; untouched room costs address space only. */
enum { ROW_GUESS = 256, BUF_FIRST = 4 << 10 };

int kcb_page_init(kcb_page *p, kcb_registry *reg, kcb_body body, int16_t version,
                  kcp_arena *arena)
{
    memset(p, 0, sizeof *p);
    p->body = body;
    p->version = version;
    p->arena = arena;
    p->reg = reg;
    kcp_describe_connections_response_connection_init(&p->defaults);
    p->row = p->defaults;
    /* Describes running at once each need tables: only one finds the
     * spare, the others start their own. */
    p->tab = atomic_exchange_explicit(&reg->spare_tables, NULL, memory_order_acquire);
    if (!p->tab) {
        /* Zeroed: gen 0 marks every memo entry as of no hold. */
        p->tab = calloc(1, sizeof *p->tab);
        if (!p->tab)
            return -1;
        kcp_strtab_init(&p->tab->strings);
        kcp_strtab_set_key(&p->tab->strings, reg->strings_key);
    }
    /* A kept memo's entries name the last page's Strings: a new hold. */
    kcb_page_locked(p);
    /* -1 names no entry: the first row of each field looks its string up. */
    memset(&p->hints, 0xff, sizeof p->hints);
    return 0;
}

static void tables_destroy(kcb_page_tables *t)
{
    if (t) {
        kcp_strtab_free(&t->strings);
        free(t);
    }
}

void kcb_page_free(kcb_page *p)
{
    free(p->buf);
    free(p->structs);
    if (p->tab) {
        kcp_strtab_reset(&p->tab->strings);
        kcb_page_tables *none = NULL;
        if (!atomic_compare_exchange_strong_explicit(&p->reg->spare_tables, &none, p->tab,
                                                     memory_order_release, memory_order_relaxed))
            tables_destroy(p->tab); /* another page gave its tables back first */
    }
    memset(p, 0, sizeof *p);
}

void kcb_page_free_spare(kcb_registry *reg)
{
    tables_destroy(atomic_exchange_explicit(&reg->spare_tables, NULL, memory_order_acquire));
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

/* The Strings index of s (-1 for null) through the field's hint, which is
 * an index, never a pointer: the record's strings may be freed and their
 * addresses reused once a shard is unlocked, so only bytes are compared.
 * Running out of memory marks the page. */
static inline int32_t str_index(kcb_page *p, kcp_str s, int32_t *hint)
{
    int32_t i = kcp_strtab_add_hint(&p->tab->strings, s, hint);
    if (i < -1)
        p->oom = true;
    return i;
}

/* Empties the memo by moving to a new generation. */
static void memo_forget(kcb_page_tables *t)
{
    t->memo_used = 0;
    /* Wrapping to 0 would revive the zeroed entries: clear them instead. */
    if (++t->gen == 0) {
        memset(t->memo, 0, sizeof t->memo);
        t->gen = 1;
    }
}

void kcb_page_locked(kcb_page *p)
{
    memo_forget(p->tab);
}

/* Where the memo looks for s first. Fibonacci hashing: the top bits of the
 * product mix every bit of the address, of which malloc's alignment leaves
 * the lowest alike. */
static inline uint32_t memo_slot(const kcb_istr *s)
{
    return (uint32_t)(((uint64_t)(uintptr_t)s * 0x9e3779b97f4a7c15u) >> (64 - KCB_PAGE_MEMO_BITS));
}

/* istr_index() when s is not in its first memo slot: the rest of its probe,
 * then Strings, remembering the answer. */
static int32_t istr_miss(kcb_page *p, const kcb_istr *s, int32_t *hint)
{
    kcb_page_tables *t = p->tab;
    kcb_page_memo *m;
    for (uint32_t at = memo_slot(s);; at = (at + 1) & (KCB_PAGE_MEMO - 1)) {
        m = &t->memo[at];
        if (m->gen != t->gen)
            break;
        if (m->s == s)
            return m->index;
    }
    int32_t i = str_index(p, kcb__istr_view(s, KCP_STR_NULL), hint);
    if (i < 0)
        return i;
    /* Half full at most, so that probes stay short and one always ends;
     * past that the memo starts over (it only saves lookups). */
    if (t->memo_used >= KCB_PAGE_MEMO / 2) {
        memo_forget(t);
        return i;
    }
    t->memo_used++;
    m->s = s;
    m->index = i;
    m->gen = t->gen;
    return i;
}

/* The same for a shared string (NULL gives fallback), first by address. */
static inline int32_t istr_index(kcb_page *p, const kcb_istr *s, kcp_str fallback, int32_t *hint)
{
    if (!s)
        return str_index(p, fallback, hint);
    const kcb_page_memo *m = &p->tab->memo[memo_slot(s)];
    if (m->gen == p->tab->gen && m->s == s)
        return m->index;
    return istr_miss(p, s, hint);
}

static int32_t tls_index(kcb_page *p, const kcb_tls *t, int k)
{
    return str_index(p, t->v[k], &p->hints.tls[k]);
}

/* Writes the record into out, a row that starts with the spec's defaults
 * and is reused for every record of the page: each field a record sets is
 * written every time (d gives the default where it has none), and fields
 * it never sets keep their default, so a row costs no clearing. The id is
 * a view of the record's, valid while the record's lock is held; every
 * other string is copied into the page's Strings. */
static void fill_row(kcb_page *p, const kcb_rec *r, row_t *out, const row_t *d)
{
    const kcp_str anonymous = KCB_LITERAL_VIEW(KCB_ANONYMOUS), unknown = KCB_LITERAL_VIEW(KCB_UNKNOWN);
    kcb_page_hints *h = &p->hints;
    out->connection_id = kcb__id_view(r);
    out->state = r->state;
    out->listener_name_index = istr_index(p, r->listener, KCB_LITERAL_VIEW(""), &h->listener);
    out->security_protocol = r->security_protocol;
    out->principal_index = istr_index(p, r->principal, anonymous, &h->principal);
    out->sasl_mechanism_index = istr_index(p, r->mechanism, KCP_STR_NULL, &h->mechanism);
    out->client_host = kcb__peer_host_view(r);
    out->client_port = r->peer_port;
    out->local_host_index = str_index(p, kcb__local_host_view(r), &h->local_host);
    out->local_port = r->local_port;
    out->client_id_index = istr_index(p, r->client_id, KCP_STR_NULL, &h->client_id);
    out->client_software_name_index = istr_index(p, r->sw_name, unknown, &h->sw_name);
    out->client_software_version_index = istr_index(p, r->sw_version, unknown, &h->sw_version);
    out->connected_at_ms = r->connected_at;
    out->authenticated_at_ms = r->authenticated_at;
    out->last_activity_at_ms = atomic_load_explicit(&r->last_activity, memory_order_relaxed);
    out->requests = atomic_load_explicit(&r->requests, memory_order_relaxed);
    out->bytes_in = atomic_load_explicit(&r->bytes_in, memory_order_relaxed);
    out->bytes_out = atomic_load_explicit(&r->bytes_out, memory_order_relaxed);
    out->close_reason_index =
        r->close_reason != KCB_CLOSE_NONE
            ? str_index(p, kcp_str_c(kcb_close_reason_name(r->close_reason)), &h->close_reason)
            : d->close_reason_index;
    out->closed_at_ms = r->closed_at;
    out->session_expires_at_ms = r->session_expires_at;
    const kcb_tls *t = r->tls;
    out->tls_protocol_index = t ? tls_index(p, t, KCB_TLS_PROTOCOL) : d->tls_protocol_index;
    out->tls_cipher_index = t ? tls_index(p, t, KCB_TLS_CIPHER) : d->tls_cipher_index;
    out->peer_certificate_subject_index =
        t ? tls_index(p, t, KCB_TLS_SUBJECT) : d->peer_certificate_subject_index;
    out->peer_certificate_issuer_index =
        t ? tls_index(p, t, KCB_TLS_ISSUER) : d->peer_certificate_issuer_index;
    out->peer_certificate_serial_index =
        t ? tls_index(p, t, KCB_TLS_SERIAL) : d->peer_certificate_serial_index;
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
    /* Nothing may point into the record once its lock is released; the
     * client host is a slice of the id (kcb_rec), the other strings are in
     * the page's Strings already. */
    kcp_str *id = &copy->connection_id;
    const char *old = id->ptr;
    id->ptr = id->len ? kcp_arena_memdup(p->arena, id->ptr, (size_t)id->len) : "";
    if (!id->ptr) {
        p->oom = true;
        return;
    }
    if (copy->client_host.len > 0)
        copy->client_host.ptr = id->ptr + (copy->client_host.ptr - old);
    else if (copy->client_host.len == 0)
        copy->client_host.ptr = "";
    p->structs[p->n++] = copy;
}

void kcb_page_add(kcb_page *p, const kcb_rec *r)
{
    if (p->oom)
        return;
    fill_row(p, r, &p->row, &p->defaults);
    if (p->oom)
        return;
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

/* Finds the layout on resp without its Strings, whose encodings are then
 * small: Strings comes after Connections, so the bytes before the rows do
 * not depend on it (encode_spliced() checks that they do not). */
static int find_connections_bare(resp_t *resp, int16_t version, uint8_t **empty, size_t *empty_len,
                                 size_t *head_len)
{
    kcp_str *strings = resp->strings.v;
    int32_t n = resp->strings.n;
    resp->strings.v = NULL;
    resp->strings.n = 0;
    int rc = find_connections(resp, version, empty, empty_len, head_len);
    resp->strings.v = strings;
    resp->strings.n = n;
    return rc;
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
    int rc = find_connections_bare(resp, p->version, &empty, &empty_len, &head);
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
    int rc = find_connections_bare(resp, p->version, &empty, &empty_len, &head);
    if (rc) {
        if (rc > 0)
            free(empty);
        return rc;
    }
    bool flex = flexible(p->version);
    size_t count0 = kcp_len32_size(flex, 0), lead = head + count0;
    size_t full = kcp_describe_connections_response_size(resp, p->version); /* no rows */
    size_t count_len = kcp_len32_size(flex, (int32_t)p->n);
    size_t rows = p->end > p->reserved ? p->end - p->reserved : 0, at = head + count_len;
    size_t from = p->end > p->reserved ? p->reserved : at;
    if (full < lead) {
        free(empty);
        return 1;
    }
    size_t len = at + rows + full - lead;
    if (grow_buf(p, (from > at ? from : at) + rows + full - lead)) {
        free(empty);
        return -1;
    }
    /* Only when the guess of kcb_page_expect() was wrong. */
    if (from != at)
        memmove(p->buf + at, p->buf + from, rows);
    /* The response without rows is encoded once, Strings and all, at the
     * place where what follows its empty Connections lands right after the
     * rows. Its first lead bytes fall on the rows' last ones (at + rows >=
     * lead, as a count is never shorter than the count 0), kept aside
     * meanwhile; the head and count are written over them afterwards. On
     * failure the rows are lost: the caller gives up or starts again. */
    size_t x = at + rows - lead, keep = rows < lead ? rows : lead;
    uint8_t *kept = malloc(keep ? keep : 1);
    if (!kept) {
        free(empty);
        return -1;
    }
    memcpy(kept, p->buf + at + rows - keep, keep);
    kcp_writer w;
    kcp_writer_init(&w, p->buf + x, full);
    rc = kcp_describe_connections_response_encode(&w, resp, p->version) || w.pos != full ? -1 : 0;
    if (rc == 0 && memcmp(p->buf + x, empty, lead) != 0)
        rc = 1; /* Strings changed the bytes before the rows */
    if (rc == 0) {
        memcpy(p->buf + at + rows - keep, kept, keep);
        memcpy(p->buf, empty, head);
        kcp_writer_init(&w, p->buf + head, count_len);
        kcp_write_array_len(&w, flex, (int32_t)p->n);
        *out = p->buf;
        *out_len = len;
        p->buf = NULL;
        p->cap = p->reserved = p->end = 0;
    }
    free(kept);
    free(empty);
    return rc;
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
    /* The rows name these; encode_spliced() puts them after the rows. */
    resp->strings.n = p->tab->strings.n;
    resp->strings.v = p->tab->strings.v;
    if (p->body == KCB_BODY_SPLICED)
        return encode_spliced(p, resp, out, out_len);
    return encode_whole(p, resp, out, out_len);
}
