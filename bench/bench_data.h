/*
 * bench_data.h: a deterministic, realistic DescribeConnections answer to
 * benchmark the codec on: a broker with SASL_PLAINTEXT and SASL_SSL
 * listeners, many service principals, IPv4 and some IPv6 clients.
 */
#ifndef BENCH_DATA_H
#define BENCH_DATA_H

#include "kcp_messages.h"

/* Fills m (initialised here) with n connections in the order the broker
 * accepted them.
 * Everything it points to lives in m->arena or in static storage, so
 * kcp_describe_connections_response_free(m) releases it. The same seed gives
 * the same message. Returns 0 or KCP_ERR_NOMEM. */
int bench_make_response(kcp_describe_connections_response *m, int32_t n, uint64_t seed);

#endif
