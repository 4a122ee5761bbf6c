/*
 * kc_view.h: the cluster-wide picture kafka-connections prints, merged from
 * every broker's answer: the connection rows in display order, one group
 * per principal (always, for the JSON "principals"), and one group per key
 * of --group-by. Nothing is copied out of the answers: rows and groups
 * point into the kc_result values, which must outlive the view (and must
 * not move: a row points at its broker's answer).
 */
#ifndef KC_VIEW_H
#define KC_VIEW_H

#include "kc_fanout.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef const kcp_describe_connections_response_principal_summary kc_summary;

/* What --group-by groups by. */
enum kc_group_by {
    KC_GROUP_PRINCIPAL = 0,
    KC_GROUP_BROKER,
    KC_GROUP_CLIENT_SOFTWARE,
    KC_GROUP_CLIENT_ADDRESS,
    KC_GROUP_LISTENER,
    KC_GROUP_NONE
};

/* "principal", "broker", "client-software", "client-address", "listener",
 * "none"; and back (-1 when unknown). */
const char *kc_group_by_name(int group_by);
int kc_group_by_parse(const char *name);

/* One connection and the broker that reported it. c points into
 * broker->rows, so its position there (the paging order) needs no field:
 * a view costs two pointers per connection. */
typedef struct kc_row {
    const kc_connection *c;
    const kc_result *broker;
} kc_row;

/* A name, or two joined by '/' when b is not null (client software as
 * NAME/VERSION from a row; a summary's names come already joined). */
typedef struct kc_name {
    kcp_str a, b;
} kc_name;

/* Byte order of two strings, a null one after every other; and of two
 * names, by a then b. */
int kc_str_cmp(kcp_str a, kcp_str b);
int kc_name_cmp(const kc_name *a, const kc_name *b);

/* The distinct values of one attribute within a group, sorted. known is
 * false when the answers cannot tell (a summary carries no addresses). */
typedef struct kc_names {
    kc_name *v;
    size_t n;
    bool known;
} kc_names;

typedef struct kc_group {
    int kind;                 /* enum kc_group_by */
    kc_name key;              /* all kinds but KC_GROUP_BROKER */
    int32_t node_id;          /* KC_GROUP_BROKER */
    const kc_result *broker;  /* KC_GROUP_BROKER: the broker's answer */
    int64_t connections;
    int32_t *brokers;         /* node ids, ascending */
    size_t n_brokers;
    kc_names principals, client_addresses, client_software, listeners;
} kc_group;

/* True for the group of a broker that failed before sending any row: its
 * counts are unknown, not 0. */
bool kc_group_unknown(const kc_group *g);

/* A --sort choice: a column of the view's table and its direction. */
typedef struct kc_sort {
    int column; /* index in the column table of the view (kc_columns.h); -1 = default order */
    bool desc;
} kc_sort;

typedef struct kc_view_opts {
    int group_by; /* enum kc_group_by */
    bool summary; /* the answers are SummaryOnly answers */
    kc_sort sort; /* applies to rows with KC_GROUP_NONE, to groups otherwise */
} kc_view_opts;

typedef struct kc_view {
    kc_view_opts opts;
    const kc_result *results;
    size_t n_results;
    kc_row *rows;           /* empty in summary mode */
    size_t n_rows;
    kc_group *principals;   /* by connections, descending (or --sort when grouping by principal) */
    size_t n_principals;
    kc_group *groups;       /* by opts.group_by; == principals for KC_GROUP_PRINCIPAL; NULL for none */
    size_t n_groups;
    int64_t connections;    /* rows, or the summaries' counts */
    size_t brokers_ok, brokers_failed;
    size_t brokers_restricted; /* ok, but showing only the caller's own connections */
    bool truncated;         /* a broker matched more rows than it listed (--limit) */
} kc_view;

/* Builds the view of results[0..n). Returns 0, or -1 (out of memory) with
 * errstr set; kc_view_free() either way. */
int kc_view_build(kc_view *v, const kc_result *results, size_t n, const kc_view_opts *o,
                  char *errstr, size_t errstr_size);
void kc_view_free(kc_view *v);

/* Removes from r the rows of the connections this run of kafka-connections
 * opened itself: its client id is client_id, and either that id is unique
 * to the run (generated) or the row's client software is
 * "kafka-connections" (a client id the user chose may be shared with other
 * clients). Lowers r->total_count to match. Returns how many were removed.
 * Summaries carry no client ids, so they keep counting those connections. */
size_t kc_result_drop_own(kc_result *r, const char *client_id, bool generated);

/* Idle time of a row: the broker's clock at its answer minus the row's last
 * activity, never negative (BrokerTimeMs exists so no clock sync is needed). */
int64_t kc_row_idle_ms(const kc_row *r);

/* Matching connections a broker reported: its rows, or in summary mode
 * the sum of its summaries. */
int64_t kc_result_connections(const kc_result *r, bool summary);

#endif
