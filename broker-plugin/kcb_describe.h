/* kcb_describe.h: the DescribeConnections handler on a decoded request, for
 * kcb_describe() and for tests and benchmarks that skip the request's
 * encoding. */
#ifndef KCB_DESCRIBE_H
#define KCB_DESCRIBE_H

#include "kcb_internal.h"
#include "kcb_page.h"
#include "kcp_messages.h"

/* Kafka error codes this handler answers with. */
#define KCB_ERR_CLUSTER_AUTHORIZATION_FAILED 31
#define KCB_ERR_UNSUPPORTED_VERSION 35
#define KCB_ERR_INVALID_REQUEST 42

/* Answers req for caller_principal with a DescribeConnectionsResponse body
 * at version (a valid one) in *out (malloc'd; the caller frees), built as
 * body says (kcb_describe uses KCB_BODY_SPLICED). Returns 0, or -1 with
 * errstr set when memory ran out or the answer could not be encoded. */
int kcb__describe_encoded(kcb_registry *reg, const char *caller_principal,
                          const kcp_describe_connections_request *req, int16_t version,
                          kcb_body body, uint8_t **out, size_t *out_len, char *errstr,
                          size_t errstr_size);

#endif
