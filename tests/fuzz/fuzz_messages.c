/*
 * Fuzz target for every generated message codec.
 *
 * Input: byte 0 picks an entry of kcp_messages[], byte 1 a version within
 * that entry's valid range, the rest is the message body. Decoding must
 * either fail with an error message or produce a message whose size()
 * equals what encode() writes, and whose encoding decodes again to a
 * message that encodes to the very same bytes. The input itself need not
 * come back unchanged: Kafka readers accept non-canonical forms (any
 * non-zero bool, over-long varints) that a writer never produces.
 * A decoded DescribeConnections response also goes through
 * kcp_connections_check(), as every reader of one does, which must accept
 * it exactly when each row's indexes name entries of its Strings.
 */
#include "fuzz_target.h"
#include "kcp_connections.h"
#include "kcp_messages.h"

#include <string.h>

/* Encodes m into a new buffer, checking that size() predicted the length. */
static uint8_t *encode_exact(const kcp_message_desc *d, const void *m, int16_t v, size_t *len)
{
    size_t n = d->size(m, v);
    uint8_t *buf = fuzz_alloc(n);
    kcp_writer w;
    kcp_writer_init(&w, buf, n);
    int rc = d->encode(&w, m, v);
    FUZZ_CHECK(rc == 0, "%s v%d: encode failed: %s", d->name, v, kcp_err_name(rc));
    FUZZ_CHECK(w.pos == n, "%s v%d: size() said %zu bytes, encode wrote %zu", d->name, v, n,
               w.pos);
    *len = n;
    return buf;
}

static size_t first_difference(const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t i = 0;
    while (i < n && a[i] == b[i])
        i++;
    return i;
}

/* Encodes m, decodes that and encodes again: both encodings must match. */
static void check_round_trip(const kcp_message_desc *d, const void *m, int16_t v)
{
    size_t len1, len2;
    uint8_t *enc1 = encode_exact(d, m, v, &len1);

    void *back = fuzz_alloc(d->struct_size);
    kcp_reader r;
    kcp_reader_init(&r, enc1, len1);
    int rc = d->decode(&r, back, v);
    FUZZ_CHECK(rc == 0, "%s v%d: our own encoding does not decode: %s", d->name, v, r.errstr);
    FUZZ_CHECK(r.pos == len1, "%s v%d: decoding our own %zu bytes left %zu unread", d->name, v,
               len1, len1 - r.pos);

    uint8_t *enc2 = encode_exact(d, back, v, &len2);
    FUZZ_CHECK(len1 == len2 && memcmp(enc1, enc2, len1) == 0,
               "%s v%d: re-encoding differs (%zu vs %zu bytes, first difference at %zu)", d->name,
               v, len1, len2, first_difference(enc1, enc2, len1 < len2 ? len1 : len2));

    d->free(back);
    free(back);
    free(enc1);
    free(enc2);
}

/* True when index may stand in field f: an entry of Strings, or -1 where
 * the field is nullable. Decided through kcp_connections_str(), so the
 * check and the reader are held to agree. */
static bool index_resolves(const kcp_describe_connections_response *m,
                           const kcp_connections_field *f, int32_t index)
{
    kcp_str s = kcp_connections_str(m, index);
    if (index == -1)
        return f->nullable && s.len < 0;
    if (s.len < 0)
        return false;
    /* Read the entry's bytes, so the sanitizers see any bad view. */
    uint8_t x = 0;
    for (int32_t i = 0; i < s.len; i++)
        x ^= (uint8_t)s.ptr[i];
    volatile uint8_t sink = x;
    (void)sink;
    return true;
}

static void check_string_indexes(const kcp_describe_connections_response *m)
{
    char err[256] = "";
    int rc = kcp_connections_check(m, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == KCP_ERR_LENGTH, "kcp_connections_check returned %d", rc);
    FUZZ_CHECK(rc == 0 || strncmp(err, "Connections[", 12) == 0,
               "kcp_connections_check failed with message \"%s\"", err);
    FUZZ_CHECK(kcp_connections_check(m, NULL, 0) == rc,
               "kcp_connections_check answers differently without a message buffer");
    bool all_resolve = true;
    for (int32_t r = 0; r < m->connections.n && all_resolve; r++) {
        const char *row = (const char *)&m->connections.v[r];
        for (size_t f = 0; f < kcp_connections_fields_count && all_resolve; f++) {
            const kcp_connections_field *d = &kcp_connections_fields[f];
            int32_t index;
            memcpy(&index, row + d->offset, sizeof index);
            all_resolve = index_resolves(m, d, index);
        }
    }
    FUZZ_CHECK(all_resolve == (rc == 0), "kcp_connections_check said %d (%s) but indexes %s",
               rc, err, all_resolve ? "all resolve" : "do not all resolve");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const kcp_message_desc *d = &kcp_messages[data[0] % kcp_messages_count];
    int range = d->max_version - d->min_version + 1;
    int16_t v = (int16_t)(d->min_version + data[1] % range);

    void *m = fuzz_alloc(d->struct_size);
    kcp_reader r;
    kcp_reader_init(&r, data + 2, size - 2);
    int rc = d->decode(&r, m, v);
    FUZZ_CHECK(r.pos <= r.len, "%s v%d: reader at %zu of %zu bytes", d->name, v, r.pos, r.len);
    if (rc == 0) {
        FUZZ_CHECK(r.err == KCP_OK, "%s v%d: success with a recorded error", d->name, v);
        if (d->api == KCP_API_DESCRIBE_CONNECTIONS && !d->is_request)
            check_string_indexes(m);
        check_round_trip(d, m, v);
    } else {
        FUZZ_CHECK(rc == r.err && r.errstr[0] != '\0',
                   "%s v%d: error %d returned but reader holds %d with message \"%s\"", d->name,
                   v, rc, r.err, r.errstr);
    }
    d->free(m);
    free(m);
    return 0;
}
