/* kcb_page.h: the connection rows of one DescribeConnections answer.
 *
 * The scan hands each record that may be on the page to kcb_page_add()
 * while the record's shard (or the history) is locked, and the page takes
 * all it needs at once: normally the row's encoded bytes, written straight
 * from the record's strings, so that nothing of the record is read after
 * the unlock and the bytes are the snapshot. Records arrive in runs, one
 * per shard in seq order, then the closed history in close order; the page
 * merges them by seq. kcb_page_encode() writes the response around the
 * rows: it encodes the response with no rows and copies the rows' bytes in,
 * in merged order, where the Connections array goes. */
#ifndef KCB_PAGE_H
#define KCB_PAGE_H

#include "kcb_internal.h"
#include "kcp_messages.h"

typedef enum kcb_body {
    KCB_BODY_SPLICED, /* rows encoded during the scan, spliced into the answer */
    KCB_BODY_WHOLE    /* rows copied as structs, the answer encoded in one go:
                       * the fallback when splicing is not possible, and the
                       * tests' reference */
} kcb_body;

typedef struct kcb_page_row {
    uint64_t seq;        /* paging key */
    const uint8_t *data; /* spliced: a 4-byte length, then the encoded row;
                          * whole: a row struct */
} kcb_page_row;

typedef struct kcb_page_chunk kcb_page_chunk;

typedef struct kcb_page {
    kcb_body body;
    int16_t version;
    kcp_describe_connections_response_connection defaults; /* a row's defaults */
    kcp_describe_connections_response_connection row;      /* reused for each record */
    kcp_arena *arena;          /* row structs of the whole body; not owned */
    kcb_page_row *rows;        /* in the order added */
    size_t n, cap;
    size_t *run_start;         /* first row of each run */
    size_t n_runs, max_runs;
    bool history_run;          /* the last run holds history rows */
    kcb_page_chunk *chunks;    /* encoded rows, newest chunk first */
    uint8_t *free_at;          /* room left in the newest chunk */
    size_t free_len;
    size_t bytes;              /* encoded bytes of every row */
    bool oom;                  /* memory ran out: the page is incomplete */
    /* Set by kcb_page_order: */
    size_t n_order;            /* rows on the page */
    size_t order_bytes;        /* their encoded bytes */
    uint64_t last_seq;         /* the seq of the last one */
    /* The merge: next row of each run, and the history run sorted by seq. */
    size_t *pos;
    const kcb_page_row **hist;
    size_t hist_n, hist_pos;
} kcb_page;

/* Starts an empty page for up to max_runs runs. Returns 0 or -1 (memory). */
int kcb_page_init(kcb_page *p, kcb_body body, int16_t version, kcp_arena *arena, size_t max_runs);
void kcb_page_free(kcb_page *p);
/* Starts the next run; expected_rows sizes the row index up front. */
void kcb_page_begin_run(kcb_page *p, bool history, size_t expected_rows);
/* Takes record r into the current run; call under r's lock. Sets p->oom
 * when memory runs out. */
void kcb_page_add(kcb_page *p, const kcb_rec *r);
/* Decides the page: the first limit rows by seq (n_order, order_bytes,
 * last_seq). Returns 0 or -1 (memory). */
int kcb_page_order(kcb_page *p, size_t limit);
/* Encodes resp (its Connections left empty) with the ordered rows as its
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
