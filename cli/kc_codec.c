/* Request frames and response bodies through the generated codecs. */
#include "kc_codec.h"

#include "kc_net.h"
#include "kcp_header.h"

#include <stdlib.h>

static const kcp_message_desc *desc_of(kcp_api_id api, bool is_request)
{
    for (size_t i = 0; i < kcp_messages_count; i++)
        if (kcp_messages[i].api == api && kcp_messages[i].is_request == is_request)
            return &kcp_messages[i];
    return NULL;
}

int kc_encode_request(kcp_api_id api, int16_t api_key, int16_t version, int32_t correlation_id,
                      const char *client_id, const void *body, uint8_t **frame, size_t *frame_len)
{
    *frame = NULL;
    *frame_len = 0;
    const kcp_message_desc *d = desc_of(api, true);
    if (!d || version < d->min_version || version > d->max_version)
        return KCP_ERR_VERSION;
    kcp_request_header h = {.api_key = api_key,
                            .api_version = version,
                            .correlation_id = correlation_id,
                            .client_id = kcp_str_c(client_id)};
    int16_t hv = kcp_api_request_header_version(api, version);
    size_t n = kcp_request_header_size(&h, hv) + d->size(body, version);
    if (n > INT32_MAX)
        return KCP_ERR_LENGTH;
    uint8_t *buf = malloc(4 + n);
    if (!buf)
        return KCP_ERR_NOMEM;
    kcp_writer w;
    kcp_writer_init(&w, buf, 4 + n);
    kcp_write_int32(&w, (int32_t)n);
    kcp_request_header_encode(&w, &h, hv);
    int rc = w.err ? w.err : d->encode(&w, body, version);
    if (!rc && w.pos != 4 + n)
        rc = KCP_ERR_SPACE;
    if (rc) {
        free(buf);
        return rc;
    }
    *frame = buf;
    *frame_len = 4 + n;
    return 0;
}

int kc_response_body(kcp_api_id api, int16_t version, int32_t correlation_id, const uint8_t *frame,
                     size_t len, size_t *body_off, char *err, size_t err_size)
{
    kcp_reader r;
    kcp_reader_init(&r, frame, len);
    kcp_arena a = {0};
    kcp_response_header h;
    int rc = kcp_response_header_decode(&r, kcp_api_response_header_version(api, version), &a, &h);
    kcp_arena_free(&a);
    if (rc) {
        kc_fmt(err, err_size, "malformed response header: %s", r.errstr);
        return -1;
    }
    if (h.correlation_id != correlation_id) {
        kc_fmt(err, err_size, "response has correlation id %d, expected %d", (int)h.correlation_id,
               (int)correlation_id);
        return -1;
    }
    *body_off = r.pos;
    return 0;
}

int kc_decode_response(kcp_api_id api, int16_t version, const uint8_t *body, size_t len, void *msg,
                       char *err, size_t err_size)
{
    const kcp_message_desc *d = desc_of(api, false);
    kcp_reader r;
    kcp_reader_init(&r, body, len);
    if (d->decode(&r, msg, version)) {
        kc_fmt(err, err_size, "malformed response: %s", r.errstr);
        return -1;
    }
    return 0;
}
