/*
 * kcp_header.h: Kafka request and response headers.
 *
 * Request header v0: api_key, api_version, correlation_id.
 *                v1: + client_id (int16-length nullable string).
 *                v2: + tagged fields; client_id stays a classic string so
 *                    that any broker can read any header (KIP-482).
 * Response header v0: correlation_id; v1: + tagged fields.
 * Which version an API uses comes from kcp_api_request_header_version() and
 * kcp_api_response_header_version() in the generated kcp_messages.h.
 */
#ifndef KCP_HEADER_H
#define KCP_HEADER_H

#include "kcp_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kcp_request_header {
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    kcp_str client_id;       /* view into the decoded buffer; null allowed */
    kcp_raw_tags tags;       /* v2 tagged fields, none are defined by Kafka */
} kcp_request_header;

typedef struct kcp_response_header {
    int32_t correlation_id;
    kcp_raw_tags tags;
} kcp_response_header;

/* Decodes a request header of the given version (0-2). Unknown tagged fields
 * are kept in arena a. Returns 0 or a kcp_err with r->errstr filled. */
int kcp_request_header_decode(kcp_reader *r, int16_t header_version, kcp_arena *a,
                              kcp_request_header *h);
/* Reads only api_key, api_version and correlation_id, which every header
 * version starts with; a broker uses it to pick the header version. */
int kcp_request_header_peek(const void *frame, size_t len, int16_t *api_key,
                            int16_t *api_version, int32_t *correlation_id);
/* Bytes that kcp_request_header_encode() will write. */
size_t kcp_request_header_size(const kcp_request_header *h, int16_t header_version);
/* Writes the header; check w->err afterwards. */
void kcp_request_header_encode(kcp_writer *w, const kcp_request_header *h, int16_t header_version);

int kcp_response_header_decode(kcp_reader *r, int16_t header_version, kcp_arena *a,
                               kcp_response_header *h);
size_t kcp_response_header_size(const kcp_response_header *h, int16_t header_version);
void kcp_response_header_encode(kcp_writer *w, const kcp_response_header *h, int16_t header_version);

/* Reads a tagged-field section whose fields are all unknown to us. */
int kcp_read_unknown_tags(kcp_reader *r, const char *field, kcp_arena *a, kcp_raw_tags *tags);

#ifdef __cplusplus
}
#endif
#endif
