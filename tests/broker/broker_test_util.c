#include "broker_test_util.h"

static int64_t fake_now(void *opaque)
{
    return ((test_env *)opaque)->now;
}

static int authorize(void *opaque, const char *principal)
{
    test_env *e = opaque;
    if (e->deny && strcmp(e->deny, principal) == 0)
        return KCB_AUTHZ_DENY;
    return strcmp(principal, ADMIN) == 0 ? KCB_AUTHZ_ALLOW : KCB_AUTHZ_OWN_ONLY;
}

int test_setup(void **state)
{
    test_env *e = calloc(1, sizeof *e);
    e->now = 1000;
    kcb_host host = {.abi_version = KCB_ABI_VERSION, .struct_size = sizeof host, .opaque = e,
                     .now_ms = fake_now, .authorize_describe = authorize};
    kcb_config cfg = {.struct_size = sizeof cfg, .shards = 2, .history_size = 4,
                      .history_max_age_ms = 10000, .super_users = ADMIN};
    char err[200];
    e->reg = kcb_registry_new(&host, &cfg, err, sizeof err);
    if (!e->reg)
        fail_msg("kcb_registry_new: %s", err);
    *state = e;
    return 0;
}

int test_teardown(void **state)
{
    test_env *e = *state;
    kcb_registry_free(e->reg);
    free(e);
    return 0;
}

kcb_conn *test_accept(test_env *e, uint32_t shard, const char *listener, int protocol,
                      const char *peer, uint16_t port)
{
    kcb_accept_info info = {.struct_size = sizeof info, .shard = shard, .listener_name = listener,
                            .security_protocol = protocol, .local_host = "127.0.0.1",
                            .local_port = 9092, .peer_host = peer, .peer_port = port,
                            .now_ms = e->now};
    char err[200];
    kcb_conn *c = kcb_conn_accepted(e->reg, &info, err, sizeof err);
    if (!c)
        fail_msg("kcb_conn_accepted: %s", err);
    return c;
}

kcb_conn *test_caller(test_env *e, const char *principal)
{
    kcb_conn *c = test_accept(e, 0, "SASL_PLAINTEXT", KCB_SASL_PLAINTEXT, "127.0.0.1", 1);
    kcb_conn_authenticated(c, principal, "PLAIN", 0, e->now);
    return c;
}

static int cmp_str(const void *a, const void *b)
{
    const kcp_str *x = a, *y = b;
    size_t n = (size_t)(x->len < y->len ? x->len : y->len);
    int c = n ? memcmp(x->ptr, y->ptr, n) : 0;
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* What every answer must hold: indexes in range (kcp_connections_check)
 * and each entry of Strings distinct and used by some row. */
static void check_strings(const kcp_describe_connections_response *resp)
{
    char err[256];
    if (kcp_connections_check(resp, err, sizeof err))
        fail_msg("row indexes: %s", err);
    int32_t n = resp->strings.n;
    assert_true(n >= 0);
    if (n == 0)
        return;
    for (int32_t i = 0; i < n; i++)
        assert_true(resp->strings.v[i].len >= 0); /* the array holds no null */
    /* Sorted, equal strings would be neighbours. */
    kcp_str *sorted = malloc((size_t)n * sizeof *sorted);
    assert_non_null(sorted);
    memcpy(sorted, resp->strings.v, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_str);
    for (int32_t i = 1; i < n; i++)
        if (cmp_str(&sorted[i - 1], &sorted[i]) == 0)
            fail_msg("Strings holds '%.*s' twice", (int)sorted[i].len, sorted[i].ptr);
    free(sorted);
    bool *used = calloc((size_t)n, sizeof *used);
    assert_non_null(used);
    for (int32_t r = 0; r < resp->connections.n; r++) {
        const char *row = (const char *)&resp->connections.v[r];
        for (size_t f = 0; f < kcp_connections_fields_count; f++) {
            int32_t i = *(const int32_t *)(const void *)(row + kcp_connections_fields[f].offset);
            if (i >= 0)
                used[i] = true;
        }
    }
    for (int32_t i = 0; i < n; i++)
        if (!used[i])
            fail_msg("Strings[%d] '%.*s' is used by no row", (int)i, (int)resp->strings.v[i].len,
                     resp->strings.v[i].ptr);
    free(used);
}

void test_describe_req(test_env *e, const char *principal,
                       const kcp_describe_connections_request *req, test_page *p)
{
    size_t len;
    char err[256];
    if (kcb__describe_encoded(e->reg, principal, req, 0, KCB_BODY_SPLICED, &p->bytes, &len, err,
                              sizeof err))
        fail_msg("describe: %s", err);
    if (!e->concurrent) {
        uint8_t *whole;
        size_t whole_len;
        if (kcb__describe_encoded(e->reg, principal, req, 0, KCB_BODY_WHOLE, &whole, &whole_len, err,
                                  sizeof err))
            fail_msg("describe (whole): %s", err);
        assert_int_equal(whole_len, len);
        assert_memory_equal(whole, p->bytes, len);
        free(whole);
    }
    test_decode(p, len);
}

void test_decode(test_page *p, size_t len)
{
    char err[256];
    kcp_reader r;
    kcp_reader_init(&r, p->bytes, len);
    if (kcp_describe_connections_response_decode(&r, &p->resp, 0))
        fail_msg("decode: %s", r.errstr);
    assert_int_equal(r.pos, len);
    if (kcp_describe_connections_response_validate(&p->resp, 0, err, sizeof err))
        fail_msg("answer does not validate: %s", err);
    check_strings(&p->resp);
}

kcp_str test_str(const test_page *p, int32_t index)
{
    return kcp_connections_str(&p->resp, index);
}

void test_describe(test_env *e, const char *principal, const char *what, test_page *p)
{
    kcp_describe_connections_request req;
    kcp_describe_connections_request_init(&req);
    if (what && strcmp(what, "closed") == 0) {
        req.include_closed = true;
        req.states.n = 1;
        req.states.v = kcp_arena_alloc(&req.arena, 1);
        req.states.v[0] = KCB_STATE_CLOSED;
    }
    test_describe_req(e, principal, &req, p);
    kcp_describe_connections_request_free(&req);
}

void test_page_free(test_page *p)
{
    kcp_describe_connections_response_free(&p->resp);
    free(p->bytes);
}

void test_strs(kcp_str **v, int32_t *n, kcp_arena *a, ...)
{
    va_list ap;
    int32_t count = 0;
    va_start(ap, a);
    while (va_arg(ap, const char *))
        count++;
    va_end(ap);
    *v = kcp_arena_alloc(a, (size_t)(count ? count : 1) * sizeof **v);
    *n = count;
    va_start(ap, a);
    for (int32_t i = 0; i < count; i++)
        (*v)[i] = kcp_str_c(va_arg(ap, const char *));
    va_end(ap);
}

void test_count_cb(void *opaque, const char *principal, const char *listener, const char *name,
                   const char *version, uint64_t n)
{
    test_counts *c = opaque;
    assert_non_null(principal);
    assert_non_null(listener);
    assert_non_null(name);
    assert_non_null(version);
    c->total += n;
    c->groups++;
}
