/*
 * Fuzz target for the request header (and the response header, which shares
 * its tagged-field code).
 *
 * Every input is decoded at each header version. A decoded header must
 * encode to exactly size() bytes. Up to the first version with a tagged
 * section the wire form is canonical, so the encoding must equal the bytes
 * read; from there on over-long varints are legal input, so the encoding
 * must instead survive a second decode/encode unchanged. kcp_request_header_peek()
 * must agree with every successful decode, as a broker relies on it to pick
 * the header version before decoding.
 */
#include "fuzz_target.h"
#include "kcp_header.h"

#include <string.h>

typedef union any_header {
    kcp_request_header req;
    kcp_response_header resp;
} any_header;

typedef struct header_codec {
    const char *name;
    int16_t max_version;
    int16_t tagged_from; /* first version with a tagged-field section */
    bool peekable;       /* kcp_request_header_peek() reads its first fields */
    int (*decode)(kcp_reader *r, int16_t v, kcp_arena *a, any_header *h);
    size_t (*size)(const any_header *h, int16_t v);
    void (*encode)(kcp_writer *w, const any_header *h, int16_t v);
} header_codec;

static int req_decode(kcp_reader *r, int16_t v, kcp_arena *a, any_header *h)
{
    return kcp_request_header_decode(r, v, a, &h->req);
}
static size_t req_size(const any_header *h, int16_t v) { return kcp_request_header_size(&h->req, v); }
static void req_encode(kcp_writer *w, const any_header *h, int16_t v)
{
    kcp_request_header_encode(w, &h->req, v);
}

static int resp_decode(kcp_reader *r, int16_t v, kcp_arena *a, any_header *h)
{
    return kcp_response_header_decode(r, v, a, &h->resp);
}
static size_t resp_size(const any_header *h, int16_t v) { return kcp_response_header_size(&h->resp, v); }
static void resp_encode(kcp_writer *w, const any_header *h, int16_t v)
{
    kcp_response_header_encode(w, &h->resp, v);
}

static const header_codec codecs[] = {
    {"RequestHeader", 2, 2, true, req_decode, req_size, req_encode},
    {"ResponseHeader", 1, 1, false, resp_decode, resp_size, resp_encode},
};

/* Encodes h into a new buffer, checking that size() predicted the length. */
static uint8_t *encode_exact(const header_codec *c, const any_header *h, int16_t v, size_t *len)
{
    size_t n = c->size(h, v);
    uint8_t *buf = fuzz_alloc(n);
    kcp_writer w;
    kcp_writer_init(&w, buf, n);
    c->encode(&w, h, v);
    FUZZ_CHECK(w.err == KCP_OK && w.pos == n, "%s v%d: size() said %zu bytes, encode wrote %zu (%s)",
               c->name, v, n, w.pos, kcp_err_name(w.err));
    *len = n;
    return buf;
}

/* Decodes our own encoding and encodes it again: the bytes must not change. */
static void check_stable(const header_codec *c, int16_t v, const uint8_t *enc, size_t len)
{
    kcp_arena arena = {0};
    any_header back;
    kcp_reader r;
    kcp_reader_init(&r, enc, len);
    int rc = c->decode(&r, v, &arena, &back);
    FUZZ_CHECK(rc == 0 && r.pos == len, "%s v%d: our own %zu bytes do not decode whole: %s",
               c->name, v, len, r.errstr);
    size_t len2;
    uint8_t *enc2 = encode_exact(c, &back, v, &len2);
    FUZZ_CHECK(len2 == len && memcmp(enc, enc2, len) == 0, "%s v%d: re-encoding differs",
               c->name, v);
    free(enc2);
    kcp_arena_free(&arena);
}

/* Decodes data at version v; returns the decode result, h filled on success. */
static int check_version(const header_codec *c, int16_t v, const uint8_t *data, size_t size,
                         kcp_arena *arena, any_header *h)
{
    kcp_reader r;
    kcp_reader_init(&r, data, size);
    int rc = c->decode(&r, v, arena, h);
    FUZZ_CHECK(r.pos <= size, "%s v%d: reader at %zu of %zu bytes", c->name, v, r.pos, size);
    if (rc != 0) {
        FUZZ_CHECK(rc == r.err && r.errstr[0] != '\0', "%s v%d: error %d without a message",
                   c->name, v, rc);
        return rc;
    }
    size_t len;
    uint8_t *enc = encode_exact(c, h, v, &len);
    if (v < c->tagged_from)
        FUZZ_CHECK(len == r.pos && memcmp(enc, data, len) == 0,
                   "%s v%d: encoding (%zu bytes) differs from the %zu bytes decoded", c->name, v,
                   len, r.pos);
    else
        check_stable(c, v, enc, len);
    free(enc);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int16_t key, version;
    int32_t correlation_id;
    int peek_rc = kcp_request_header_peek(data, size, &key, &version, &correlation_id);
    FUZZ_CHECK((peek_rc == 0) == (size >= 8), "peek returned %d for %zu bytes", peek_rc, size);

    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
        const header_codec *c = &codecs[i];
        for (int16_t v = 0; v <= c->max_version; v++) {
            kcp_arena arena = {0};
            any_header h;
            if (check_version(c, v, data, size, &arena, &h) == 0 && c->peekable)
                FUZZ_CHECK(peek_rc == 0 && h.req.api_key == key && h.req.api_version == version &&
                               h.req.correlation_id == correlation_id,
                           "RequestHeader v%d: peek disagrees with decode", v);
            kcp_arena_free(&arena);
        }
    }
    return 0;
}
