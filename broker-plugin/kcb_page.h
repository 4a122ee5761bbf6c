/* kcb_page.h: the connection rows of one DescribeConnections answer.
 *
 * The scan hands each record on the page to kcb_page_add() while the
 * record's shard (or the history) is locked, in page order, and the page
 * takes all it needs at once: normally the row's encoded bytes, written
 * into the answer's own buffer, with each of the record's strings copied
 * into the page's Strings table (unless the table holds it already) and
 * the row naming it by index, so that nothing of the record is read after
 * the unlock, the bytes are the snapshot, and no row is copied again. Room
 * for the fields before Connections is reserved in front of the first row
 * (kcb_page_expect()); kcb_page_encode() writes them there once they are
 * known, and Strings after the rows. */
#ifndef KCB_PAGE_H
#define KCB_PAGE_H

#include "kcb_internal.h"
#include "kcp_messages.h"
#include "kcp_strtab.h"

typedef enum kcb_body {
    KCB_BODY_SPLICED, /* rows encoded during the scan, the answer built around them */
    KCB_BODY_WHOLE    /* rows copied as structs, the answer encoded in one go:
                       * the fallback when splicing is not possible, and the
                       * tests' reference */
} kcb_body;

/* For each string field of a row, the Strings index the previous row used:
 * rows of a shard tend to repeat their neighbour's principal, listener,
 * hosts and client software, and a hint turns the lookup of a repeated
 * string into one comparison. */
typedef struct kcb_page_hints {
    int32_t listener, principal, mechanism, local_host, client_id;
    int32_t sw_name, sw_version, close_reason;
    int32_t tls[KCB_TLS__COUNT];
} kcb_page_hints;

/* Strings indexes of shared strings by address, for one lock hold. While
 * a shard (or the history) stays locked its records keep their strings
 * alive, and the registry holds each distinct string once, so an address
 * names one string: a hit costs a pointer comparison, where the hints
 * compare bytes and miss on values that alternate (principals, say). Once
 * the lock is released a string may be freed and its address reused for
 * another, so every entry belongs to the hold (gen) that made it; an entry
 * of another hold is an empty slot. */
enum { KCB_PAGE_MEMO_BITS = 10, KCB_PAGE_MEMO = 1 << KCB_PAGE_MEMO_BITS };
typedef struct kcb_page_memo {
    const kcb_istr *s;
    int32_t index;
    uint32_t gen;
} kcb_page_memo;

/* What a page builds its Strings with. The registry keeps the last page's,
 * emptied, for the next: a describe of many connections fills a large
 * table, and starting from one of the right size skips its growth and
 * first-touch page faults. */
typedef struct kcb_page_tables {
    kcp_strtab strings;        /* the answer's Strings, which the rows index */
    kcb_page_memo memo[KCB_PAGE_MEMO]; /* open addressing by address */
    uint32_t gen;              /* the current lock hold; kept across pages */
    uint32_t memo_used;        /* entries of this hold */
} kcb_page_tables;

typedef struct kcb_page {
    kcb_body body;
    int16_t version;
    kcp_describe_connections_response_connection defaults; /* a row's defaults */
    kcp_describe_connections_response_connection row;      /* reused for each record */
    kcp_arena *arena;          /* row structs of the whole body; not owned */
    size_t n;                  /* rows on the page */
    bool oom;                  /* memory ran out: the page is incomplete */
    kcb_registry *reg;         /* gets tab back in kcb_page_free() */
    kcb_page_tables *tab;
    kcb_page_hints hints;
    /* Spliced: the answer being built; rows are at buf[reserved..end). */
    uint8_t *buf;
    size_t cap, reserved, end;
    /* Whole: the row structs, in page order. */
    const kcp_describe_connections_response_connection **structs;
    size_t cap_structs;
} kcb_page;

/* Starts an empty page of reg's records. Returns 0 or -1 (memory). */
int kcb_page_init(kcb_page *p, kcb_registry *reg, kcb_body body, int16_t version,
                  kcp_arena *arena);
/* Frees what the page holds; its tables go back to reg, emptied, for the
 * next page. */
void kcb_page_free(kcb_page *p);
/* Frees the tables reg keeps between pages; for kcb_registry_free(). */
void kcb_page_free_spare(kcb_registry *reg);
/* Sizes the page before the scan from a guess: about expect_rows rows, and
 * resp's fields before Connections as they will be with a NextCursor of
 * cursor_len bytes (-1: none). A right guess lets the rows stay where they
 * are written; a wrong one costs one move of them in kcb_page_encode(). */
void kcb_page_expect(kcb_page *p, kcp_describe_connections_response *resp, size_t expect_rows,
                     int32_t cursor_len);
/* Call after taking a shard's or the history's lock, before adding its
 * records: forgets the string addresses seen under the previous lock. */
void kcb_page_locked(kcb_page *p);
/* Appends record r to the page; call under r's lock. Sets p->oom when
 * memory runs out. */
void kcb_page_add(kcb_page *p, const kcb_rec *r);
/* Encodes resp (its Connections and Strings left empty) with the page's
 * rows as its Connections and their strings as its Strings into *out
 * (malloc'd; the caller frees). resp->strings points into the page
 * afterwards, until kcb_page_free(). Returns 0, -1 when
 * memory ran out or resp could not be encoded, or 1 when a spliced body is
 * impossible because the response's layout is not the expected one (the
 * caller then describes again with KCB_BODY_WHOLE). */
int kcb_page_encode(kcb_page *p, kcp_describe_connections_response *resp, uint8_t **out,
                    size_t *out_len);
/* Encodes a response as it is (no page rows) into *out (malloc'd). 0 or -1. */
int kcb_encode_response(const kcp_describe_connections_response *resp, int16_t version,
                        uint8_t **out, size_t *out_len);

#endif
