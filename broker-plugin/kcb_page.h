/* kcb_page.h: the connection rows of one DescribeConnections answer.
 *
 * The scan hands each record on the page to kcb_page_add() while the
 * record's shard (or the history) is locked, in page order, and the page
 * takes all it needs at once: normally the row's encoded bytes, written
 * straight from the record's strings into the answer's own buffer, so that
 * nothing of the record is read after the unlock, the bytes are the
 * snapshot, and no row is copied again. Room for the fields before
 * Connections is reserved in front of the first row (kcb_page_expect());
 * kcb_page_encode() writes them there once they are known. */
#ifndef KCB_PAGE_H
#define KCB_PAGE_H

#include "kcb_internal.h"
#include "kcp_messages.h"

typedef enum kcb_body {
    KCB_BODY_SPLICED, /* rows encoded during the scan, the answer built around them */
    KCB_BODY_WHOLE    /* rows copied as structs, the answer encoded in one go:
                       * the fallback when splicing is not possible, and the
                       * tests' reference */
} kcb_body;

typedef struct kcb_page {
    kcb_body body;
    int16_t version;
    kcp_describe_connections_response_connection defaults; /* a row's defaults */
    kcp_describe_connections_response_connection row;      /* reused for each record */
    kcp_arena *arena;          /* row structs of the whole body; not owned */
    size_t n;                  /* rows on the page */
    bool oom;                  /* memory ran out: the page is incomplete */
    /* Spliced: the answer being built; rows are at buf[reserved..end). */
    uint8_t *buf;
    size_t cap, reserved, end;
    /* Whole: the row structs, in page order. */
    const kcp_describe_connections_response_connection **structs;
    size_t cap_structs;
} kcb_page;

/* Starts an empty page. Returns 0 or -1 (memory). */
int kcb_page_init(kcb_page *p, kcb_body body, int16_t version, kcp_arena *arena);
void kcb_page_free(kcb_page *p);
/* Sizes the page before the scan from a guess: about expect_rows rows, and
 * resp's fields before Connections as they will be with a NextCursor of
 * cursor_len bytes (-1: none). A right guess lets the rows stay where they
 * are written; a wrong one costs one move of them in kcb_page_encode(). */
void kcb_page_expect(kcb_page *p, kcp_describe_connections_response *resp, size_t expect_rows,
                     int32_t cursor_len);
/* Appends record r to the page; call under r's lock. Sets p->oom when
 * memory runs out. */
void kcb_page_add(kcb_page *p, const kcb_rec *r);
/* Encodes resp (its Connections left empty) with the page's rows as its
 * Connections into *out (malloc'd; the caller frees). Returns 0, -1 when
 * memory ran out or resp could not be encoded, or 1 when a spliced body is
 * impossible because the response's layout is not the expected one (the
 * caller then describes again with KCB_BODY_WHOLE). */
int kcb_page_encode(kcb_page *p, kcp_describe_connections_response *resp, uint8_t **out,
                    size_t *out_len);
/* Encodes a response as it is (no page rows) into *out (malloc'd). 0 or -1. */
int kcb_encode_response(const kcp_describe_connections_response *resp, int16_t version,
                        uint8_t **out, size_t *out_len);

#endif
