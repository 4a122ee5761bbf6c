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
static inline bool kcp_str_eq(kcp_str a, kcp_str b)
{
    if (a.len < 0 || b.len < 0)
        return a.len < 0 && b.len < 0;
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, (size_t)a.len) == 0);
}

static inline bool kcp_bytes_eq(kcp_bytes a, kcp_bytes b)
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
    kcp_arena_chunk *head;
} kcp_arena;

/* Returns zeroed, 8-byte aligned memory owned by the arena, or NULL. */
void *kcp_arena_alloc(kcp_arena *a, size_t size);
/* Copies len bytes into the arena; returns NULL when out of memory. */
void *kcp_arena_memdup(kcp_arena *a, const void *src, size_t len);
/* Frees everything the arena handed out; the arena is empty afterwards. */
void kcp_arena_free(kcp_arena *a);
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

static inline size_t kcp_reader_left(const kcp_reader *r)
{
    return r->len - r->pos;
}

/* Fixed-width reads: 0 on success, a kcp_err after recording it. */
#define KCP__NEED(r, n, field)                                                           \
    do {                                                                                  \
        if ((r)->len - (r)->pos < (n))                                                   \
            return kcp_reader_fail((r), KCP_ERR_TRUNCATED, (field),                     \
                                   "needs %zu bytes, %zu left", (size_t)(n),            \
                                   (r)->len - (r)->pos);                                 \
    } while (0)

static inline uint64_t kcp__be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static inline int kcp_read_int8(kcp_reader *r, const char *field, int8_t *out)
{
    KCP__NEED(r, 1, field);
    *out = (int8_t)r->buf[r->pos++];
    return 0;
}

static inline int kcp_read_bool(kcp_reader *r, const char *field, bool *out)
{
    KCP__NEED(r, 1, field);
    /* Kafka reads any non-zero byte as true. */
    *out = r->buf[r->pos++] != 0;
    return 0;
}

static inline int kcp_read_int16(kcp_reader *r, const char *field, int16_t *out)
{
    KCP__NEED(r, 2, field);
    *out = (int16_t)(uint16_t)kcp__be(r->buf + r->pos, 2);
    r->pos += 2;
    return 0;
}

static inline int kcp_read_uint16(kcp_reader *r, const char *field, uint16_t *out)
{
    KCP__NEED(r, 2, field);
    *out = (uint16_t)kcp__be(r->buf + r->pos, 2);
    r->pos += 2;
    return 0;
}

static inline int kcp_read_int32(kcp_reader *r, const char *field, int32_t *out)
{
    KCP__NEED(r, 4, field);
    *out = (int32_t)(uint32_t)kcp__be(r->buf + r->pos, 4);
    r->pos += 4;
    return 0;
}

static inline int kcp_read_uint32(kcp_reader *r, const char *field, uint32_t *out)
{
    KCP__NEED(r, 4, field);
    *out = (uint32_t)kcp__be(r->buf + r->pos, 4);
    r->pos += 4;
    return 0;
}

static inline int kcp_read_int64(kcp_reader *r, const char *field, int64_t *out)
{
    KCP__NEED(r, 8, field);
    *out = (int64_t)kcp__be(r->buf + r->pos, 8);
    r->pos += 8;
    return 0;
}

static inline int kcp_read_float64(kcp_reader *r, const char *field, double *out)
{
    KCP__NEED(r, 8, field);
    uint64_t bits = kcp__be(r->buf + r->pos, 8);
    memcpy(out, &bits, sizeof bits);
    r->pos += 8;
    return 0;
}

static inline int kcp_read_uuid(kcp_reader *r, const char *field, kcp_uuid *out)
{
    KCP__NEED(r, 16, field);
    memcpy(out->b, r->buf + r->pos, 16);
    r->pos += 16;
    return 0;
}

/* Unsigned varint of at most 5 bytes (32 bits), as KIP-482 uses for lengths. */
int kcp_read_uvarint(kcp_reader *r, const char *field, uint32_t *out);
/* Zig-zag varint (int32) and varlong (int64), as in record batches. */
int kcp_read_varint(kcp_reader *r, const char *field, int32_t *out);
int kcp_read_varlong(kcp_reader *r, const char *field, int64_t *out);

/* Strings are views into the reader's buffer. compact selects the
 * KIP-482 uvarint N+1 length; nullable allows a null (len -1). Kafka strings
 * are UTF-8 and are checked as such. */
int kcp_read_string(kcp_reader *r, const char *field, bool compact, bool nullable,
                    kcp_str *out);
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
static inline void kcp_writer_init(kcp_writer *w, void *buf, size_t cap)
{
    w->buf = (uint8_t *)buf;
    w->cap = cap;
    w->pos = 0;
    w->err = KCP_OK;
}

static inline uint8_t *kcp__room(kcp_writer *w, size_t n)
{
    if (w->cap - w->pos < n) {
        w->err = KCP_ERR_SPACE;
        return NULL;
    }
    uint8_t *p = w->buf + w->pos;
    w->pos += n;
    return p;
}

static inline void kcp__put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

#define KCP__PUT(w, v, n)                                                                \
    do {                                                                                  \
        uint8_t *p_ = kcp__room((w), (n));                                                \
        if (p_)                                                                           \
            kcp__put_be(p_, (uint64_t)(v), (n));                                          \
    } while (0)

static inline void kcp_write_int8(kcp_writer *w, int8_t v) { KCP__PUT(w, (uint8_t)v, 1); }
static inline void kcp_write_bool(kcp_writer *w, bool v) { KCP__PUT(w, v ? 1 : 0, 1); }
static inline void kcp_write_int16(kcp_writer *w, int16_t v) { KCP__PUT(w, (uint16_t)v, 2); }
static inline void kcp_write_uint16(kcp_writer *w, uint16_t v) { KCP__PUT(w, v, 2); }
static inline void kcp_write_int32(kcp_writer *w, int32_t v) { KCP__PUT(w, (uint32_t)v, 4); }
static inline void kcp_write_uint32(kcp_writer *w, uint32_t v) { KCP__PUT(w, v, 4); }
static inline void kcp_write_int64(kcp_writer *w, int64_t v) { KCP__PUT(w, (uint64_t)v, 8); }

static inline void kcp_write_float64(kcp_writer *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    KCP__PUT(w, bits, 8);
}

static inline void kcp_write_raw(kcp_writer *w, const void *src, size_t n)
{
    uint8_t *p = kcp__room(w, n);
    if (p && n)
        memcpy(p, src, n);
}

static inline void kcp_write_uuid(kcp_writer *w, const kcp_uuid *v) { kcp_write_raw(w, v->b, 16); }

static inline void kcp_write_uvarint(kcp_writer *w, uint32_t v)
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

static inline void kcp_write_uvarlong(kcp_writer *w, uint64_t v)
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

static inline void kcp_write_varint(kcp_writer *w, int32_t v)
{
    kcp_write_uvarint(w, ((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

static inline void kcp_write_varlong(kcp_writer *w, int64_t v)
{
    kcp_write_uvarlong(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* Length prefix of a string, bytes or array: classic int16/int32 or compact
 * uvarint N+1; n < 0 writes null. */
static inline void kcp_write_len16(kcp_writer *w, bool compact, int32_t n)
{
    if (compact)
        kcp_write_uvarint(w, n < 0 ? 0 : (uint32_t)n + 1);
    else
        kcp_write_int16(w, (int16_t)(n < 0 ? -1 : n));
}

static inline void kcp_write_len32(kcp_writer *w, bool compact, int32_t n)
{
    if (compact)
        kcp_write_uvarint(w, n < 0 ? 0 : (uint32_t)n + 1);
    else
        kcp_write_int32(w, n < 0 ? -1 : n);
}

static inline void kcp_write_string(kcp_writer *w, bool compact, kcp_str s)
{
    kcp_write_len16(w, compact, s.len);
    if (s.len > 0)
        kcp_write_raw(w, s.ptr, (size_t)s.len);
}

static inline void kcp_write_bytes(kcp_writer *w, bool compact, kcp_bytes b)
{
    kcp_write_len32(w, compact, b.len);
    if (b.len > 0)
        kcp_write_raw(w, b.ptr, (size_t)b.len);
}

static inline void kcp_write_array_len(kcp_writer *w, bool compact, int32_t n)
{
    kcp_write_len32(w, compact, n);
}

/* ------------------------------------------------------------------------
 * Sizes
 * --------------------------------------------------------------------- */
static inline size_t kcp_uvarint_size(uint32_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static inline size_t kcp_uvarlong_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static inline size_t kcp_varint_size(int32_t v)
{
    return kcp_uvarint_size(((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

static inline size_t kcp_varlong_size(int64_t v)
{
    return kcp_uvarlong_size(((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static inline size_t kcp_len16_size(bool compact, int32_t n)
{
    return compact ? kcp_uvarint_size(n < 0 ? 0 : (uint32_t)n + 1) : 2;
}

static inline size_t kcp_len32_size(bool compact, int32_t n)
{
    return compact ? kcp_uvarint_size(n < 0 ? 0 : (uint32_t)n + 1) : 4;
}

static inline size_t kcp_string_size(bool compact, kcp_str s)
{
    return kcp_len16_size(compact, s.len) + (s.len > 0 ? (size_t)s.len : 0);
}

static inline size_t kcp_bytes_size(bool compact, kcp_bytes b)
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
