/*
 * kcp_wire.h: Kafka wire primitives (big-endian integers, varints, classic
 * and compact strings/bytes/arrays, tagged-field sections).
 *
 * Encodings follow the Apache Kafka protocol guide and KIP-482 (flexible
 * versions). Readers are bounds-checked and record the first error with the
 * field name and byte offset; writers write into a buffer sized beforehand
 * with the matching *_size() functions.
 *
 * The hot primitives are static inline so the generated codecs compile to
 * straight-line loads and stores.
 */
#ifndef KCP_WIRE_H
#define KCP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Branch hints and forced inlining for the hot primitives below: the
 * generated codecs call them once per field, so a call or a mispredicted
 * error branch costs more than the work itself. */
#if defined(__GNUC__)
#define KCP__LIKELY(x) __builtin_expect(!!(x), 1)
#define KCP__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define KCP__COLD __attribute__((cold, noinline))
#define KCP__INLINE static inline __attribute__((always_inline))
#else
#define KCP__LIKELY(x) (x)
#define KCP__UNLIKELY(x) (x)
#define KCP__COLD
#define KCP__INLINE static inline
#endif

/* Codec errors: negative, so Kafka error codes (>= -1) never collide. */
typedef enum kcp_err {
    KCP_OK = 0,
    KCP_ERR_TRUNCATED = -100, /* fewer bytes left than the field needs */
    KCP_ERR_VARINT = -101,    /* varint longer than its type allows */
    KCP_ERR_LENGTH = -102,    /* length or count invalid or beyond the bytes left */
    KCP_ERR_UTF8 = -103,      /* string is not valid UTF-8 */
    KCP_ERR_NULL = -104,      /* null where this version does not allow it */
    KCP_ERR_VERSION = -105,   /* version outside the message's valid range */
    KCP_ERR_FRAME_SIZE = -106,/* frame size negative or above the maximum */
    KCP_ERR_NOMEM = -107,     /* allocation failed */
    KCP_ERR_TAGS = -108,      /* tagged fields out of order, repeated or mis-sized */
    KCP_ERR_SPACE = -109,     /* writer ran out of room (size/encode mismatch) */
    KCP_ERR_UNSUPPORTED = -110/* value cannot be expressed in this version */
} kcp_err;

/* Returns a static, human-readable name for a kcp_err value. */
const char *kcp_err_name(int err);

/* A string view: len < 0 means null. Not NUL-terminated. */
typedef struct kcp_str {
    const char *ptr;
    int32_t len;
} kcp_str;

/* A bytes view: len < 0 means null. */
typedef struct kcp_bytes {
    const uint8_t *ptr;
    int32_t len;
} kcp_bytes;

typedef struct kcp_uuid {
    uint8_t b[16];
} kcp_uuid;

/* One tagged field the decoder did not know, kept so it can be re-encoded. */
typedef struct kcp_raw_tag {
    uint32_t tag;
    kcp_bytes data;
} kcp_raw_tag;

typedef struct kcp_raw_tags {
    uint32_t n;
    kcp_raw_tag *v;
} kcp_raw_tags;

#define KCP_STR_NULL ((kcp_str){NULL, -1})
#define KCP_BYTES_NULL ((kcp_bytes){NULL, -1})

/* Builds a view of a NUL-terminated C string (NULL gives a null string). */
static inline kcp_str kcp_str_c(const char *s)
{
    kcp_str r = {s, s ? (int32_t)strlen(s) : -1};
    return r;
}

/* True when both views are null, or both hold the same bytes. */
KCP__INLINE bool kcp_str_eq(kcp_str a, kcp_str b)
{
    if (a.len < 0 || b.len < 0)
        return a.len < 0 && b.len < 0;
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0);
}

KCP__INLINE bool kcp_bytes_eq(kcp_bytes a, kcp_bytes b)
{
    kcp_str x = {(const char *)a.ptr, a.len}, y = {(const char *)b.ptr, b.len};
    return kcp_str_eq(x, y);
}

/* ------------------------------------------------------------------------
 * Arena: decoded messages allocate their arrays here and free them at once.
 * A zeroed kcp_arena is empty and valid.
 * --------------------------------------------------------------------- */
typedef struct kcp_arena_chunk kcp_arena_chunk;
typedef struct kcp_arena {
    kcp_arena_chunk *head;  /* chunks handing out memory, newest first */
    kcp_arena_chunk *spare; /* chunks kept by kcp_arena_reset() for reuse */
} kcp_arena;

/* Returns zeroed, 8-byte aligned memory owned by the arena, or NULL. */
void *kcp_arena_alloc(kcp_arena *a, size_t size);
/* Copies len bytes into the arena; returns NULL when out of memory. */
void *kcp_arena_memdup(kcp_arena *a, const void *src, size_t len);
/* Frees everything the arena handed out; the arena is empty afterwards. */
void kcp_arena_free(kcp_arena *a);
/* Forgets everything handed out but keeps the memory for the next
 * allocations, so decoding page after page touches no fresh pages. */
void kcp_arena_reset(kcp_arena *a);
/* Bytes currently held from the system allocator (for memory reports). */
size_t kcp_arena_bytes(const kcp_arena *a);

/* ------------------------------------------------------------------------
 * Reader
 * --------------------------------------------------------------------- */
#define KCP_ERRSTR_SIZE 256

typedef struct kcp_reader {
    const uint8_t *buf;
    size_t len;
    size_t pos;
    size_t base;        /* offset of buf within the whole frame, for messages */
    const char *what;   /* message being decoded, e.g. "MetadataResponse v12" */
    int err;            /* first error (kcp_err), KCP_OK while fine */
    char errstr[KCP_ERRSTR_SIZE];
} kcp_reader;

/* Starts reading len bytes at buf; the caller keeps buf alive. */
void kcp_reader_init(kcp_reader *r, const void *buf, size_t len);

/* Records the first error (field, offset and the formatted reason) and
 * returns err. Later calls keep the first error. */
int kcp_reader_fail(kcp_reader *r, int err, const char *field, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

KCP__INLINE size_t kcp_reader_left(const kcp_reader *r)
{
    return r->len - r->pos;
}

/* Records a truncation ("needs n bytes, m left"). Out of line and cold so
 * that each inline read stays a compare, a load and a store. */
KCP__COLD int kcp__fail_need(kcp_reader *r, const char *field, size_t n);

/* Returns from the calling read, after recording it, when fewer than n
 * bytes are left. Returning fail_need's code, rather than testing a result
 * after the call, keeps every failure in the cold path. */
#define KCP__NEED(r, n, field)                                                           \
    do {                                                                                  \
        if (KCP__UNLIKELY((r)->len - (r)->pos < (n)))                                    \
            return kcp__fail_need((r), (field), (size_t)(n));                            \
    } while (0)

/* Big-endian loads spelled byte by byte (no alignment or endianness
 * assumptions); compilers turn each into one load and a byte swap. */
KCP__INLINE uint8_t kcp__be8(const uint8_t *p)
{
    return p[0];
}

KCP__INLINE uint16_t kcp__be16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

KCP__INLINE uint32_t kcp__be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

KCP__INLINE uint64_t kcp__be64(const uint8_t *p)
{
    return (uint64_t)kcp__be32(p) << 32 | kcp__be32(p + 4);
}

/* Loads a bits-wide big-endian field into *out as type and moves past it,
 * or returns the error from the calling read with *out untouched. */
#define KCP__GET(r, field, out, type, bits)                                               \
    do {                                                                                  \
        KCP__NEED((r), (bits) / 8, (field));                                              \
        *(out) = (type)kcp__be##bits((r)->buf + (r)->pos);                                \
        (r)->pos += (bits) / 8;                                                           \
    } while (0)

/* Fixed-width reads: 0 on success, a kcp_err after recording it. */
KCP__INLINE int kcp_read_int8(kcp_reader *r, const char *field, int8_t *out)
{
    KCP__GET(r, field, out, int8_t, 8);
    return 0;
}

/* Kafka reads any non-zero byte as true, as the conversion to bool does. */
KCP__INLINE int kcp_read_bool(kcp_reader *r, const char *field, bool *out)
{
    KCP__GET(r, field, out, bool, 8);
    return 0;
}

KCP__INLINE int kcp_read_int16(kcp_reader *r, const char *field, int16_t *out)
{
    KCP__GET(r, field, out, int16_t, 16);
    return 0;
}

KCP__INLINE int kcp_read_uint16(kcp_reader *r, const char *field, uint16_t *out)
{
    KCP__GET(r, field, out, uint16_t, 16);
    return 0;
}

KCP__INLINE int kcp_read_int32(kcp_reader *r, const char *field, int32_t *out)
{
    KCP__GET(r, field, out, int32_t, 32);
    return 0;
}

KCP__INLINE int kcp_read_uint32(kcp_reader *r, const char *field, uint32_t *out)
{
    KCP__GET(r, field, out, uint32_t, 32);
    return 0;
}

KCP__INLINE int kcp_read_int64(kcp_reader *r, const char *field, int64_t *out)
{
    KCP__GET(r, field, out, int64_t, 64);
    return 0;
}

KCP__INLINE int kcp_read_float64(kcp_reader *r, const char *field, double *out)
{
    uint64_t bits;
    KCP__GET(r, field, &bits, uint64_t, 64);
    memcpy(out, &bits, sizeof bits);
    return 0;
}

KCP__INLINE int kcp_read_uuid(kcp_reader *r, const char *field, kcp_uuid *out)
{
    KCP__NEED(r, sizeof out->b, field);
    memcpy(out->b, r->buf + r->pos, sizeof out->b);
    r->pos += sizeof out->b;
    return 0;
}

/* Unsigned varint of at most 5 bytes (32 bits), as KIP-482 uses for lengths.
 * The inline part reads the one-byte case (values below 128: nearly every
 * length and count); kcp__read_uvarint_full reads any, with every check. */
int kcp__read_uvarint_full(kcp_reader *r, const char *field, uint32_t *out);

KCP__INLINE int kcp_read_uvarint(kcp_reader *r, const char *field, uint32_t *out)
{
    if (KCP__LIKELY(r->pos < r->len) && KCP__LIKELY(r->buf[r->pos] < 0x80)) {
        *out = r->buf[r->pos++];
        return 0;
    }
    return kcp__read_uvarint_full(r, field, out);
}

/* Zig-zag varint (int32) and varlong (int64), as in record batches. */
int kcp_read_varint(kcp_reader *r, const char *field, int32_t *out);
int kcp_read_varlong(kcp_reader *r, const char *field, int64_t *out);

/* True when none of the n bytes at s has its high bit set (so they are
 * valid UTF-8 without further checks). */
KCP__INLINE bool kcp__ascii(const uint8_t *s, size_t n)
{
    /* Whole words, the last one overlapping the one before, as in kcp__copy. */
    uint64_t acc = 0, x, y;
    if (n >= 16) {
        for (size_t i = 0; i + 16 <= n; i += 16) {
            memcpy(&x, s + i, 8);
            memcpy(&y, s + i + 8, 8);
            acc |= x | y;
        }
        memcpy(&x, s + n - 16, 8);
        memcpy(&y, s + n - 8, 8);
        acc |= x | y;
    } else if (n >= 8) {
        memcpy(&x, s, 8);
        memcpy(&y, s + n - 8, 8);
        acc = x | y;
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        acc = a | b;
    } else {
        for (size_t i = 0; i < n; i++)
            acc |= s[i];
    }
    return (acc & UINT64_C(0x8080808080808080)) == 0;
}

/* Strings are views into the reader's buffer. compact selects the
 * KIP-482 uvarint N+1 length; nullable allows a null (len -1). Kafka strings
 * are UTF-8 and are checked as such. */
int kcp__read_string_full(kcp_reader *r, const char *field, bool compact, bool nullable,
                          kcp_str *out);

KCP__INLINE int kcp_read_string(kcp_reader *r, const char *field, bool compact, bool nullable,
                                  kcp_str *out)
{
    /* Inline: a compact one-byte length and an ASCII body that fits, as
     * nearly every Kafka string has. Anything else, and every error, goes
     * through kcp__read_string_full from the same position. */
    if (compact && KCP__LIKELY(r->pos < r->len)) {
        uint32_t u = r->buf[r->pos];
        size_t left = r->len - r->pos - 1;
        if (u == 0 && nullable) {
            r->pos++;
            *out = KCP_STR_NULL;
            return 0;
        }
        if (u - 1 < 0x7f && u - 1 <= left && kcp__ascii(r->buf + r->pos + 1, u - 1)) {
            out->ptr = (const char *)r->buf + r->pos + 1;
            out->len = (int32_t)(u - 1);
            r->pos += u;
            return 0;
        }
    }
    return kcp__read_string_full(r, field, compact, nullable, out);
}

/* Bytes likewise, with an int32 classic length and no UTF-8 check. */
int kcp_read_bytes(kcp_reader *r, const char *field, bool compact, bool nullable,
                   kcp_bytes *out);

/* Reads an array count and checks that count * min_elem_size bytes remain
 * before anyone allocates; *count is -1 for a null array. */
int kcp_read_array_len(kcp_reader *r, const char *field, bool compact, bool nullable,
                       size_t min_elem_size, int32_t *count);

/* Reads one tagged-field header (tag and size) and checks the size against
 * the bytes left. */
int kcp_read_tag_header(kcp_reader *r, const char *field, uint32_t *tag, uint32_t *size);

/* Moves past size bytes, storing a view of them in *out (may be NULL). */
int kcp_read_skip(kcp_reader *r, const char *field, size_t size, kcp_bytes *out);

/* Starts sub reading the next size bytes of r (size already checked
 * against what is left), for a tagged field that must use exactly them. */
void kcp_reader_sub(const kcp_reader *r, kcp_reader *sub, size_t size);
/* Ends a sub-reader: copies its error into r, or fails if it left bytes
 * unread, else moves r past the sub-reader's bytes. 0 or a kcp_err. */
int kcp_reader_join(kcp_reader *r, const kcp_reader *sub, const char *field);

/* Adds one unknown tagged field to tags, allocating from the arena. */
int kcp_raw_tags_add(kcp_reader *r, kcp_arena *a, kcp_raw_tags *tags, uint32_t tag,
                     kcp_bytes data);

/* True when s[0..len) is well-formed UTF-8 (no overlongs or surrogates). */
bool kcp_utf8_valid(const char *s, size_t len);

/* ------------------------------------------------------------------------
 * Writer: the buffer must be sized with the *_size() functions first.
 * Errors are sticky: check w->err once after the last write.
 * --------------------------------------------------------------------- */
typedef struct kcp_writer {
    uint8_t *buf;
    size_t cap;
    size_t pos;
    int err;
} kcp_writer;

/* Writes into cap bytes at buf; the caller owns buf. */
KCP__INLINE void kcp_writer_init(kcp_writer *w, void *buf, size_t cap)
{
    w->buf = (uint8_t *)buf;
    w->cap = cap;
    w->pos = 0;
    w->err = KCP_OK;
}

KCP__INLINE uint8_t *kcp__room(kcp_writer *w, size_t n)
{
    if (KCP__UNLIKELY(w->cap - w->pos < n)) {
        w->err = KCP_ERR_SPACE;
        return NULL;
    }
    uint8_t *p = w->buf + w->pos;
    w->pos += n;
    return p;
}

/* Big-endian stores spelled byte by byte; compilers merge each into a
 * byte swap and one store. */
KCP__INLINE void kcp__put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

KCP__INLINE void kcp__put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

KCP__INLINE void kcp__put_be64(uint8_t *p, uint64_t v)
{
    kcp__put_be32(p, (uint32_t)(v >> 32));
    kcp__put_be32(p + 4, (uint32_t)v);
}

#define KCP__PUT(w, v, bits)                                                             \
    do {                                                                                  \
        uint8_t *p_ = kcp__room((w), (bits) / 8);                                         \
        if (KCP__LIKELY(p_ != NULL))                                                      \
            kcp__put_be##bits(p_, (v));                                                   \
    } while (0)

KCP__INLINE void kcp_write_int8(kcp_writer *w, int8_t v)
{
    uint8_t *p = kcp__room(w, 1);
    if (KCP__LIKELY(p != NULL))
        *p = (uint8_t)v;
}

KCP__INLINE void kcp_write_bool(kcp_writer *w, bool v) { kcp_write_int8(w, v ? 1 : 0); }
KCP__INLINE void kcp_write_int16(kcp_writer *w, int16_t v) { KCP__PUT(w, (uint16_t)v, 16); }
KCP__INLINE void kcp_write_uint16(kcp_writer *w, uint16_t v) { KCP__PUT(w, v, 16); }
KCP__INLINE void kcp_write_int32(kcp_writer *w, int32_t v) { KCP__PUT(w, (uint32_t)v, 32); }
KCP__INLINE void kcp_write_uint32(kcp_writer *w, uint32_t v) { KCP__PUT(w, v, 32); }
KCP__INLINE void kcp_write_int64(kcp_writer *w, int64_t v) { KCP__PUT(w, (uint64_t)v, 64); }

KCP__INLINE void kcp_write_float64(kcp_writer *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    KCP__PUT(w, bits, 64);
}

/* Copies n bytes. Up to 128 bytes (nearly every Kafka string) are copied
 * inline in 16-, 8- and 4-byte moves, the last one overlapping the one
 * before, because a call to memcpy costs more than such a copy; exactly the
 * n bytes are written. */
KCP__INLINE void kcp__copy(uint8_t *dst, const void *src, size_t n)
{
    const uint8_t *s = (const uint8_t *)src;
    if (n > 128) {
        memcpy(dst, s, n);
    } else if (n >= 16) {
        for (size_t i = 0; i + 16 <= n; i += 16)
            memcpy(dst + i, s + i, 16);
        memcpy(dst + n - 16, s + n - 16, 16);
    } else if (n >= 8) {
        memcpy(dst, s, 8);
        memcpy(dst + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(dst, s, 4);
        memcpy(dst + n - 4, s + n - 4, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            dst[i] = s[i];
    }
}

KCP__INLINE void kcp_write_raw(kcp_writer *w, const void *src, size_t n)
{
    uint8_t *p = kcp__room(w, n);
    if (p && n)
        kcp__copy(p, src, n);
}

KCP__INLINE void kcp_write_uuid(kcp_writer *w, const kcp_uuid *v) { kcp_write_raw(w, v->b, 16); }

KCP__INLINE void kcp_write_uvarint(kcp_writer *w, uint32_t v)
{
    while (v >= 0x80) {
        uint8_t *p = kcp__room(w, 1);
        if (!p)
            return;
        *p = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    uint8_t *p = kcp__room(w, 1);
    if (p)
        *p = (uint8_t)v;
}

KCP__INLINE void kcp_write_uvarlong(kcp_writer *w, uint64_t v)
{
    while (v >= 0x80) {
        uint8_t *p = kcp__room(w, 1);
        if (!p)
            return;
        *p = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    uint8_t *p = kcp__room(w, 1);
    if (p)
        *p = (uint8_t)v;
}

KCP__INLINE void kcp_write_varint(kcp_writer *w, int32_t v)
{
    kcp_write_uvarint(w, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

KCP__INLINE void kcp_write_varlong(kcp_writer *w, int64_t v)
{
    kcp_write_uvarlong(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* Length prefix of a string, bytes or array: classic int16/int32 or compact
 * uvarint N+1; n < 0 writes null. */
KCP__INLINE void kcp_write_len16(kcp_writer *w, bool compact, int32_t n)
{
    if (compact)
        kcp_write_uvarint(w, n < 0 ? 0 : (uint32_t)n + 1);
    else
        kcp_write_int16(w, (int16_t)(n < 0 ? -1 : n));
}

KCP__INLINE void kcp_write_len32(kcp_writer *w, bool compact, int32_t n)
{
    if (compact)
        kcp_write_uvarint(w, n < 0 ? 0 : (uint32_t)n + 1);
    else
        kcp_write_int32(w, n < 0 ? -1 : n);
}

KCP__INLINE void kcp_write_string(kcp_writer *w, bool compact, kcp_str s)
{
    kcp_write_len16(w, compact, s.len);
    if (s.len > 0)
        kcp_write_raw(w, s.ptr, (size_t)s.len);
}

KCP__INLINE void kcp_write_bytes(kcp_writer *w, bool compact, kcp_bytes b)
{
    kcp_write_len32(w, compact, b.len);
    if (b.len > 0)
        kcp_write_raw(w, b.ptr, (size_t)b.len);
}

KCP__INLINE void kcp_write_array_len(kcp_writer *w, bool compact, int32_t n)
{
    kcp_write_len32(w, compact, n);
}

/* ------------------------------------------------------------------------
 * Sizes
 * --------------------------------------------------------------------- */
KCP__INLINE size_t kcp_uvarint_size(uint32_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

KCP__INLINE size_t kcp_uvarlong_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

KCP__INLINE size_t kcp_varint_size(int32_t v)
{
    return kcp_uvarint_size(((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

KCP__INLINE size_t kcp_varlong_size(int64_t v)
{
    return kcp_uvarlong_size(((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

KCP__INLINE size_t kcp_len16_size(bool compact, int32_t n)
{
    return compact ? kcp_uvarint_size(n < 0 ? 0 : (uint32_t)n + 1) : 2;
}

KCP__INLINE size_t kcp_len32_size(bool compact, int32_t n)
{
    return compact ? kcp_uvarint_size(n < 0 ? 0 : (uint32_t)n + 1) : 4;
}

KCP__INLINE size_t kcp_string_size(bool compact, kcp_str s)
{
    return kcp_len16_size(compact, s.len) + (s.len > 0 ? (size_t)s.len : 0);
}

KCP__INLINE size_t kcp_bytes_size(bool compact, kcp_bytes b)
{
    return kcp_len32_size(compact, b.len) + (b.len > 0 ? (size_t)b.len : 0);
}

/* ------------------------------------------------------------------------
 * Unknown tagged fields: merged in tag order with the known ones on encode.
 * --------------------------------------------------------------------- */

/* Size of the unknown tags (tag, size and data of each). */
size_t kcp_raw_tags_size(const kcp_raw_tags *t);
/* Writes the unknown tags whose number is below limit, starting at *next. */
void kcp_raw_tags_write_below(kcp_writer *w, const kcp_raw_tags *t, uint32_t *next,
                              uint64_t limit);

#ifdef __cplusplus
}
#endif
#endif
