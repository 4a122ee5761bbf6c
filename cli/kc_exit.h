/*
 * kc_exit.h: what an answer means for a script. The exit status of
 * kafka-connections and the one line per broker that explains a partial
 * answer are decided here, from the brokers' answers alone, so the rules
 * are tested without a network.
 *
 * Fail closed: an answer missing any broker, or a broker that showed only
 * the caller's own connections while the question was about others, is
 * incomplete, and an incomplete answer never proves "none".
 */
#ifndef KC_EXIT_H
#define KC_EXIT_H

#include "kc_fanout.h"

#include <stdbool.h>
#include <stdio.h>

enum kc_exit {
    KC_EXIT_OK = 0,         /* success, and --expect-none held */
    KC_EXIT_FOUND = 1,      /* --expect-none: some connection matched */
    KC_EXIT_USAGE = 2,      /* bad option or configuration */
    KC_EXIT_INCOMPLETE = 3, /* some broker did not answer fully */
    KC_EXIT_NO_ACCESS = 4   /* no bootstrap, or no broker accepted the credentials */
};

/* The question that was asked, as far as the verdict depends on it. */
typedef struct kc_question {
    bool expect_none;
    bool summary;
    /* The principals asked about (the Principals filter); n < 0 = everyone. */
    const kcp_str *principals;
    int32_t n_principals;
    /* The caller's own principal ("User:alice" for SASL user alice), or
     * NULL when it cannot be known (TLS client certificates, PLAINTEXT). */
    const char *own_principal;
} kc_question;

/* True when the principals asked about may include the caller's own (all
 * principals, or its own among them): a summary answer then counts the
 * tool's own connections, which carry no client id to leave them out by. */
bool kc_question_may_count_self(const kc_question *q);

/* True when r's answer is missing or partial for this question: any status
 * but ok, or a restricted (own-only) view while principals other than
 * the caller's own were asked about. */
bool kc_result_incomplete(const kc_result *r, const kc_question *q);

/* True when some broker reported a matching connection. */
bool kc_any_match(const kc_result *results, size_t n, const kc_question *q);

/* The exit status for results[0..n): 4 when n is 0 or every broker refused
 * the credentials; else 1 when --expect-none and something matched (a
 * match is proof even from a partial answer); else 3 when incomplete;
 * else 0. */
int kc_exit_code(const kc_result *results, size_t n, const kc_question *q);

/* Writes one note per broker that matched more connections than it
 * listed (--limit) to f, for output that cannot say so itself (CSV).
 * Returns how many. */
size_t kc_report_truncated(FILE *f, const kc_result *results, size_t n);

/* Says on f that standard output could not be written, and why when
 * errnum is not 0; returns KC_EXIT_INCOMPLETE. */
int kc_output_failed(FILE *f, int errnum);

/* Writes one line per incomplete broker to f ("kafka-connections: broker 2
 * (127.0.0.1:9093): ..."), control characters escaped. Returns how many. */
size_t kc_report_incomplete(FILE *f, const kc_result *results, size_t n, const kc_question *q);

/* The caller's own principal as Kafka's default principal builder names a
 * SASL user ("User:NAME"), written to buf; NULL when it cannot be known
 * (TLS client certificates are mapped by rules the client cannot see). */
const char *kc_own_principal(const kc_settings *s, char *buf, size_t size);

#endif
