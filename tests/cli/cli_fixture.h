/*
 * cli_fixture.h: brokers' answers built by hand for the unit tests of the
 * CLI's operator side (views, output, exit status), plus a way to read the
 * output back with Python's json and csv modules. Include after <cmocka.h>.
 */
#ifndef CLI_FIXTURE_H
#define CLI_FIXTURE_H

#include "kc_fanout.h"

#include <stddef.h>
#include <stdint.h>

#define FX_MAX_BROKERS 8

/* A set of answers. results[] never moves, so rows can point at them.
 * Each broker's rows sit in one page whose Strings the fixture builds as
 * a broker does, with a kcp_strtab. */
typedef struct fx {
    kc_result results[FX_MAX_BROKERS];
    size_t n;
} fx;

void fx_init(fx *f);
void fx_free(fx *f);

/* Adds a broker's answer: status ok (broker clock broker_time_ms) or a
 * failure with its error line. */
kc_result *fx_broker(fx *f, int32_t node_id, const char *host, uint16_t port, int status,
                     const char *error, int64_t broker_time_ms);

/* Adds an open connection to r and returns its row for further changes
 * (strings through fx_str). The strings are copied. The connection id is
 * made up from the addresses as a broker makes it, with the client port as
 * its index, so the same arguments give the same id in another fixture. */
kcp_describe_connections_response_connection *fx_conn(kc_result *r, const char *principal,
                                                      const char *client_host, uint16_t client_port,
                                                      const char *software_name,
                                                      const char *software_version,
                                                      const char *listener);

/* The index of s in the Strings of r's page (added if new; -1 for a null
 * s), for a row's ...Index fields. */
int32_t fx_str(kc_result *r, kcp_str s);

/* Row i of r, to change after the fact. */
kcp_describe_connections_response_connection *fx_row(kc_result *r, size_t i);

/* Adds a summary to r: principal with count connections, split over
 * listeners[] and software[] ("NAME/VERSION"), NULL-terminated, whose
 * counts come in counts[] (listeners first, then software). Summaries
 * carry their strings inline: these must outlive the fixture (literals). */
kcp_describe_connections_response_principal_summary *
fx_summary(kc_result *r, const char *principal, int32_t count, const char *const *listeners,
           const char *const *software, const int32_t *counts);

/* A kcp_str of n bytes that need not be a C string (control bytes, NUL). */
kcp_str fx_bytes(const char *s, size_t n);

/* Runs /usr/bin/python3 -c script FILE with input written to FILE, and
 * returns its standard output (malloc'd); fails the test if Python fails. */
char *fx_python(const char *script, const char *input, size_t input_len);

#endif
