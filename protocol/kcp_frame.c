/* Incremental frame reader: partial reads, bounded growth, size limit. */
#include "kcp_frame.h"
#include "kcp_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kcp_frame_reader_init(kcp_frame_reader *fr, size_t max_size)
{
    memset(fr, 0, sizeof *fr);
    fr->max_size = max_size ? max_size : KCP_FRAME_MAX_DEFAULT;
    fr->size = -1;
}

void kcp_frame_reader_free(kcp_frame_reader *fr)
{
    free(fr->body);
    size_t max = fr->max_size;
    kcp_frame_reader_init(fr, max);
}

size_t kcp_frame_reader_pending(const kcp_frame_reader *fr)
{
    return fr->size_have + fr->body_have;
}

int kcp_frame_reader_feed(kcp_frame_reader *fr, const uint8_t *data, size_t len,
                          size_t *consumed, uint8_t **frame, size_t *frame_len,
                          char *errstr, size_t errstr_size)
{
    size_t used = 0;
    *consumed = 0;
    while (fr->size < 0) {
        if (fr->size_have == 4) /* a refused size prefix: stay refused */
            return KCP_ERR_FRAME_SIZE;
        if (used == len)
            return 0;
        fr->size_buf[fr->size_have++] = data[used++];
        *consumed = used;
        if (fr->size_have < 4)
            continue;
        int32_t size = (int32_t)(((uint32_t)fr->size_buf[0] << 24) | ((uint32_t)fr->size_buf[1] << 16) |
                                 ((uint32_t)fr->size_buf[2] << 8) | fr->size_buf[3]);
        if (size < 0 || (size_t)size > fr->max_size) {
            if (errstr && errstr_size)
                snprintf(errstr, errstr_size, "frame size %ld is outside 0..%zu (socket.request.max.bytes)",
                         (long)size, fr->max_size);
            return KCP_ERR_FRAME_SIZE;
        }
        fr->size = size;
    }
    size_t want = (size_t)fr->size - fr->body_have;
    size_t take = len - used < want ? len - used : want;
    if (fr->body_have + take > fr->body_cap || !fr->body) {
        /* Grow geometrically, but never past what has actually arrived plus
         * a small slack, so memory follows the bytes the peer really sent. */
        size_t cap = fr->body_cap ? fr->body_cap : 256;
        while (cap < fr->body_have + take)
            cap *= 2;
        if (cap > (size_t)fr->size)
            cap = fr->size ? (size_t)fr->size : 1;
        uint8_t *nb = realloc(fr->body, cap);
        if (!nb) {
            if (errstr && errstr_size)
                snprintf(errstr, errstr_size, "out of memory for a %ld-byte frame", (long)fr->size);
            return KCP_ERR_NOMEM;
        }
        fr->body = nb;
        fr->body_cap = cap;
    }
    if (take)
        memcpy(fr->body + fr->body_have, data + used, take);
    fr->body_have += take;
    used += take;
    *consumed = used;
    if (fr->body_have < (size_t)fr->size)
        return 0;
    *frame = fr->body;
    *frame_len = fr->body_have;
    fr->body = NULL;
    fr->body_cap = 0;
    fr->body_have = 0;
    fr->size_have = 0;
    fr->size = -1;
    return 1;
}
