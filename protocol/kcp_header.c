/* Request and response headers (Kafka protocol guide, KIP-482). */
#include "kcp_header.h"

int kcp_read_unknown_tags(kcp_reader *r, const char *field, kcp_arena *a, kcp_raw_tags *tags)
{
    uint32_t count;
    if (kcp_read_uvarint(r, field, &count))
        return r->err;
    /* Each field takes at least two bytes (tag and size). */
    if (count > kcp_reader_left(r) / 2)
        return kcp_reader_fail(r, KCP_ERR_LENGTH, field,
                               "%u tagged fields cannot fit in the %zu bytes left",
                               (unsigned)count, kcp_reader_left(r));
    uint64_t prev = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t tag, size;
        kcp_bytes data;
        if (kcp_read_tag_header(r, field, &tag, &size))
            return r->err;
        if (i > 0 && tag <= prev)
            return kcp_reader_fail(r, KCP_ERR_TAGS, field, "tag %u follows tag %u",
                                   (unsigned)tag, (unsigned)prev);
        prev = tag;
        if (kcp_read_skip(r, field, size, &data) || kcp_raw_tags_add(r, a, tags, tag, data))
            return r->err;
    }
    return 0;
}

static void write_unknown_tags(kcp_writer *w, const kcp_raw_tags *tags)
{
    uint32_t next = 0;
    kcp_write_uvarint(w, tags->n);
    kcp_raw_tags_write_below(w, tags, &next, UINT64_MAX);
}

static size_t unknown_tags_size(const kcp_raw_tags *tags)
{
    return kcp_uvarint_size(tags->n) + kcp_raw_tags_size(tags);
}

int kcp_request_header_peek(const void *frame, size_t len, int16_t *api_key,
                            int16_t *api_version, int32_t *correlation_id)
{
    kcp_reader r;
    kcp_reader_init(&r, frame, len);
    if (kcp_read_int16(&r, "RequestApiKey", api_key) ||
        kcp_read_int16(&r, "RequestApiVersion", api_version) ||
        kcp_read_int32(&r, "CorrelationId", correlation_id))
        return r.err;
    return 0;
}

int kcp_request_header_decode(kcp_reader *r, int16_t header_version, kcp_arena *a,
                              kcp_request_header *h)
{
    memset(h, 0, sizeof *h);
    h->client_id = KCP_STR_NULL;
    if (header_version < 0 || header_version > 2)
        return kcp_reader_fail(r, KCP_ERR_VERSION, "RequestHeader",
                               "header version %d is not 0-2", header_version);
    if (kcp_read_int16(r, "RequestApiKey", &h->api_key) ||
        kcp_read_int16(r, "RequestApiVersion", &h->api_version) ||
        kcp_read_int32(r, "CorrelationId", &h->correlation_id))
        return r->err;
    if (header_version >= 1 && kcp_read_string(r, "ClientId", false, true, &h->client_id))
        return r->err;
    if (header_version >= 2 && kcp_read_unknown_tags(r, "RequestHeader._tagged_fields", a, &h->tags))
        return r->err;
    return 0;
}

size_t kcp_request_header_size(const kcp_request_header *h, int16_t header_version)
{
    size_t s = 8;
    if (header_version >= 1)
        s += kcp_string_size(false, h->client_id);
    if (header_version >= 2)
        s += unknown_tags_size(&h->tags);
    return s;
}

void kcp_request_header_encode(kcp_writer *w, const kcp_request_header *h, int16_t header_version)
{
    kcp_write_int16(w, h->api_key);        /* RequestApiKey */
    kcp_write_int16(w, h->api_version);    /* RequestApiVersion */
    kcp_write_int32(w, h->correlation_id); /* CorrelationId */
    if (header_version >= 1)
        kcp_write_string(w, false, h->client_id); /* ClientId */
    if (header_version >= 2)
        write_unknown_tags(w, &h->tags);
}

int kcp_response_header_decode(kcp_reader *r, int16_t header_version, kcp_arena *a,
                               kcp_response_header *h)
{
    memset(h, 0, sizeof *h);
    if (header_version < 0 || header_version > 1)
        return kcp_reader_fail(r, KCP_ERR_VERSION, "ResponseHeader",
                               "header version %d is not 0-1", header_version);
    if (kcp_read_int32(r, "CorrelationId", &h->correlation_id))
        return r->err;
    if (header_version >= 1 &&
        kcp_read_unknown_tags(r, "ResponseHeader._tagged_fields", a, &h->tags))
        return r->err;
    return 0;
}

size_t kcp_response_header_size(const kcp_response_header *h, int16_t header_version)
{
    return 4 + (header_version >= 1 ? unknown_tags_size(&h->tags) : 0);
}

void kcp_response_header_encode(kcp_writer *w, const kcp_response_header *h, int16_t header_version)
{
    kcp_write_int32(w, h->correlation_id); /* CorrelationId */
    if (header_version >= 1)
        write_unknown_tags(w, &h->tags);
}
