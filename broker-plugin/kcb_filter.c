/* DescribeConnections filters: validation and matching. */
#include "kcb_filter.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A filter value matches a record's string when both hold the same bytes;
 * a null on either side matches nothing. */
static bool str_is(kcp_str filter, kcp_str value)
{
    return filter.len >= 0 && value.len >= 0 && kcp_str_eq(filter, value);
}

static bool any_is(const kcp_str *list, int32_t n, kcp_str value)
{
    for (int32_t i = 0; i < n; i++)
        if (str_is(list[i], value))
            return true;
    return false;
}

static int fail(char *errstr, size_t size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail(char *errstr, size_t size, const char *fmt, ...)
{
    if (errstr && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* printf arguments for a possibly-null string view. */
#define SV(s) ((s).len < 0 ? 4 : (int)(s).len), ((s).len < 0 ? "null" : (s).ptr)

/* "10.0.0.0/8", "::1", "2001:db8::/32": address, then an optional prefix. */
static bool parse_cidr(kcp_str s, kcb_cidr *out)
{
    if (s.len <= 0)
        return false;
    const char *slash = memchr(s.ptr, '/', (size_t)s.len);
    size_t addr_len = slash ? (size_t)(slash - s.ptr) : (size_t)s.len;
    bool v4;
    if (!kcb__parse_ip(s.ptr, addr_len, out->addr, &v4))
        return false;
    int max = v4 ? 32 : 128;
    out->prefix = max;
    if (slash) {
        const char *p = slash + 1, *end = s.ptr + s.len;
        if (p == end || end - p > 3)
            return false;
        int bits = 0;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9')
                return false;
            bits = bits * 10 + (*p - '0');
        }
        if (bits > max)
            return false;
        out->prefix = bits;
    }
    if (v4)
        out->prefix += 96; /* compare v4-mapped addresses over 128 bits */
    return true;
}

static bool cidr_match(const kcb_cidr *c, const uint8_t addr[16])
{
    int full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->addr, addr, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (c->addr[full] & mask) == (addr[full] & mask);
}

int kcb_filter_compile(kcb_filter *f, const kcp_describe_connections_request *req, int64_t now_ms,
                       kcp_arena *a, char *errstr, size_t errstr_size)
{
    memset(f, 0, sizeof *f);
    f->own_principal = KCP_STR_NULL;
    f->now_ms = now_ms;
    f->principals = req->principals.v;
    f->n_principals = req->principals.n;
    f->listeners = req->listeners.v;
    f->n_listeners = req->listeners.n;
    f->client_ids = req->client_ids.v;
    f->n_client_ids = req->client_ids.n;
    f->exclude_client_id = req->exclude_client_id;

    f->n_addresses = req->client_addresses.n;
    if (f->n_addresses > 0) {
        f->addresses = kcp_arena_alloc(a, (size_t)f->n_addresses * sizeof *f->addresses);
        if (!f->addresses)
            return fail(errstr, errstr_size, "ClientAddresses: out of memory");
        for (int32_t i = 0; i < f->n_addresses; i++)
            if (!parse_cidr(req->client_addresses.v[i], &f->addresses[i]))
                return fail(errstr, errstr_size, "ClientAddresses: '%.*s' is not an IP address or CIDR block",
                            SV(req->client_addresses.v[i]));
    }

    f->n_software = req->client_software.n;
    if (f->n_software > 0) {
        f->software = kcp_arena_alloc(a, (size_t)f->n_software * sizeof *f->software);
        if (!f->software)
            return fail(errstr, errstr_size, "ClientSoftware: out of memory");
        for (int32_t i = 0; i < f->n_software; i++) {
            kcp_str s = req->client_software.v[i];
            const char *slash = s.len > 0 ? memchr(s.ptr, '/', (size_t)s.len) : NULL;
            kcb_software *sw = &f->software[i];
            sw->name = s;
            sw->version = KCP_STR_NULL;
            if (slash) {
                sw->name.len = (int32_t)(slash - s.ptr);
                sw->version.ptr = slash + 1;
                sw->version.len = (int32_t)(s.ptr + s.len - slash - 1);
            }
            if (sw->name.len <= 0 || sw->version.len == 0)
                return fail(errstr, errstr_size, "ClientSoftware: '%.*s' is not NAME or NAME/VERSION",
                            SV(s));
        }
    }

    if (req->states.n < 0) {
        f->state_mask = 0x0f;
    } else {
        for (int32_t i = 0; i < req->states.n; i++) {
            int8_t st = req->states.v[i];
            if (st < KCB_STATE_AUTHENTICATING || st > KCB_STATE_CLOSED)
                return fail(errstr, errstr_size,
                            "States: unknown state %d (0 authenticating, 1 open, 2 closing, 3 closed)", st);
            f->state_mask |= (uint8_t)(1u << st);
        }
    }

    if (req->min_idle_ms < -1)
        return fail(errstr, errstr_size, "MinIdleMs: %lld is negative (-1 means no filter)",
                    (long long)req->min_idle_ms);
    f->min_idle_ms = req->min_idle_ms;
    return 0;
}

bool kcb_filter_match(const kcb_filter *f, const kcb_rec *r)
{
    kcp_str principal = kcb__istr_view(r->principal, KCB_LITERAL_VIEW(KCB_ANONYMOUS));
    if (!(f->state_mask & (1u << r->state)))
        return false;
    if (f->own_principal.len >= 0 && !str_is(f->own_principal, principal))
        return false;
    if (f->n_principals >= 0 && !any_is(f->principals, f->n_principals, principal))
        return false;
    if (f->n_listeners >= 0 && !any_is(f->listeners, f->n_listeners, kcb__istr_view(r->listener, KCP_STR_NULL)))
        return false;
    kcp_str client_id = kcb__istr_view(r->client_id, KCP_STR_NULL);
    if (f->n_client_ids >= 0 && !any_is(f->client_ids, f->n_client_ids, client_id))
        return false;
    if (f->exclude_client_id.len >= 0 && str_is(f->exclude_client_id, client_id))
        return false;
    if (f->min_idle_ms >= 0 &&
        f->now_ms - atomic_load_explicit(&r->last_activity, memory_order_relaxed) < f->min_idle_ms)
        return false;
    if (f->n_addresses >= 0) {
        bool hit = false;
        for (int32_t i = 0; i < f->n_addresses && !hit; i++)
            hit = cidr_match(&f->addresses[i], r->peer_addr);
        if (!hit)
            return false;
    }
    if (f->n_software >= 0) {
        bool hit = false;
        kcp_str name = kcb__istr_view(r->sw_name, KCB_LITERAL_VIEW(KCB_UNKNOWN));
        kcp_str version = kcb__istr_view(r->sw_version, KCB_LITERAL_VIEW(KCB_UNKNOWN));
        for (int32_t i = 0; i < f->n_software && !hit; i++)
            hit = str_is(f->software[i].name, name) &&
                  (f->software[i].version.len < 0 || str_is(f->software[i].version, version));
        if (!hit)
            return false;
    }
    return true;
}
