/*
 * kcp_frame.h: incremental reader of size-prefixed Kafka frames.
 *
 * Feed it whatever recv() returned; it hands back whole frames (without the
 * 4-byte size). The buffer grows with the bytes that actually arrive, so a
 * peer announcing a large frame and then going silent holds only what it
 * sent, never the announced size.
 */
#ifndef KCP_FRAME_H
#define KCP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Kafka's default socket.request.max.bytes. */
#define KCP_FRAME_MAX_DEFAULT (100 * 1024 * 1024)

typedef struct kcp_frame_reader {
    size_t max_size;   /* largest frame body accepted */
    uint8_t size_buf[4];
    size_t size_have;  /* bytes of the size prefix read so far */
    int32_t size;      /* body size once the prefix is complete, else -1 */
    uint8_t *body;
    size_t body_cap;
    size_t body_have;
} kcp_frame_reader;

/* Prepares a reader; max_size 0 means KCP_FRAME_MAX_DEFAULT. */
void kcp_frame_reader_init(kcp_frame_reader *fr, size_t max_size);
/* Frees the partial frame the reader holds, if any. */
void kcp_frame_reader_free(kcp_frame_reader *fr);

/* Consumes bytes from data[0..len). Sets *consumed to the bytes used.
 * Returns 1 when a whole frame is ready: *frame (malloc'd, caller frees) and
 * *frame_len are set, and the rest of data is still unconsumed. Returns 0
 * when all of data was consumed and more is needed. Returns KCP_ERR_FRAME_SIZE
 * (negative) with errstr filled for a size below 0 or above max_size, or
 * KCP_ERR_NOMEM; the connection should then be closed. */
int kcp_frame_reader_feed(kcp_frame_reader *fr, const uint8_t *data, size_t len,
                          size_t *consumed, uint8_t **frame, size_t *frame_len,
                          char *errstr, size_t errstr_size);

/* Bytes of a partial frame held (size prefix plus body so far). */
size_t kcp_frame_reader_pending(const kcp_frame_reader *fr);

#ifdef __cplusplus
}
#endif
#endif
