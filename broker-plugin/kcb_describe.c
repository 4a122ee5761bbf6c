/* The DescribeConnections handler: authorization, filters, paging and
 * summaries over the registry's shards, then the encoded answer.
 *
 * Each shard is locked only while it is scanned; rows of the page are
 * copied out under the lock and everything else (sorting, encoding) runs
 * without one. The request/response hot path never takes these locks. */
#include "kcb_describe.h"
#include "kcb_filter.h"
#include "kcb_strmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef kcp_describe_connections_response_connection row_t;
typedef kcp_describe_connections_response_principal_summary summary_t;
typedef kcp_describe_connections_response_count_by_name count_t;

enum { CURSOR_VERSION = 1, CURSOR_LEN = 9 };

/* Candidate rows of the page, with their paging keys, in runs that are
 * each sorted by seq (one per shard, then the history). */
#define MAX_RUNS 4097
typedef struct rows {
    row_t *v;
    uint64_t *seq;
    size_t n, cap;
    size_t run_start[MAX_RUNS + 1];
    size_t n_runs;
    bool history_run;  /* the last run holds history rows, in close order */
} rows;

typedef struct scan {
    kcp_arena *arena;
    const kcb_filter *filter;
    uint64_t after;       /* cursor: rows with a larger seq only */
    int32_t limit;
    bool oom;
    int64_t total;        /* matches in the whole listing */
    int64_t remaining;    /* matches after the cursor */
    rows page;
    /* summary mode */
    bool summary;
    kcb_strmap principals;
    summary_t *sums;
    size_t n_sums, cap_sums;
} scan;

static kcp_str dup_str(scan *s, const char *src)
{
    if (!src)
        return KCP_STR_NULL;
    size_t n = strlen(src);
    char *p = kcp_arena_memdup(s->arena, src, n);
    if (!p && n) {
        s->oom = true;
        return KCP_STR_NULL;
    }
    kcp_str r = {p ? p : "", (int32_t)n};
    return r;
}

/* Copies one record into a response row; strings go into the arena. */
static void copy_row(scan *s, const kcb_rec *r, row_t *out)
{
    kcp_describe_connections_response_connection_init(out);
    out->connection_id = dup_str(s, r->id);
    out->state = r->state;
    out->listener_name = dup_str(s, r->listener);
    out->security_protocol = r->security_protocol;
    out->principal = dup_str(s, kcb__or(r->principal, KCB_ANONYMOUS));
    out->sasl_mechanism = dup_str(s, r->mechanism);
    out->client_host = dup_str(s, r->peer_host);
    out->client_port = r->peer_port;
    out->local_host = dup_str(s, r->local_host);
    out->local_port = r->local_port;
    out->client_id = dup_str(s, r->client_id);
    out->client_software_name = dup_str(s, kcb__or(r->sw_name, KCB_UNKNOWN));
    out->client_software_version = dup_str(s, kcb__or(r->sw_version, KCB_UNKNOWN));
    out->connected_at_ms = r->connected_at;
    out->authenticated_at_ms = r->authenticated_at;
    out->last_activity_at_ms = atomic_load_explicit(&r->last_activity, memory_order_relaxed);
    out->requests = atomic_load_explicit(&r->requests, memory_order_relaxed);
    out->bytes_in = atomic_load_explicit(&r->bytes_in, memory_order_relaxed);
    out->bytes_out = atomic_load_explicit(&r->bytes_out, memory_order_relaxed);
    if (r->close_reason != KCB_CLOSE_NONE)
        out->close_reason = dup_str(s, kcb_close_reason_name(r->close_reason));
    out->closed_at_ms = r->closed_at;
    out->session_expires_at_ms = r->session_expires_at;
    out->tls_protocol = dup_str(s, r->tls_protocol);
    out->tls_cipher = dup_str(s, r->tls_cipher);
    out->peer_certificate_subject = dup_str(s, r->peer_subject);
    out->peer_certificate_issuer = dup_str(s, r->peer_issuer);
    out->peer_certificate_serial = dup_str(s, r->peer_serial);
}

/* Makes room for more rows; the scan asks once per shard for as many rows
 * as the shard can contribute, so the vector grows a few times at most. */
static void reserve_rows(scan *s, size_t more)
{
    if (s->page.n + more <= s->page.cap)
        return;
    size_t cap = s->page.n + more;
    if (cap < s->page.cap * 2)
        cap = s->page.cap * 2;
    row_t *v = realloc(s->page.v, cap * sizeof *v);
    if (v)
        s->page.v = v;
    uint64_t *seq = v ? realloc(s->page.seq, cap * sizeof *seq) : NULL;
    if (!v || !seq) {
        s->oom = true;
        return;
    }
    s->page.seq = seq;
    s->page.cap = cap;
}

static void add_row(scan *s, const kcb_rec *r)
{
    reserve_rows(s, 1);
    if (s->oom)
        return;
    copy_row(s, r, &s->page.v[s->page.n]);
    s->page.seq[s->page.n++] = r->seq;
}

static void begin_run(scan *s)
{
    s->page.run_start[s->page.n_runs++] = s->page.n;
}

/* Adds one to name's count in a CountByName array grown in the arena. */
static void count_name(scan *s, count_t **v, int32_t *n, const char *name)
{
    for (int32_t i = 0; i < *n; i++) {
        if (strlen(name) == (size_t)(*v)[i].name.len && memcmp((*v)[i].name.ptr, name, (size_t)(*v)[i].name.len) == 0) {
            (*v)[i].connections++;
            return;
        }
    }
    if ((*n & (*n - 1)) == 0) { /* 0, 1, 2, 4...: double the capacity */
        count_t *nv = kcp_arena_alloc(s->arena, (size_t)(*n ? *n * 2 : 1) * sizeof *nv);
        if (!nv) {
            s->oom = true;
            return;
        }
        if (*n)
            memcpy(nv, *v, (size_t)*n * sizeof *nv);
        *v = nv;
    }
    kcp_describe_connections_response_count_by_name_init(&(*v)[*n]);
    (*v)[*n].name = dup_str(s, name);
    (*v)[*n].connections = 1;
    (*n)++;
}

static void add_summary(scan *s, const kcb_rec *r)
{
    const char *principal = kcb__or(r->principal, KCB_ANONYMOUS);
    int64_t idx = kcb_strmap_upsert(&s->principals, principal, strlen(principal), (int64_t)s->n_sums, NULL);
    if (idx < 0) {
        s->oom = true;
        return;
    }
    if ((size_t)idx == s->n_sums) {
        if (s->n_sums == s->cap_sums) {
            size_t cap = s->cap_sums ? s->cap_sums * 2 : 16;
            summary_t *v = realloc(s->sums, cap * sizeof *v);
            if (!v) {
                s->oom = true;
                return;
            }
            s->sums = v;
            s->cap_sums = cap;
        }
        kcp_describe_connections_response_principal_summary_init(&s->sums[idx]);
        s->sums[idx].principal = dup_str(s, principal);
        s->n_sums++;
    }
    summary_t *sum = &s->sums[idx];
    sum->connections++;
    count_name(s, &sum->listeners.v, &sum->listeners.n, r->listener);
    char sw[512];
    snprintf(sw, sizeof sw, "%s/%s", kcb__or(r->sw_name, KCB_UNKNOWN), kcb__or(r->sw_version, KCB_UNKNOWN));
    count_name(s, &sum->client_software.v, &sum->client_software.n, sw);
}

/* Visits one record under its lock: counts it and keeps it if it belongs to
 * the page. in_order says the records come in seq order (live shards), so
 * the scan can stop keeping rows once it has limit of them. */
static void visit(scan *s, const kcb_rec *r, bool in_order, int32_t *kept)
{
    if (!kcb_filter_match(s->filter, r))
        return;
    s->total++;
    if (s->summary) {
        add_summary(s, r);
        return;
    }
    if (r->seq <= s->after)
        return;
    s->remaining++;
    /* A shard's first `limit` rows after the cursor are the only ones that
     * can be on the page; one more tells whether a next page exists. */
    if (in_order && *kept >= s->limit)
        return;
    add_row(s, r);
    (*kept)++;
}

static void scan_registry(kcb_registry *reg, scan *s, bool include_closed)
{
    for (uint32_t i = 0; i < reg->cfg.shards && !s->oom; i++) {
        kcb_shard *sh = &reg->shards[i];
        int32_t kept = 0;
        pthread_mutex_lock(&sh->lock);
        if (!s->summary) {
            begin_run(s);
            reserve_rows(s, sh->count < (uint64_t)s->limit ? (size_t)sh->count : (size_t)s->limit);
        }
        for (const kcb_conn *c = sh->head; c && !s->oom; c = c->next)
            visit(s, &c->rec, true, &kept);
        pthread_mutex_unlock(&sh->lock);
    }
    if (!include_closed || s->oom)
        return;
    pthread_mutex_lock(&reg->history_lock);
    kcb__history_expire(reg, s->filter->now_ms);
    int32_t kept = 0;
    if (!s->summary) {
        begin_run(s);
        s->page.history_run = true;
    }
    for (uint32_t i = 0; i < reg->history_len && !s->oom; i++) {
        const kcb_closed *h = reg->history[(reg->history_head + i) % reg->cfg.history_size];
        visit(s, &h->rec, false, &kept);
    }
    pthread_mutex_unlock(&reg->history_lock);
}

static int cmp_seq(const void *a, const void *b)
{
    uint64_t x = **(const uint64_t *const *)a, y = **(const uint64_t *const *)b;
    return x < y ? -1 : x > y;
}

/* Puts the candidates in seq order: the history run (in close order) is
 * sorted, then the runs are merged, keeping the first limit rows. */
static int finish_page(scan *s, kcp_describe_connections_response *resp)
{
    rows *p = &s->page;
    p->run_start[p->n_runs] = p->n;
    size_t take = p->n < (size_t)s->limit ? p->n : (size_t)s->limit;
    resp->connections.n = (int32_t)take;
    resp->connections.v = kcp_arena_alloc(s->arena, (take ? take : 1) * sizeof(row_t));
    size_t *pos = calloc(p->n_runs + 1, sizeof *pos);
    const uint64_t **hist = NULL;
    size_t hist_n = 0;
    if (!resp->connections.v || !pos) {
        free(pos);
        return -1;
    }
    if (p->history_run) {
        size_t h0 = p->run_start[p->n_runs - 1];
        hist_n = p->n - h0;
        hist = malloc((hist_n ? hist_n : 1) * sizeof *hist);
        if (!hist) {
            free(pos);
            return -1;
        }
        for (size_t i = 0; i < hist_n; i++)
            hist[i] = &p->seq[h0 + i];
        qsort(hist, hist_n, sizeof *hist, cmp_seq);
    }
    for (size_t r = 0; r < p->n_runs; r++)
        pos[r] = p->run_start[r];
    size_t hist_pos = 0;
    uint64_t last = 0;
    for (size_t out = 0; out < take; out++) {
        /* Few runs (one per shard): a linear pick of the smallest head. */
        size_t best = SIZE_MAX, best_row = 0;
        uint64_t best_seq = UINT64_MAX;
        for (size_t r = 0; r < p->n_runs; r++) {
            size_t row;
            if (p->history_run && r + 1 == p->n_runs) {
                if (hist_pos == hist_n)
                    continue;
                row = (size_t)(hist[hist_pos] - p->seq);
            } else {
                if (pos[r] == p->run_start[r + 1])
                    continue;
                row = pos[r];
            }
            if (p->seq[row] < best_seq) {
                best_seq = p->seq[row];
                best = r;
                best_row = row;
            }
        }
        if (p->history_run && best + 1 == p->n_runs)
            hist_pos++;
        else
            pos[best]++;
        resp->connections.v[out] = p->v[best_row];
        last = best_seq;
    }
    free(pos);
    free(hist);
    if (s->remaining > (int64_t)take && take > 0) {
        uint8_t *cur = kcp_arena_alloc(s->arena, CURSOR_LEN);
        if (!cur)
            return -1;
        cur[0] = CURSOR_VERSION;
        for (int b = 0; b < 8; b++)
            cur[1 + b] = (uint8_t)(last >> (56 - 8 * b));
        resp->next_cursor.ptr = cur;
        resp->next_cursor.len = CURSOR_LEN;
    }
    return 0;
}

static bool parse_cursor(kcp_bytes c, uint64_t *after)
{
    *after = 0;
    if (c.len < 0)
        return true;
    if (c.len != CURSOR_LEN || c.ptr[0] != CURSOR_VERSION)
        return false;
    for (int b = 0; b < 8; b++)
        *after = (*after << 8) | c.ptr[1 + b];
    return true;
}

static void set_error(kcp_describe_connections_response *resp, kcp_arena *a, int16_t code,
                      const char *msg)
{
    resp->error_code = code;
    size_t n = strlen(msg);
    char *p = kcp_arena_memdup(a, msg, n);
    resp->error_message.ptr = p ? p : "";
    resp->error_message.len = p ? (int32_t)n : 0;
}

static bool super_user(const kcb_registry *reg, const char *principal)
{
    for (size_t i = 0; i < reg->n_super_users; i++)
        if (strcmp(reg->super_users[i], principal) == 0)
            return true;
    return false;
}

int kcb__describe_decoded(kcb_registry *reg, const char *caller_principal,
                          const kcp_describe_connections_request *req,
                          kcp_describe_connections_response *resp)
{
    kcp_arena *a = &resp->arena;
    int64_t now = kcb__now(reg);
    resp->broker_time_ms = now;

    int authz = reg->host.authorize_describe
                    ? reg->host.authorize_describe(reg->host.opaque, caller_principal)
                    : (super_user(reg, caller_principal) ? KCB_AUTHZ_ALLOW : KCB_AUTHZ_OWN_ONLY);
    if (authz != KCB_AUTHZ_ALLOW && authz != KCB_AUTHZ_OWN_ONLY) {
        set_error(resp, a, KCB_ERR_CLUSTER_AUTHORIZATION_FAILED,
                  "not authorized to DESCRIBE the CLUSTER");
        return 0;
    }

    char err[256];
    kcb_filter filter;
    uint64_t after;
    if (kcb_filter_compile(&filter, req, now, a, err, sizeof err)) {
        set_error(resp, a, KCB_ERR_INVALID_REQUEST, err);
        return 0;
    }
    if (!parse_cursor(req->cursor, &after)) {
        set_error(resp, a, KCB_ERR_INVALID_REQUEST, "Cursor: not a cursor this broker returned");
        return 0;
    }
    if (req->limit < 0) {
        snprintf(err, sizeof err, "Limit: %d is negative (0 asks for the default page size)",
                 (int)req->limit);
        set_error(resp, a, KCB_ERR_INVALID_REQUEST, err);
        return 0;
    }
    if (authz == KCB_AUTHZ_OWN_ONLY) {
        filter.own_principal = kcp_str_c(caller_principal);
        resp->restricted = true;
    }

    scan s;
    memset(&s, 0, sizeof s);
    s.arena = a;
    s.filter = &filter;
    s.after = after;
    s.limit = req->limit == 0 ? reg->cfg.default_page
                              : (req->limit > reg->cfg.max_page ? reg->cfg.max_page : req->limit);
    s.summary = req->summary_only;
    kcb_strmap_init(&s.principals, a);

    scan_registry(reg, &s, req->include_closed);
    int rc = s.oom ? -1 : 0;
    resp->total_count = s.total > INT32_MAX ? INT32_MAX : (int32_t)s.total;
    if (rc == 0 && s.summary) {
        resp->summaries.n = (int32_t)s.n_sums;
        resp->summaries.v = s.n_sums ? kcp_arena_memdup(a, s.sums, s.n_sums * sizeof *s.sums) : NULL;
        if (s.n_sums && !resp->summaries.v)
            rc = -1;
    } else if (rc == 0) {
        rc = finish_page(&s, resp);
    }
    free(s.page.v);
    free(s.page.seq);
    free(s.sums);
    kcb_strmap_free(&s.principals);
    return rc;
}

static int describe_fail(char *errstr, size_t size, const char *what)
{
    if (errstr && size)
        snprintf(errstr, size, "%s", what);
    return -1;
}

/* Encodes resp into a malloc'd buffer handed to the host. */
static int encode_answer(const kcp_describe_connections_response *resp, int16_t version,
                         uint8_t **out, size_t *out_len, char *errstr, size_t errstr_size)
{
    size_t len = kcp_describe_connections_response_size(resp, version);
    uint8_t *buf = malloc(len ? len : 1);
    kcp_writer w;
    kcp_writer_init(&w, buf, len);
    if (!buf || kcp_describe_connections_response_encode(&w, resp, version)) {
        free(buf);
        return describe_fail(errstr, errstr_size, "DescribeConnectionsResponse: could not encode");
    }
    *out = buf;
    *out_len = len;
    return 0;
}

int kcb_describe(kcb_registry *reg, const kcb_conn *caller, int16_t api_version,
                 const uint8_t *request, size_t request_len, uint8_t **response,
                 size_t *response_len, char *errstr, size_t errstr_size)
{
    *response = NULL;
    *response_len = 0;
    kcp_describe_connections_response resp;
    kcp_describe_connections_response_init(&resp);
    if (api_version < KCP_DESCRIBE_CONNECTIONS_REQUEST_MIN_VERSION ||
        api_version > KCP_DESCRIBE_CONNECTIONS_REQUEST_MAX_VERSION) {
        /* Every version is flexible, so the header could be read; answer
         * with a version-0 body whose first fields stay readable forever. */
        resp.broker_time_ms = kcb__now(reg);
        set_error(&resp, &resp.arena, KCB_ERR_UNSUPPORTED_VERSION,
                  "DescribeConnections version not supported by this broker");
        int rc = encode_answer(&resp, 0, response, response_len, errstr, errstr_size);
        kcp_describe_connections_response_free(&resp);
        return rc;
    }
    kcp_reader r;
    kcp_reader_init(&r, request, request_len);
    kcp_describe_connections_request req;
    if (kcp_describe_connections_request_decode(&r, &req, api_version)) {
        describe_fail(errstr, errstr_size, r.errstr);
        kcp_describe_connections_request_free(&req);
        return -1;
    }
    if (r.pos != request_len) {
        kcp_describe_connections_request_free(&req);
        return describe_fail(errstr, errstr_size, "DescribeConnectionsRequest: trailing bytes after the body");
    }

    /* The caller's principal changes only on its own thread, but a host may
     * call from elsewhere: read it under the shard lock. */
    char principal[512];
    pthread_mutex_lock(&caller->shard->lock);
    snprintf(principal, sizeof principal, "%s", kcb__or(caller->rec.principal, KCB_ANONYMOUS));
    pthread_mutex_unlock(&caller->shard->lock);

    int rc = kcb__describe_decoded(reg, principal, &req, &resp);
    if (rc == 0)
        rc = encode_answer(&resp, api_version, response, response_len, errstr, errstr_size);
    else
        describe_fail(errstr, errstr_size, "out of memory while describing connections");
    kcp_describe_connections_response_free(&resp);
    kcp_describe_connections_request_free(&req);
    return rc;
}
