/*
 * kc_changes.h: what changed between two refreshes of --watch. A snapshot
 * keeps, for each live connection of a view, just enough to name it once
 * the answers it came from are freed; two snapshots give the connections
 * that appeared and those that closed in between.
 */
#ifndef KC_CHANGES_H
#define KC_CHANGES_H

#include "kc_view.h"
#include "kcp_strtab.h"

#include <stddef.h>
#include <stdint.h>

/* One connection, copied out of an answer. The strings belong to the
 * snapshot and are NUL-terminated. */
typedef struct kc_seen {
    int32_t node_id;
    const char *connection_id;
    const char *principal;
    const char *client_host;
    uint16_t client_port;
    const char *client_software; /* NAME/VERSION */
} kc_seen;

/* A refresh's live connections. Principals, addresses and software repeat
 * across thousands of connections, so each is kept once (names); the
 * connection ids, unique, are packed together (ids): a snapshot costs no
 * allocation per connection. */
typedef struct kc_snapshot {
    kc_seen *v; /* by node id, then connection id */
    size_t n;
    kcp_strtab names;
    kcp_arena ids;
} kc_snapshot;

/* The live connections of v (every row not in state closed). Returns 0, or
 * -1 when out of memory (s is then empty). Whatever s held is overwritten:
 * free an earlier snapshot first. */
int kc_snapshot_take(kc_snapshot *s, const kc_view *v);
void kc_snapshot_free(kc_snapshot *s);

/* Connections live in cur and not in prev (appeared), and live in prev
 * and not in cur (closed: gone, or now listed as closed). Entries point
 * into the snapshots. */
typedef struct kc_changes {
    const kc_seen **appeared;
    size_t n_appeared;
    const kc_seen **closed;
    size_t n_closed;
    bool untracked; /* --summary: answers without rows have no changes to tell */
} kc_changes;

int kc_changes_diff(const kc_snapshot *prev, const kc_snapshot *cur, kc_changes *out);
void kc_changes_free(kc_changes *c);

#endif
