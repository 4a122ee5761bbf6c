/*
 * kc_request.c: command line to DescribeConnectionsRequest. See
 * kc_request.h and docs/describe-connections.md ("Filters").
 */
#include "kc_request.h"

#include <stdio.h>

/* A filter list: null (match anything) when the option was not given. */
static int set_list(kcp_describe_connections_request *req, const kc_strlist *l, int32_t *n,
                    kcp_str **v)
{
    *n = -1;
    *v = NULL;
    if (!l->n)
        return 0;
    *v = kcp_arena_alloc(&req->arena, l->n * sizeof **v);
    if (!*v)
        return -1;
    for (size_t i = 0; i < l->n; i++)
        (*v)[i] = kcp_str_c(l->v[i]);
    *n = (int32_t)l->n;
    return 0;
}

int kc_request_build(const kc_options *o, kcp_describe_connections_request *req, char *errstr,
                     size_t errstr_size)
{
    kcp_describe_connections_request_init(req);
    int rc = set_list(req, &o->principals, &req->principals.n, &req->principals.v);
    rc = rc ? rc : set_list(req, &o->listeners, &req->listeners.n, &req->listeners.v);
    rc = rc ? rc
            : set_list(req, &o->client_addresses, &req->client_addresses.n,
                       &req->client_addresses.v);
    rc = rc ? rc
            : set_list(req, &o->client_software, &req->client_software.n, &req->client_software.v);
    rc = rc ? rc : set_list(req, &o->client_ids, &req->client_ids.n, &req->client_ids.v);
    if (rc) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    /* open: what the brokers hold now, whatever its state (authenticating,
     * open, closing); closed: only their history; all: both. */
    req->states.n = -1;
    req->include_closed = o->state != KC_STATES_OPEN;
    if (o->state == KC_STATES_CLOSED) {
        req->states.v = kcp_arena_alloc(&req->arena, sizeof *req->states.v);
        if (!req->states.v) {
            snprintf(errstr, errstr_size, "out of memory");
            return -1;
        }
        req->states.v[0] = 3; /* closed */
        req->states.n = 1;
    }
    req->min_idle_ms = o->min_idle_ms;
    req->summary_only = o->summary;
    /* As the page size too: a broker caps it at its maximum, and the
     * fan-out stops paging once --limit rows arrived. */
    req->limit = o->limit;
    return 0;
}
