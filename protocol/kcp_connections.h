/*
 * kcp_connections.h: what the generated DescribeConnections codec cannot
 * check by itself. A response's rows name their strings by index into the
 * response's Strings; a decoder checks every index once with
 * kcp_connections_check() and then reads them with kcp_connections_str().
 */
#ifndef KCP_CONNECTIONS_H
#define KCP_CONNECTIONS_H

#include "kcp_messages.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One string field of a row: its name in the spec, where its index sits in
 * the row, and whether -1 (null) is allowed. */
typedef struct kcp_connections_field {
    const char *name;
    size_t offset;
    bool nullable;
} kcp_connections_field;

/* Every ...Index field of a DescribeConnections row, in spec order. */
extern const kcp_connections_field kcp_connections_fields[];
extern const size_t kcp_connections_fields_count;

/* Returns 0 when every index of every row of m refers to an entry of
 * m->strings (or is -1 where the field is nullable); otherwise
 * KCP_ERR_LENGTH with err naming the row, the field and the index. */
int kcp_connections_check(const kcp_describe_connections_response *m, char *err, size_t err_size);

/* Strings[index] of m, or a null string for -1 (or for an index that
 * kcp_connections_check() would refuse). */
static inline kcp_str kcp_connections_str(const kcp_describe_connections_response *m, int32_t index)
{
    return index >= 0 && index < m->strings.n ? m->strings.v[index] : KCP_STR_NULL;
}

#ifdef __cplusplus
}
#endif

#endif
