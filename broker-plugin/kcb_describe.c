/* The DescribeConnections handler: authorization, filters, the scan of the
 * registry's shards and history, summaries, then the encoded answer.
 *
 * Each shard is locked only while it is scanned; the rows of the page are
 * taken (encoded) under the lock and the rest of the answer is written
 * without one. The request/response hot path never takes these locks.
 *
 * Paging order: shard by shard, each in accept (seq) order, then the
 * closed history by seq. A row's place is (phase, seq), phase being its
 * shard's index or, for the history, the number of shards; a connection
 * keeps both while it is open, so a listing meets it once. This order lets
 * each shard's rows go straight into the answer as they are read. */
#include "kcb_describe.h"
#include "kcb_filter.h"
#include "kcb_page.h"
#include "kcb_strmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef kcp_describe_connections_response_principal_summary summary_t;
typedef kcp_describe_connections_response_count_by_name count_t;

/* Cursor: its version, then the last row's phase (4 bytes) and seq (8),
 * big-endian. */
enum { CURSOR_VERSION = 2, CURSOR_LEN = 13 };
/* Records the scan prefetches ahead of the one it visits. */
enum { SCAN_AHEAD = 8 };

typedef struct scan {
    kcp_arena *arena;
    const kcb_filter *filter;
    bool has_cursor;      /* rows after (after_phase, after) only */
    uint32_t after_phase;
    uint64_t after;
    int32_t limit;
    int32_t kept;         /* rows on the page */
    uint32_t last_phase;  /* place of the page's last row */
    uint64_t last_seq;
    bool oom;
    int64_t total;        /* matches in the whole listing */
    int64_t remaining;    /* matches after the cursor */
    kcb_page *page;
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
    const char *principal = kcb__istr_or(r->principal, KCB_ANONYMOUS);
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
    count_name(s, &sum->listeners.v, &sum->listeners.n, kcb__istr_or(r->listener, ""));
    /* NAME/VERSION whole, however long the client made them. */
    const char *name = kcb__istr_or(r->sw_name, KCB_UNKNOWN);
    const char *version = kcb__istr_or(r->sw_version, KCB_UNKNOWN);
    size_t need = strlen(name) + strlen(version) + 2;
    char small[256], *sw = need <= sizeof small ? small : malloc(need);
    if (!sw) {
        s->oom = true;
        return;
    }
    snprintf(sw, need, "%s/%s", name, version);
    count_name(s, &sum->client_software.v, &sum->client_software.n, sw);
    if (sw != small)
        free(sw);
}

/* Whether the row at (phase, seq) comes after the cursor's place. */
static bool after_cursor(const scan *s, uint32_t phase, uint64_t seq)
{
    return !s->has_cursor || phase > s->after_phase || (phase == s->after_phase && seq > s->after);
}

/* Takes a record after the cursor onto the page unless the page is full. */
static void keep(scan *s, const kcb_rec *r, uint32_t phase)
{
    s->remaining++;
    if (s->kept >= s->limit)
        return;
    kcb_page_add(s->page, r);
    s->oom |= s->page->oom;
    s->kept++;
    s->last_phase = phase;
    s->last_seq = r->seq;
}

/* Visits one record of a shard under its lock, in page order: counts it
 * and keeps it if it belongs to the page. */
static void visit(scan *s, const kcb_rec *r, uint32_t phase)
{
    if (!kcb_filter_match(s->filter, r))
        return;
    s->total++;
    if (s->summary)
        add_summary(s, r);
    else if (after_cursor(s, phase, r->seq))
        keep(s, r, phase);
}

static int cmp_seq(const void *a, const void *b)
{
    uint64_t x = (*(const kcb_rec *const *)a)->seq, y = (*(const kcb_rec *const *)b)->seq;
    return x < y ? -1 : x > y;
}

/* The history holds records in close order: those after the cursor are
 * sorted by seq (the ring is small) before they join the page. Caller holds
 * the history lock. */
static void scan_history(kcb_registry *reg, scan *s)
{
    uint32_t phase = reg->cfg.shards;
    const kcb_rec **v = s->summary ? NULL : malloc((reg->history_len ? reg->history_len : 1) * sizeof *v);
    size_t n = 0;
    if (!s->summary && !v) {
        s->oom = true;
        return;
    }
    for (uint32_t i = 0; i < reg->history_len && !s->oom; i++) {
        const kcb_rec *r = &reg->history[(reg->history_head + i) % reg->cfg.history_size]->rec;
        if (!kcb_filter_match(s->filter, r))
            continue;
        s->total++;
        if (s->summary)
            add_summary(s, r);
        else if (after_cursor(s, phase, r->seq))
            v[n++] = r;
    }
    if (!s->summary)
        qsort(v, n, sizeof *v, cmp_seq);
    for (size_t i = 0; i < n && !s->oom; i++)
        keep(s, v[i], phase);
    free(v);
}

static void scan_registry(kcb_registry *reg, scan *s, bool include_closed)
{
    for (uint32_t i = 0; i < reg->cfg.shards && !s->oom; i++) {
        kcb_shard *sh = &reg->shards[i];
        pthread_mutex_lock(&sh->lock);
        kcb_page_locked(s->page);
        for (uint32_t j = 0; j < sh->used && !s->oom; j++) {
            /* Ask for records a few slots ahead, so that their loads
             * overlap the filtering and encoding of this one. */
            if (j + SCAN_AHEAD < sh->used && sh->slots[j + SCAN_AHEAD])
                kcb__prefetch(sh->slots[j + SCAN_AHEAD], sizeof(kcb_conn) + 64);
            if (sh->slots[j])
                visit(s, &sh->slots[j]->rec, i);
        }
        pthread_mutex_unlock(&sh->lock);
    }
    if (!include_closed || s->oom)
        return;
    pthread_mutex_lock(&reg->history_lock);
    kcb_page_locked(s->page);
    kcb__history_expire(reg, s->filter->now_ms);
    scan_history(reg, s);
    pthread_mutex_unlock(&reg->history_lock);
}

/* Sets NextCursor (the place of the last row on the page) when more
 * matching rows follow it. */
static int finish_page(scan *s, kcp_describe_connections_response *resp)
{
    if (s->remaining > (int64_t)s->kept && s->kept > 0) {
        uint8_t *cur = kcp_arena_alloc(s->arena, CURSOR_LEN);
        if (!cur)
            return -1;
        cur[0] = CURSOR_VERSION;
        for (int b = 0; b < 4; b++)
            cur[1 + b] = (uint8_t)(s->last_phase >> (24 - 8 * b));
        for (int b = 0; b < 8; b++)
            cur[5 + b] = (uint8_t)(s->last_seq >> (56 - 8 * b));
        resp->next_cursor.ptr = cur;
        resp->next_cursor.len = CURSOR_LEN;
    }
    return 0;
}

static bool parse_cursor(kcp_bytes c, uint32_t shards, uint32_t *phase, uint64_t *after)
{
    *phase = 0;
    *after = 0;
    if (c.len < 0)
        return true;
    if (c.len != CURSOR_LEN || c.ptr[0] != CURSOR_VERSION)
        return false;
    for (int b = 0; b < 4; b++)
        *phase = (*phase << 8) | c.ptr[1 + b];
    for (int b = 0; b < 8; b++)
        *after = (*after << 8) | c.ptr[5 + b];
    return *phase <= shards;
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

/* Fills resp, and page with its rows, with the answer to req. Returns 0,
 * or -1 when memory ran out. */
static int answer(kcb_registry *reg, const char *caller_principal,
                  const kcp_describe_connections_request *req,
                  kcp_describe_connections_response *resp, kcb_page *page)
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
    uint32_t after_phase;
    uint64_t after;
    if (kcb_filter_compile(&filter, req, now, a, err, sizeof err)) {
        set_error(resp, a, KCB_ERR_INVALID_REQUEST, err);
        return 0;
    }
    if (!parse_cursor(req->cursor, reg->cfg.shards, &after_phase, &after)) {
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
    s.page = page;
    s.filter = &filter;
    s.has_cursor = req->cursor.len >= 0;
    s.after_phase = after_phase;
    s.after = after;
    s.limit = req->limit == 0 ? reg->cfg.default_page
                              : (req->limit > reg->cfg.max_page ? reg->cfg.max_page : req->limit);
    s.summary = req->summary_only;
    kcb_strmap_init(&s.principals, a);
    if (!s.summary) {
        /* Size the answer before the scan, as if no filter or cursor held
         * back any open connection (or, with IncludeClosed, a full history). */
        uint64_t guess = atomic_load_explicit(&reg->open, memory_order_relaxed);
        if (req->include_closed)
            guess += reg->cfg.history_size;
        kcb_page_expect(page, resp, guess < (uint64_t)s.limit ? (size_t)guess : (size_t)s.limit,
                        guess > (uint64_t)s.limit ? CURSOR_LEN : -1);
    }

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

int kcb__describe_encoded(kcb_registry *reg, const char *caller_principal,
                          const kcp_describe_connections_request *req, int16_t version,
                          kcb_body body, uint8_t **out, size_t *out_len, char *errstr,
                          size_t errstr_size)
{
    *out = NULL;
    *out_len = 0;
    kcp_describe_connections_response resp;
    kcp_describe_connections_response_init(&resp);
    kcb_page page;
    int rc = kcb_page_init(&page, reg, body, version, &resp.arena);
    if (rc == 0)
        rc = answer(reg, caller_principal, req, &resp, &page);
    if (rc == 0)
        rc = kcb_page_encode(&page, &resp, out, out_len);
    kcb_page_free(&page);
    kcp_describe_connections_response_free(&resp);
    if (rc > 0) {
        kcb__log(reg, KCB_LOG_WARNING,
                 "DescribeConnectionsResponse v%d: Connections is not where splicing expects it; "
                 "encoding the answer whole", (int)version);
        return kcb__describe_encoded(reg, caller_principal, req, version, KCB_BODY_WHOLE, out,
                                     out_len, errstr, errstr_size);
    }
    if (rc)
        return describe_fail(errstr, errstr_size,
                             "DescribeConnectionsResponse: out of memory or could not encode");
    return 0;
}

int kcb_describe(kcb_registry *reg, const kcb_conn *caller, int16_t api_version,
                 const uint8_t *request, size_t request_len, uint8_t **response,
                 size_t *response_len, char *errstr, size_t errstr_size)
{
    *response = NULL;
    *response_len = 0;
    if (api_version < KCP_DESCRIBE_CONNECTIONS_REQUEST_MIN_VERSION ||
        api_version > KCP_DESCRIBE_CONNECTIONS_REQUEST_MAX_VERSION) {
        /* Every version is flexible, so the header could be read; answer
         * with a version-0 body whose first fields stay readable forever. */
        kcp_describe_connections_response resp;
        kcp_describe_connections_response_init(&resp);
        resp.broker_time_ms = kcb__now(reg);
        set_error(&resp, &resp.arena, KCB_ERR_UNSUPPORTED_VERSION,
                  "DescribeConnections version not supported by this broker");
        int rc = kcb_encode_response(&resp, 0, response, response_len);
        kcp_describe_connections_response_free(&resp);
        if (rc)
            return describe_fail(errstr, errstr_size, "DescribeConnectionsResponse: could not encode");
        return 0;
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
    pthread_mutex_lock(&caller->shard->lock);
    char *principal = strdup(kcb__istr_or(caller->rec.principal, KCB_ANONYMOUS));
    pthread_mutex_unlock(&caller->shard->lock);
    if (!principal) {
        kcp_describe_connections_request_free(&req);
        return describe_fail(errstr, errstr_size, "DescribeConnections: out of memory");
    }

    int rc = kcb__describe_encoded(reg, principal, &req, api_version, KCB_BODY_SPLICED, response,
                                   response_len, errstr, errstr_size);
    free(principal);
    kcp_describe_connections_request_free(&req);
    return rc;
}
