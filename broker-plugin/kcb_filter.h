/* kcb_filter.h: a DescribeConnections request's filters, checked once and
 * then applied to each record as a flat AND chain. */
#ifndef KCB_FILTER_H
#define KCB_FILTER_H

#include "kcb_internal.h"
#include "kcp_messages.h"

typedef struct kcb_cidr {
    uint8_t addr[16]; /* IPv4 as v4-mapped IPv6 */
    int prefix;       /* bits, 0..128 */
} kcb_cidr;

typedef struct kcb_software {
    kcp_str name;
    kcp_str version;  /* len < 0: any version */
} kcb_software;

typedef struct kcb_filter {
    const kcp_str *principals;  int32_t n_principals;  /* n < 0: any */
    kcp_str own_principal;      /* restricted view; len < 0: unrestricted */
    const kcp_str *listeners;   int32_t n_listeners;
    const kcp_str *client_ids;  int32_t n_client_ids;
    kcp_str exclude_client_id;  /* len < 0: none */
    kcb_cidr *addresses;        int32_t n_addresses;
    kcb_software *software;     int32_t n_software;
    uint8_t state_mask;         /* bit per enum kcb_state */
    int64_t min_idle_ms;        /* -1: any */
    int64_t now_ms;
} kcb_filter;

/* Checks and compiles req's filters (arrays live in arena a; strings stay
 * views into the request). Returns 0, or -1 with errstr naming the filter. */
int kcb_filter_compile(kcb_filter *f, const kcp_describe_connections_request *req,
                       int64_t now_ms, kcp_arena *a, char *errstr, size_t errstr_size);
/* True when record r passes every filter; read it under its shard lock. */
bool kcb_filter_match(const kcb_filter *f, const kcb_rec *r);

#endif
