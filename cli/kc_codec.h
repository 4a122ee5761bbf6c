/*
 * kc_codec.h: whole request frames and response bodies for the CLI's
 * requests, through protocol/'s generated codecs. The wire API key is
 * passed separately because DescribeConnections' key is configurable.
 */
#ifndef KC_CODEC_H
#define KC_CODEC_H

#include "kcp_messages.h"

#include <stddef.h>
#include <stdint.h>

/* Builds size + request header (the version api uses at version) + body.
 * *frame is malloc'd (caller frees). Returns 0 or a kcp_err. */
int kc_encode_request(kcp_api_id api, int16_t api_key, int16_t version, int32_t correlation_id,
                      const char *client_id, const void *body, uint8_t **frame, size_t *frame_len);

/* Reads the response header of api at version from a frame (without its
 * size prefix) and checks its correlation id. *body_off is where the body
 * starts. Returns 0, or -1 with err saying what was wrong. */
int kc_response_body(kcp_api_id api, int16_t version, int32_t correlation_id, const uint8_t *frame,
                     size_t len, size_t *body_off, char *err, size_t err_size);

/* Decodes a response body of api at version into msg (a kcp_*_response of
 * that api; free it with its _free function whatever this returns).
 * Returns 0, or -1 with err naming the field and offset. */
int kc_decode_response(kcp_api_id api, int16_t version, const uint8_t *body, size_t len, void *msg,
                       char *err, size_t err_size);

#endif
