/*
 * bench_codec: how the generated DescribeConnectionsResponse codec compares,
 * in one run on one machine, with copying the same bytes (encode, decode)
 * and with the JSON an operator's tools would otherwise move (size).
 * Ratios rather than absolute times, so figures from different machines
 * can be compared. Decoding includes kcp_connections_check(), which every
 * reader of the answer runs before it reads a row's strings; "encode"
 * writes rows whose Strings are already built, and "encode with Strings"
 * also builds the table from each row's strings, as a broker does.
 *
 * Usage: bench_codec [--json] [--connections N] [--repetitions N]
 */
#include "bench_data.h"
#include "bench_json.h"
#include "bench_report.h"
#include "kcp_connections.h"

#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_CONNECTIONS 100000
#define DEFAULT_REPETITIONS 7
#define WARMUP_ROUNDS 2
#define SEED UINT64_C(20251129)

/* Called through a volatile pointer so the compiler cannot see that the
 * copy is never read and drop it. */
static void *(*volatile copy_bytes)(void *, const void *, size_t) = memcpy;
/* Results of timed work land here so none of it is dead code. */
static volatile uint64_t sink;

typedef struct bench_ctx {
    const kcp_describe_connections_response *msg;
    /* "encode with Strings" writes its rows, table and hints here */
    kcp_describe_connections_response_connection *rows;
    kcp_strtab table;
    int32_t *hints; /* one per entry of kcp_connections_fields */
    uint8_t *wire; /* the encoded message, cap bytes */
    size_t cap;
    size_t len;    /* bytes encoded */
    uint8_t *copy; /* memcpy baseline destination, cap bytes */
    kcp_describe_connections_response reused; /* decoded again and again */
    char errstr[KCP_ERRSTR_SIZE + 16]; /* room for a prefix before a reader's message */
} bench_ctx;

typedef int (*bench_op)(bench_ctx *ctx);

/* Size, then encode m into the preallocated buffer. */
static int encode_message(bench_ctx *ctx, const kcp_describe_connections_response *m)
{
    size_t need = kcp_describe_connections_response_size(m, 0);
    if (need > ctx->cap) {
        snprintf(ctx->errstr, sizeof ctx->errstr, "encoded size %zu exceeds buffer %zu", need,
                 ctx->cap);
        return KCP_ERR_SPACE;
    }
    kcp_writer w;
    kcp_writer_init(&w, ctx->wire, need);
    int rc = kcp_describe_connections_response_encode(&w, m, 0);
    if (rc == 0 && w.pos != need) {
        snprintf(ctx->errstr, sizeof ctx->errstr, "encoded %zu bytes, size said %zu", w.pos, need);
        rc = KCP_ERR_SPACE;
    } else if (rc) {
        snprintf(ctx->errstr, sizeof ctx->errstr, "encode: %s", kcp_err_name(rc));
    }
    ctx->len = w.pos;
    sink += ctx->wire[w.pos / 2];
    return rc;
}

/* Index field f (of kcp_connections_fields) of row c. */
static int32_t index_of(const kcp_describe_connections_response_connection *c, size_t f)
{
    int32_t i;
    memcpy(&i, (const char *)c + kcp_connections_fields[f].offset, sizeof i);
    return i;
}

/* Rows and Strings already built: the codec alone. */
static int op_encode(bench_ctx *ctx)
{
    return encode_message(ctx, ctx->msg);
}

/* What a broker does per answer: each row's strings go into a table
 * emptied for the page (one hint per field, as rows repeat their
 * predecessor's strings), then the page is encoded. The strings are taken
 * from the prepared message, as a broker takes them from its registry. */
static int op_encode_with_strings(bench_ctx *ctx)
{
    const kcp_describe_connections_response *src = ctx->msg;
    kcp_strtab_reset(&ctx->table);
    for (size_t f = 0; f < kcp_connections_fields_count; f++)
        ctx->hints[f] = -1;
    for (int32_t r = 0; r < src->connections.n; r++) {
        kcp_describe_connections_response_connection *row = &ctx->rows[r];
        *row = src->connections.v[r];
        for (size_t f = 0; f < kcp_connections_fields_count; f++) {
            kcp_str s = kcp_connections_str(src, index_of(row, f));
            int32_t i = kcp_strtab_add_hint(&ctx->table, s, &ctx->hints[f]);
            if (i < -1) {
                snprintf(ctx->errstr, sizeof ctx->errstr, "Strings: %s", kcp_err_name(i));
                return i;
            }
            memcpy((char *)row + kcp_connections_fields[f].offset, &i, sizeof i);
        }
    }
    kcp_describe_connections_response page = *src;
    page.connections.v = ctx->rows;
    page.strings.n = ctx->table.n;
    page.strings.v = ctx->table.v;
    return encode_message(ctx, &page);
}

/* Decodes ctx->wire into m (reusing m's memory when reuse is set: m was
 * decoded or initialised before) and checks m's indexes, as every reader
 * of the answer does before it reads a row's strings. */
static int decode_checked(bench_ctx *ctx, kcp_describe_connections_response *m, bool reuse)
{
    kcp_reader r;
    kcp_reader_init(&r, ctx->wire, ctx->len);
    int rc = reuse ? kcp_describe_connections_response_decode_reuse(&r, m, 0)
                   : kcp_describe_connections_response_decode(&r, m, 0);
    if (rc) {
        snprintf(ctx->errstr, sizeof ctx->errstr, "decode: %s", r.errstr);
        return rc;
    }
    char err[KCP_ERRSTR_SIZE];
    rc = kcp_connections_check(m, err, sizeof err);
    if (rc)
        snprintf(ctx->errstr, sizeof ctx->errstr, "check: %s", err);
    return rc;
}

/* Decode, check and free: what a client does per answer. */
static int op_decode(bench_ctx *ctx)
{
    kcp_describe_connections_response m;
    int rc = decode_checked(ctx, &m, false);
    if (rc == 0)
        sink += (uint64_t)m.connections.n +
                (m.connections.n > 0 ? (uint64_t)m.connections.v[m.connections.n - 1].requests : 0);
    kcp_describe_connections_response_free(&m);
    return rc;
}

/* Decode into a message whose memory is reused from the previous decode,
 * as a client paging through answers does: no fresh pages to fault in,
 * just as memcpy copies into a buffer it has written before. */
static int op_decode_reuse(bench_ctx *ctx)
{
    int rc = decode_checked(ctx, &ctx->reused, true);
    if (rc == 0)
        sink += (uint64_t)ctx->reused.connections.n;
    return rc;
}

static int op_memcpy(bench_ctx *ctx)
{
    copy_bytes(ctx->copy, ctx->wire, ctx->len);
    sink += ctx->copy[ctx->len / 2];
    return 0;
}

static int time_op(bench_op op, bench_ctx *ctx, double *ms)
{
    int64_t t0 = bench_now_ns();
    int rc = op(ctx);
    *ms = (double)(bench_now_ns() - t0) / 1e6;
    return rc;
}

/* Times op and its baseline alternately, so both see the same machine state;
 * *value and *baseline get the medians in ms. */
static int time_pair(bench_op op, bench_op base, bench_ctx *ctx, int reps, double *value,
                     double *baseline)
{
    double *v = calloc((size_t)reps, sizeof *v), *b = calloc((size_t)reps, sizeof *b);
    int rc = v && b ? 0 : KCP_ERR_NOMEM;
    for (int i = 0; i < WARMUP_ROUNDS && rc == 0; i++) {
        rc = base(ctx);
        if (rc == 0)
            rc = op(ctx);
    }
    for (int i = 0; i < reps && rc == 0; i++) {
        rc = time_op(base, ctx, &b[i]);
        if (rc == 0)
            rc = time_op(op, ctx, &v[i]);
    }
    if (rc == 0) {
        *value = bench_median(v, (size_t)reps);
        *baseline = bench_median(b, (size_t)reps);
    }
    free(v);
    free(b);
    return rc;
}

/* A benchmark of a broken codec is worthless: decode what was encoded,
 * check its indexes, encode it again and require the same bytes. */
static int check_round_trip(bench_ctx *ctx)
{
    kcp_describe_connections_response m;
    int rc = decode_checked(ctx, &m, false);
    if (rc == 0 && kcp_describe_connections_response_size(&m, 0) != ctx->len) {
        snprintf(ctx->errstr, sizeof ctx->errstr, "decoded message re-encodes to another size");
        rc = KCP_ERR_LENGTH;
    } else if (rc == 0) {
        kcp_writer w;
        kcp_writer_init(&w, ctx->copy, ctx->cap);
        rc = kcp_describe_connections_response_encode(&w, &m, 0);
        if (rc == 0 && (w.pos != ctx->len || memcmp(ctx->copy, ctx->wire, ctx->len) != 0)) {
            snprintf(ctx->errstr, sizeof ctx->errstr, "decoded message re-encodes differently");
            rc = KCP_ERR_LENGTH;
        }
    }
    kcp_describe_connections_response_free(&m);
    return rc;
}

/* The rows of the encoding in ctx->wire must name the same strings as
 * those of ctx->msg, whatever the order of their Strings. */
static int check_same_strings(bench_ctx *ctx)
{
    const kcp_describe_connections_response *want = ctx->msg;
    kcp_describe_connections_response m;
    int rc = decode_checked(ctx, &m, false);
    if (rc == 0 && m.connections.n != want->connections.n) {
        snprintf(ctx->errstr, sizeof ctx->errstr, "%d rows, want %d", (int)m.connections.n,
                 (int)want->connections.n);
        rc = KCP_ERR_LENGTH;
    }
    for (int32_t r = 0; rc == 0 && r < m.connections.n; r++) {
        for (size_t f = 0; rc == 0 && f < kcp_connections_fields_count; f++) {
            if (!kcp_str_eq(kcp_connections_str(&m, index_of(&m.connections.v[r], f)),
                            kcp_connections_str(want, index_of(&want->connections.v[r], f)))) {
                snprintf(ctx->errstr, sizeof ctx->errstr,
                         "row %d: %s differs after rebuilding Strings", (int)r,
                         kcp_connections_fields[f].name);
                rc = KCP_ERR_LENGTH;
            }
        }
    }
    kcp_describe_connections_response_free(&m);
    return rc;
}

static int parse_count(const char *arg, const char *flag, int min, int *out)
{
    char *end;
    long v = arg ? strtol(arg, &end, 10) : 0;
    if (!arg || *end || v < min || v > 10000000) {
        fprintf(stderr, "bench_codec: %s needs an integer from %d to 10000000\n", flag, min);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    bool json = false;
    int conns = DEFAULT_CONNECTIONS, reps = DEFAULT_REPETITIONS;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--connections") == 0) {
            if (parse_count(i + 1 < argc ? argv[++i] : NULL, "--connections", 1, &conns))
                return 2;
        } else if (strcmp(argv[i], "--repetitions") == 0) {
            if (parse_count(i + 1 < argc ? argv[++i] : NULL, "--repetitions", 1, &reps))
                return 2;
        } else {
            fprintf(stderr, "usage: bench_codec [--json] [--connections N] [--repetitions N]\n");
            return 2;
        }
    }

    kcp_describe_connections_response msg;
    kcp_strtab strings;
    int rc = bench_make_response(&msg, &strings, conns, SEED);
    bench_ctx ctx = {.msg = &msg};
    kcp_strtab_init(&ctx.table);
    if (rc == 0) {
        ctx.cap = kcp_describe_connections_response_size(&msg, 0);
        ctx.wire = malloc(ctx.cap);
        ctx.copy = malloc(ctx.cap);
        ctx.rows = malloc((size_t)conns * sizeof *ctx.rows);
        ctx.hints = malloc(kcp_connections_fields_count * sizeof *ctx.hints);
        rc = ctx.wire && ctx.copy && ctx.rows && ctx.hints ? 0 : KCP_ERR_NOMEM;
    }
    /* The first encode also faults in both buffers' pages. */
    if (rc == 0 && (rc = op_encode(&ctx)) == 0 && (rc = op_memcpy(&ctx)) == 0)
        rc = check_round_trip(&ctx);

    enum { N_FIGURES = 5 };
    bench_figure fig[N_FIGURES] = {
        {"encode", "ms", 0, "memcpy", 0, 4.0},
        {"encode with Strings", "ms", 0, "memcpy", 0, -1.0},
        {"decode (memory reused)", "ms", 0, "memcpy", 0, 4.0},
        {"decode (fresh memory)", "ms", 0, "memcpy", 0, -1.0},
        {"bytes_per_connection", "bytes", 0, "json", 0, 0.25},
    };
    kcp_describe_connections_response_init(&ctx.reused);
    if (rc == 0)
        rc = time_pair(op_encode, op_memcpy, &ctx, reps, &fig[0].value, &fig[0].baseline);
    if (rc == 0)
        rc = time_pair(op_decode_reuse, op_memcpy, &ctx, reps, &fig[2].value, &fig[2].baseline);
    if (rc == 0)
        rc = time_pair(op_decode, op_memcpy, &ctx, reps, &fig[3].value, &fig[3].baseline);
    kcp_describe_connections_response_free(&ctx.reused);
    /* Last, so that its table and rows do not change the memory the
     * figures with a target are measured in. */
    if (rc == 0)
        rc = time_pair(op_encode_with_strings, op_memcpy, &ctx, reps, &fig[1].value,
                       &fig[1].baseline);
    /* Its table lists the strings in another order: same rows, same size. */
    if (rc == 0)
        rc = check_same_strings(&ctx);
    if (rc == 0) {
        bench_buf text = {0};
        bench_json_connections(&text, &msg);
        if (text.failed)
            rc = KCP_ERR_NOMEM;
        fig[4].value = (double)ctx.len / conns;
        fig[4].baseline = (double)text.len / conns;
        bench_buf_free(&text);
    }
    if (rc) {
        fprintf(stderr, "bench_codec: %s%s%s\n", kcp_err_name(rc), ctx.errstr[0] ? ": " : "",
                ctx.errstr);
    } else if (json) {
        bench_print_json(fig, N_FIGURES);
    } else {
        printf("DescribeConnectionsResponse v0, %d connections, %d distinct strings, %zu bytes, "
               "median of %d runs\n",
               conns, (int)msg.strings.n, ctx.len, reps);
        bench_print_text(fig, N_FIGURES);
    }
    free(ctx.wire);
    free(ctx.copy);
    free(ctx.rows);
    free(ctx.hints);
    kcp_strtab_free(&ctx.table);
    kcp_describe_connections_response_free(&msg);
    kcp_strtab_free(&strings);
    return rc ? 1 : 0;
}
