/* kcb_describe.h: the DescribeConnections handler on decoded messages, for
 * kcb_describe() and for tests and benchmarks that skip the encoding. */
#ifndef KCB_DESCRIBE_H
#define KCB_DESCRIBE_H

#include "kcb_internal.h"
#include "kcp_messages.h"

/* Kafka error codes this handler answers with. */
#define KCB_ERR_CLUSTER_AUTHORIZATION_FAILED 31
#define KCB_ERR_UNSUPPORTED_VERSION 35
#define KCB_ERR_INVALID_REQUEST 42

/* Fills resp (initialised by the caller; its arena owns what is added) with
 * the answer to req for caller_principal. Returns 0, or -1 when memory ran
 * out (resp is then incomplete and must only be freed). */
int kcb__describe_decoded(kcb_registry *reg, const char *caller_principal,
                          const kcp_describe_connections_request *req,
                          kcp_describe_connections_response *resp);

#endif
