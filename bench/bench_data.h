/*
 * bench_data.h: a deterministic, realistic DescribeConnections answer to
 * benchmark the codec on: a broker with SASL_PLAINTEXT and SASL_SSL
 * listeners, many service principals, IPv4 and some IPv6 clients.
 */
#ifndef BENCH_DATA_H
#define BENCH_DATA_H

#include "kcp_messages.h"
#include "kcp_strtab.h"

/* Fills m and strings (both initialised here) with n connections in the
 * order the broker accepted them, adding each row's strings to strings as
 * the row is made; m->strings views strings' entries. Connection ids live
 * in m->arena, everything else in strings or static storage: release with
 * kcp_describe_connections_response_free(m) and kcp_strtab_free(strings),
 * also after a failure. The same seed gives the same message. Returns 0 or
 * KCP_ERR_NOMEM. */
int bench_make_response(kcp_describe_connections_response *m, kcp_strtab *strings, int32_t n,
                        uint64_t seed);

#endif
