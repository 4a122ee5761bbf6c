/* Out-of-line Kafka wire primitives: varints, length-prefixed values,
 * tagged-field bookkeeping, UTF-8 checks, error formatting and the arena. */
#include "kcp_wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

const char *kcp_err_name(int err)
{
    switch (err) {
    case KCP_OK: return "ok";
    case KCP_ERR_TRUNCATED: return "truncated";
    case KCP_ERR_VARINT: return "bad varint";
    case KCP_ERR_LENGTH: return "bad length";
    case KCP_ERR_UTF8: return "invalid UTF-8";
    case KCP_ERR_NULL: return "unexpected null";
    case KCP_ERR_VERSION: return "unsupported version";
    case KCP_ERR_FRAME_SIZE: return "bad frame size";
    case KCP_ERR_NOMEM: return "out of memory";
    case KCP_ERR_TAGS: return "bad tagged fields";
    case KCP_ERR_SPACE: return "buffer too small";
    case KCP_ERR_UNSUPPORTED: return "not expressible in this version";
    default: return "unknown error";
    }
}

void kcp_reader_init(kcp_reader *r, const void *buf, size_t len)
{
    r->buf = (const uint8_t *)buf;
    r->len = len;
    r->pos = 0;
    r->base = 0;
    r->what = NULL;
    r->err = KCP_OK;
    r->errstr[0] = '\0';
}

int kcp_reader_fail(kcp_reader *r, int err, const char *field, const char *fmt, ...)
{
    if (r->err != KCP_OK)
        return r->err;
    r->err = err;
    int n = snprintf(r->errstr, sizeof r->errstr, "%s%sfield %s at offset %zu: ",
                     r->what ? r->what : "", r->what ? ": " : "", field ? field : "?",
                     r->base + r->pos);
    if (n < 0 || (size_t)n >= sizeof r->errstr)
        return err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errstr + n, sizeof r->errstr - (size_t)n, fmt, ap);
    va_end(ap);
    return err;
}

int kcp__fail_need(kcp_reader *r, const char *field, size_t n)
{
    return kcp_reader_fail(r, KCP_ERR_TRUNCATED, field, "needs %zu bytes, %zu left", n,
                           r->len - r->pos);
}

int kcp__read_uvarint_full(kcp_reader *r, const char *field, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 5; i++) {
        if (r->pos >= r->len)
            return kcp_reader_fail(r, KCP_ERR_TRUNCATED, field, "varint cut short");
        uint8_t b = r->buf[r->pos++];
        if (i == 4 && (b & 0xf0))
            return kcp_reader_fail(r, KCP_ERR_VARINT, field, "varint exceeds 32 bits");
        v |= (uint32_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return kcp_reader_fail(r, KCP_ERR_VARINT, field, "varint exceeds 32 bits");
}

static int read_uvarlong(kcp_reader *r, const char *field, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (r->pos >= r->len)
            return kcp_reader_fail(r, KCP_ERR_TRUNCATED, field, "varlong cut short");
        uint8_t b = r->buf[r->pos++];
        if (i == 9 && (b & 0xfe))
            return kcp_reader_fail(r, KCP_ERR_VARINT, field, "varlong exceeds 64 bits");
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return kcp_reader_fail(r, KCP_ERR_VARINT, field, "varlong exceeds 64 bits");
}

int kcp_read_varint(kcp_reader *r, const char *field, int32_t *out)
{
    uint32_t u = 0;
    int rc = kcp_read_uvarint(r, field, &u);
    if (rc == 0)
        *out = (int32_t)((u >> 1) ^ (~(u & 1) + 1));
    return rc;
}

int kcp_read_varlong(kcp_reader *r, const char *field, int64_t *out)
{
    uint64_t u = 0;
    int rc = read_uvarlong(r, field, &u);
    if (rc == 0)
        *out = (int64_t)((u >> 1) ^ (~(u & 1) + 1));
    return rc;
}

/* Reads a length prefix: classic int16/int32 (-1 = null) or compact uvarint
 * N+1 (0 = null). *len is -1 for null. */
static int read_len(kcp_reader *r, const char *field, bool compact, bool wide, bool nullable,
                    int32_t *len)
{
    int32_t n = 0;
    if (compact) {
        uint32_t u = 0;
        if (kcp_read_uvarint(r, field, &u))
            return r->err;
        if (u > (uint32_t)INT32_MAX)
            return kcp_reader_fail(r, KCP_ERR_LENGTH, field, "compact length %u too large",
                                   (unsigned)u);
        n = (int32_t)u - 1;
    } else if (wide) {
        if (kcp_read_int32(r, field, &n))
            return r->err;
    } else {
        int16_t s = 0;
        if (kcp_read_int16(r, field, &s))
            return r->err;
        n = s;
    }
    if (n < -1)
        return kcp_reader_fail(r, KCP_ERR_LENGTH, field, "negative length %d", (int)n);
    if (n == -1 && !nullable)
        return kcp_reader_fail(r, KCP_ERR_NULL, field, "null is not allowed here");
    *len = n;
    return 0;
}

int kcp__read_string_full(kcp_reader *r, const char *field, bool compact, bool nullable,
                          kcp_str *out)
{
    int32_t n = 0;
    if (read_len(r, field, compact, false, nullable, &n))
        return r->err;
    if (n < 0) {
        *out = KCP_STR_NULL;
        return 0;
    }
    if ((size_t)n > r->len - r->pos)
        return kcp_reader_fail(r, KCP_ERR_LENGTH, field, "string length %d exceeds the %zu bytes left",
                               (int)n, r->len - r->pos);
    if (n > INT16_MAX)
        return kcp_reader_fail(r, KCP_ERR_LENGTH, field, "string length %d exceeds %d", (int)n,
                               INT16_MAX);
    const char *p = (const char *)r->buf + r->pos;
    if (!kcp_utf8_valid(p, (size_t)n))
        return kcp_reader_fail(r, KCP_ERR_UTF8, field, "string of %d bytes is not valid UTF-8",
                               (int)n);
    out->ptr = p;
    out->len = n;
    r->pos += (size_t)n;
    return 0;
}

int kcp_read_bytes(kcp_reader *r, const char *field, bool compact, bool nullable,
                   kcp_bytes *out)
{
    int32_t n = 0;
    if (read_len(r, field, compact, true, nullable, &n))
        return r->err;
    if (n < 0) {
        *out = KCP_BYTES_NULL;
        return 0;
    }
    if ((size_t)n > r->len - r->pos)
        return kcp_reader_fail(r, KCP_ERR_LENGTH, field, "bytes length %d exceeds the %zu bytes left",
                               (int)n, r->len - r->pos);
    out->ptr = r->buf + r->pos;
    out->len = n;
    r->pos += (size_t)n;
    return 0;
}

int kcp_read_array_len(kcp_reader *r, const char *field, bool compact, bool nullable,
                       size_t min_elem_size, int32_t *count)
{
    int32_t n = 0;
    if (read_len(r, field, compact, true, nullable, &n))
        return r->err;
    if (n > 0) {
        size_t need = min_elem_size ? min_elem_size : 1;
        if ((size_t)n > (r->len - r->pos) / need)
            return kcp_reader_fail(r, KCP_ERR_LENGTH, field,
                                   "array of %d elements cannot fit in the %zu bytes left",
                                   (int)n, r->len - r->pos);
    }
    *count = n;
    return 0;
}

int kcp_read_tag_header(kcp_reader *r, const char *field, uint32_t *tag, uint32_t *size)
{
    if (kcp_read_uvarint(r, field, tag) || kcp_read_uvarint(r, field, size))
        return r->err;
    if (*size > r->len - r->pos)
        return kcp_reader_fail(r, KCP_ERR_LENGTH, field,
                               "tagged field %u of %u bytes exceeds the %zu bytes left",
                               (unsigned)*tag, (unsigned)*size, r->len - r->pos);
    return 0;
}

int kcp_read_skip(kcp_reader *r, const char *field, size_t size, kcp_bytes *out)
{
    if (size > r->len - r->pos || size > INT32_MAX)
        return kcp_reader_fail(r, KCP_ERR_TRUNCATED, field, "needs %zu bytes, %zu left", size,
                               r->len - r->pos);
    if (out) {
        out->ptr = r->buf + r->pos;
        out->len = (int32_t)size;
    }
    r->pos += size;
    return 0;
}

void kcp_reader_sub(const kcp_reader *r, kcp_reader *sub, size_t size)
{
    kcp_reader_init(sub, r->buf + r->pos, size);
    sub->base = r->base + r->pos;
    sub->what = r->what;
}

int kcp_reader_join(kcp_reader *r, const kcp_reader *sub, const char *field)
{
    if (sub->err != KCP_OK) {
        if (r->err == KCP_OK) {
            r->err = sub->err;
            memcpy(r->errstr, sub->errstr, sizeof r->errstr);
        }
        return r->err;
    }
    if (sub->pos != sub->len)
        return kcp_reader_fail(r, KCP_ERR_TAGS, field, "tagged field has %zu unread bytes",
                               sub->len - sub->pos);
    r->pos += sub->len;
    return 0;
}

int kcp_raw_tags_add(kcp_reader *r, kcp_arena *a, kcp_raw_tags *tags, uint32_t tag,
                     kcp_bytes data)
{
    /* Grow by doubling inside the arena; the old block stays until the arena
     * is freed, which bounds waste to the size of the final array. */
    uint32_t n = tags->n;
    if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) { /* capacity 4, 8, 16... */
        uint32_t cap = n ? n * 2 : 4;
        kcp_raw_tag *v = kcp_arena_alloc(a, (size_t)cap * sizeof *v);
        if (!v)
            return kcp_reader_fail(r, KCP_ERR_NOMEM, "_tagged_fields", "out of memory");
        if (n)
            memcpy(v, tags->v, (size_t)n * sizeof *v);
        tags->v = v;
    }
    tags->v[n].tag = tag;
    tags->v[n].data = data;
    tags->n = n + 1;
    return 0;
}

size_t kcp_raw_tags_size(const kcp_raw_tags *t)
{
    size_t s = 0;
    for (uint32_t i = 0; i < t->n; i++) {
        uint32_t len = t->v[i].data.len > 0 ? (uint32_t)t->v[i].data.len : 0;
        s += kcp_uvarint_size(t->v[i].tag) + kcp_uvarint_size(len) + len;
    }
    return s;
}

void kcp_raw_tags_write_below(kcp_writer *w, const kcp_raw_tags *t, uint32_t *next,
                              uint64_t limit)
{
    while (*next < t->n && t->v[*next].tag < limit) {
        const kcp_raw_tag *tg = &t->v[*next];
        uint32_t len = tg->data.len > 0 ? (uint32_t)tg->data.len : 0;
        kcp_write_uvarint(w, tg->tag);
        kcp_write_uvarint(w, len);
        kcp_write_raw(w, tg->data.ptr, len);
        (*next)++;
    }
}

bool kcp_utf8_valid(const char *str, size_t len)
{
    const uint8_t *s = (const uint8_t *)str;
    size_t i = 0;
    while (i < len) {
        /* ASCII fast path, eight bytes at a time. */
        while (i + 8 <= len) {
            uint64_t chunk;
            memcpy(&chunk, s + i, 8);
            if (chunk & 0x8080808080808080ULL)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i - 1 < n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            uint8_t cc = s[i + k];
            if ((cc & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

/* ---------------------------------------------------------------- arena */

struct kcp_arena_chunk {
    kcp_arena_chunk *next;
    size_t size;   /* bytes for data */
    size_t used;
    size_t mapped; /* bytes mapped with mmap, 0 when from calloc */
    bool dirty;    /* reused after kcp_arena_reset(): clear what is handed out */
    /* data follows, 16-byte aligned */
};

#define CHUNK_HDR ((sizeof(kcp_arena_chunk) + 15) & ~(size_t)15)
#define CHUNK_MIN 4096

/* Chunks hand out each byte once, so a zeroed chunk makes every allocation
 * zeroed without a memset: calloc skips its own memset for fresh pages, and
 * mmap's pages are zero. */
#if defined(__linux__) && defined(MADV_HUGEPAGE)
/* Large chunks (the element array of a big decoded answer) come from mmap,
 * aligned to and advised for transparent huge pages: faulting in tens of
 * megabytes 4 KiB at a time costs more than decoding into them. */
#define HUGE_PAGE ((size_t)2 << 20)
#define HUGE_CHUNK_MIN ((size_t)4 << 20)

static kcp_arena_chunk *chunk_map(size_t want)
{
    if (want < HUGE_CHUNK_MIN || want > SIZE_MAX - CHUNK_HDR - 2 * HUGE_PAGE)
        return NULL;
    size_t len = (CHUNK_HDR + want + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uint8_t *raw = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    /* Keep the huge-page-aligned len bytes inside; unmap the rest. */
    uint8_t *start = (uint8_t *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (start > raw)
        munmap(raw, (size_t)(start - raw));
    munmap(start + len, (size_t)(raw + HUGE_PAGE - start));
    madvise(start, len, MADV_HUGEPAGE); /* only a hint: small pages without it */
    kcp_arena_chunk *c = (kcp_arena_chunk *)start;
    c->size = len - CHUNK_HDR;
    c->mapped = len;
    return c;
}

static void chunk_unmap(kcp_arena_chunk *c)
{
    munmap(c, c->mapped);
}
#else
static kcp_arena_chunk *chunk_map(size_t want)
{
    (void)want;
    return NULL;
}

static void chunk_unmap(kcp_arena_chunk *c)
{
    (void)c;
}
#endif

static bool take_spare(kcp_arena *a, size_t size);

void *kcp_arena_alloc(kcp_arena *a, size_t size)
{
    if (size > SIZE_MAX - CHUNK_HDR - 7)
        return NULL;
    size = (size + 7) & ~(size_t)7;
    if (size == 0)
        size = 8;
    kcp_arena_chunk *c = a->head;
    if ((!c || c->size - c->used < size) && take_spare(a, size))
        c = a->head;
    if (!c || c->size - c->used < size) {
        size_t want = size > CHUNK_MIN ? size : CHUNK_MIN;
        /* Grow chunk sizes with the arena so large messages take few mallocs. */
        if (c && c->size * 2 > want && c->size < ((size_t)1 << 26))
            want = c->size * 2;
        if (want > SIZE_MAX - CHUNK_HDR)
            return NULL;
        c = chunk_map(want);
        if (!c) {
            c = calloc(1, CHUNK_HDR + want);
            if (!c)
                return NULL;
            c->size = want;
            c->mapped = 0;
        }
        c->used = 0;
        c->dirty = false;
        c->next = a->head;
        a->head = c;
    }
    void *p = (uint8_t *)c + CHUNK_HDR + c->used;
    c->used += size;
    if (c->dirty) /* a reused chunk: fresh ones are zero already */
        memset(p, 0, size);
    return p;
}

/* Moves the first spare chunk that can hold size bytes to the front. */
static bool take_spare(kcp_arena *a, size_t size)
{
    for (kcp_arena_chunk **pp = &a->spare; *pp; pp = &(*pp)->next) {
        kcp_arena_chunk *c = *pp;
        if (c->size < size)
            continue;
        *pp = c->next;
        c->used = 0;
        c->dirty = true;
        c->next = a->head;
        a->head = c;
        return true;
    }
    return false;
}

void kcp_arena_reset(kcp_arena *a)
{
    /* Oldest (smallest) chunks first, so the next decode fills them in the
     * order it filled them before. */
    while (a->head) {
        kcp_arena_chunk *c = a->head;
        a->head = c->next;
        c->next = a->spare;
        a->spare = c;
    }
}

void *kcp_arena_memdup(kcp_arena *a, const void *src, size_t len)
{
    void *p = kcp_arena_alloc(a, len);
    if (p && len)
        memcpy(p, src, len);
    return p;
}

void kcp_arena_free(kcp_arena *a)
{
    kcp_arena_reset(a);
    kcp_arena_chunk *c = a->spare;
    while (c) {
        kcp_arena_chunk *next = c->next;
        if (c->mapped)
            chunk_unmap(c);
        else
            free(c);
        c = next;
    }
    a->spare = NULL;
}

size_t kcp_arena_bytes(const kcp_arena *a)
{
    size_t n = 0;
    for (int list = 0; list < 2; list++)
        for (const kcp_arena_chunk *c = list ? a->spare : a->head; c; c = c->next)
            n += c->mapped ? c->mapped : CHUNK_HDR + c->size;
    return n;
}
