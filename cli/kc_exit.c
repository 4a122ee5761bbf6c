/*
 * kc_exit.c: exit status and failure lines of kafka-connections. See
 * kc_exit.h.
 */
#include "kc_exit.h"

#include "kc_net.h"
#include "kc_text.h"

#include <string.h>

/* How many of the principals asked about are the caller's own (0 when
 * that principal cannot be known or everyone was asked about). */
static int32_t mentions_of_self(const kc_question *q)
{
    int32_t n = 0;
    if (!q->own_principal)
        return 0;
    kcp_str self = kcp_str_c(q->own_principal);
    for (int32_t i = 0; i < q->n_principals; i++)
        n += kcp_str_eq(q->principals[i], self);
    return n;
}

/* A restricted view answers only for the caller's own principal, so it is
 * a full answer only when every principal asked about is that one. */
static bool asks_only_self(const kc_question *q)
{
    return q->n_principals >= 0 && q->own_principal && mentions_of_self(q) == q->n_principals;
}

bool kc_question_may_count_self(const kc_question *q)
{
    return q->n_principals < 0 || mentions_of_self(q) > 0;
}

bool kc_result_incomplete(const kc_result *r, const kc_question *q)
{
    if (r->status != KC_OK)
        return true;
    return r->restricted && !asks_only_self(q);
}

bool kc_any_match(const kc_result *results, size_t n, const kc_question *q)
{
    for (size_t i = 0; i < n; i++) {
        if (!q->summary && results[i].n_rows > 0)
            return true;
        for (size_t k = 0; q->summary && k < results[i].n_summaries; k++)
            if (results[i].summaries[k]->connections > 0)
                return true;
    }
    return false;
}

int kc_exit_code(const kc_result *results, size_t n, const kc_question *q)
{
    size_t refused = 0;
    bool incomplete = false;
    for (size_t i = 0; i < n; i++) {
        /* Credentials no broker took: exit 4. A broker that took them
         * and then denied the request is an incomplete answer (3). */
        refused += results[i].status == KC_UNAUTHORIZED && !results[i].denied;
        incomplete |= kc_result_incomplete(&results[i], q);
    }
    if (n == 0 || refused == n)
        return KC_EXIT_NO_ACCESS;
    if (q->expect_none && kc_any_match(results, n, q))
        return KC_EXIT_FOUND;
    return incomplete ? KC_EXIT_INCOMPLETE : KC_EXIT_OK;
}

/* "broker 2 (127.0.0.1:9093): ", the host escaped for a terminal. */
static void broker_name(kc_buf *b, const kc_result *r)
{
    char where[300];
    kc_host_port(where, sizeof where, r->broker.host ? r->broker.host : "?", r->broker.port);
    kc_buf_printf(b, "broker %d (", (int)r->broker.node_id);
    kc_term_str(b, where, strlen(where));
    kc_buf_puts(b, "): ");
}

size_t kc_report_incomplete(FILE *f, const kc_result *results, size_t n, const kc_question *q)
{
    size_t count = 0;
    kc_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        const kc_result *r = &results[i];
        if (!kc_result_incomplete(r, q))
            continue;
        count++;
        kc_buf_reset(&b);
        kc_buf_puts(&b, KC_PROG);
        if (r->status != KC_OK && r->error) {
            kc_term_str(&b, r->error, strlen(r->error));
        } else {
            broker_name(&b, r);
            if (r->status != KC_OK)
                kc_buf_printf(&b, "%s", kc_status_name(r->status));
            else
                kc_buf_puts(&b, "restricted view: these credentials may not DESCRIBE the "
                                "CLUSTER, so only their own principal's connections are listed");
        }
        kc_buf_putc(&b, '\n');
        fputs(kc_buf_str(&b), f);
    }
    kc_buf_free(&b);
    return count;
}

const char *kc_own_principal(const kc_settings *s, char *buf, size_t size)
{
    if (!s->sasl_mechanism || !s->sasl_username)
        return NULL;
    snprintf(buf, size, "User:%s", s->sasl_username);
    return buf;
}

size_t kc_report_truncated(FILE *f, const kc_result *results, size_t n)
{
    size_t count = 0;
    kc_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        const kc_result *r = &results[i];
        if (!kc_result_truncated(r))
            continue;
        count++;
        kc_buf_reset(&b);
        kc_buf_puts(&b, KC_PROG "note: ");
        broker_name(&b, r);
        kc_buf_printf(&b, "%zu of %d matching connections listed (--limit)\n", r->n_rows,
                      (int)r->total_count);
        fputs(kc_buf_str(&b), f);
    }
    kc_buf_free(&b);
    return count;
}

int kc_output_failed(FILE *f, int errnum)
{
    if (errnum)
        fprintf(f, KC_PROG "writing the output failed: %s\n", strerror(errnum));
    else
        fprintf(f, KC_PROG "writing the output failed\n");
    return KC_EXIT_INCOMPLETE;
}
