/*
 * kc_request.h: the DescribeConnectionsRequest that kafka-connections sends
 * to every broker, built from the command line. The filters travel to the
 * brokers; nothing is filtered after the answers arrive.
 */
#ifndef KC_REQUEST_H
#define KC_REQUEST_H

#include "kc_options.h"
#include "kcp_messages.h"

/* Fills req (initialised here) from o. The filter strings point into o,
 * the arrays live in req->arena: free with
 * kcp_describe_connections_request_free() and keep o until then. Returns
 * 0, or -1 (out of memory) with errstr set. */
int kc_request_build(const kc_options *o, kcp_describe_connections_request *req, char *errstr,
                     size_t errstr_size);

#endif
