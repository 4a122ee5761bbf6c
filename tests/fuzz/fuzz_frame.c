/*
 * Fuzz target for the incremental frame reader.
 *
 * Input: byte 0 sets the reader's maximum frame size (1-256, small so that
 * both accepted and refused sizes are easy to reach), byte 1 holds a count
 * n (0-15) of chunk sizes that follow, and the rest is the byte stream. The
 * stream is fed in chunks cycling through those sizes (0 = an empty read),
 * as recv() might return it; with no sizes, or only zeros, in one piece.
 *
 * An independent reading of the stream checks every answer: consumed never
 * exceeds the chunk, each frame is exactly the bytes its size prefix
 * announced and never longer than the maximum, a refused size really is
 * negative or too large, and pending() counts the bytes of the partial frame.
 */
#include "fuzz_target.h"
#include "kcp_frame.h"
#include "kcp_wire.h"

#include <string.h>

typedef struct stream_model {
    const uint8_t *bytes;
    size_t len;
    size_t max;
    size_t frame_start; /* offset of the frame the reader is working on */
} stream_model;

static int32_t declared_size(const stream_model *s)
{
    const uint8_t *p = s->bytes + s->frame_start;
    return (int32_t)(((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]);
}

/* Checks one answer of the reader; fed is the stream offset after the bytes
 * it consumed. Returns false once the reader refused the stream. */
static bool check_answer(stream_model *s, const kcp_frame_reader *fr, int rc, size_t fed,
                         uint8_t *frame, size_t frame_len, const char *errstr)
{
    if (rc < 0) {
        FUZZ_CHECK(rc == KCP_ERR_FRAME_SIZE, "unexpected error %s", kcp_err_name(rc));
        FUZZ_CHECK(fed == s->frame_start + 4, "refused after %zu bytes of the frame",
                   fed - s->frame_start);
        int32_t size = declared_size(s);
        FUZZ_CHECK(size < 0 || (size_t)size > s->max, "refused size %d within 0..%zu", (int)size,
                   s->max);
        FUZZ_CHECK(errstr[0] != '\0', "refused without a message");
        return false;
    }
    if (rc == 1) {
        FUZZ_CHECK(fed >= s->frame_start + 4, "frame before its size prefix was read");
        int32_t size = declared_size(s);
        FUZZ_CHECK(size >= 0 && (size_t)size <= s->max, "accepted size %d outside 0..%zu",
                   (int)size, s->max);
        FUZZ_CHECK(frame_len == (size_t)size && frame_len <= s->max,
                   "frame of %zu bytes for a size prefix of %d", frame_len, (int)size);
        FUZZ_CHECK(fed == s->frame_start + 4 + frame_len, "frame ended at %zu, expected %zu", fed,
                   s->frame_start + 4 + frame_len);
        FUZZ_CHECK(frame_len == 0 || memcmp(frame, s->bytes + s->frame_start + 4, frame_len) == 0,
                   "frame bytes differ from the stream");
        s->frame_start = fed;
    }
    size_t pending = kcp_frame_reader_pending(fr);
    FUZZ_CHECK(pending == fed - s->frame_start, "pending() says %zu, %zu bytes are held", pending,
               fed - s->frame_start);
    FUZZ_CHECK(pending <= 4 + s->max, "pending %zu beyond a whole frame", pending);
    return true;
}

/* Feeds one chunk until the reader has consumed all of it or refused it.
 * *fed is the stream offset of the chunk's first byte, advanced as we go. */
static bool feed_chunk(stream_model *s, kcp_frame_reader *fr, size_t *fed, size_t len)
{
    size_t left = len;
    do {
        const uint8_t *p = s->bytes + *fed;
        size_t consumed = (size_t)-1, frame_len = 0;
        uint8_t *frame = NULL;
        char errstr[128] = "";
        int rc = kcp_frame_reader_feed(fr, p, left, &consumed, &frame, &frame_len, errstr,
                                       sizeof errstr);
        FUZZ_CHECK(consumed <= left, "consumed %zu of %zu bytes", consumed, left);
        FUZZ_CHECK(rc != 0 || consumed == left, "wants more after consuming %zu of %zu bytes",
                   consumed, left);
        FUZZ_CHECK(rc != 1 || consumed > 0, "a frame out of no new bytes");
        *fed += consumed;
        left -= consumed;
        bool go_on = check_answer(s, fr, rc, *fed, frame, frame_len, errstr);
        free(frame);
        if (!go_on)
            return false;
    } while (left > 0);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t n_sizes = data[1] % 16;
    if (size < 2 + n_sizes)
        return 0;
    const uint8_t *sizes = data + 2;
    size_t cycle = 0;
    for (size_t i = 0; i < n_sizes; i++)
        cycle += sizes[i];

    stream_model s = {data + 2 + n_sizes, size - 2 - n_sizes, (size_t)data[0] + 1, 0};
    kcp_frame_reader fr;
    kcp_frame_reader_init(&fr, s.max);
    FUZZ_CHECK(fr.max_size == s.max, "max_size %zu, asked for %zu", fr.max_size, s.max);

    size_t fed = 0;
    /* Each full cycle of sizes feeds at least one byte, so this ends. */
    for (size_t i = 0; fed < s.len || i == 0; i++) {
        size_t want = cycle ? sizes[i % n_sizes] : s.len;
        size_t len = want < s.len - fed ? want : s.len - fed;
        if (!feed_chunk(&s, &fr, &fed, len))
            break;
    }
    kcp_frame_reader_free(&fr);
    return 0;
}
