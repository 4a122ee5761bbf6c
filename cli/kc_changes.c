/*
 * kc_changes.c: snapshots and their difference for --watch. See
 * kc_changes.h.
 */
#include "kc_changes.h"

#include <stdlib.h>
#include <string.h>

#define STATE_CLOSED 3

static char *dup_str(kcp_str s)
{
    size_t n = s.len > 0 ? (size_t)s.len : 0;
    char *d = malloc(n + 1);
    if (d) {
        if (n)
            memcpy(d, s.ptr, n);
        d[n] = '\0';
    }
    return d;
}

static char *dup_software(kc_conn *c)
{
    size_t a = c->client_software_name.len > 0 ? (size_t)c->client_software_name.len : 0;
    size_t b = c->client_software_version.len > 0 ? (size_t)c->client_software_version.len : 0;
    char *d = malloc(a + b + 2);
    if (d) {
        if (a)
            memcpy(d, c->client_software_name.ptr, a);
        d[a] = '/';
        if (b)
            memcpy(d + a + 1, c->client_software_version.ptr, b);
        d[a + 1 + b] = '\0';
    }
    return d;
}

static int seen_cmp(const void *x, const void *y)
{
    const kc_seen *a = x, *b = y;
    if (a->node_id != b->node_id)
        return a->node_id < b->node_id ? -1 : 1;
    return strcmp(a->connection_id, b->connection_id);
}

static void seen_free(kc_seen *s)
{
    free(s->connection_id);
    free(s->principal);
    free(s->client_host);
    free(s->client_software);
}

int kc_snapshot_take(kc_snapshot *s, const kc_view *v)
{
    s->n = 0;
    s->v = malloc((v->n_rows ? v->n_rows : 1) * sizeof *s->v);
    if (!s->v)
        return -1;
    for (size_t i = 0; i < v->n_rows; i++) {
        kc_conn *c = v->rows[i].c;
        if (c->state == STATE_CLOSED)
            continue;
        kc_seen *e = &s->v[s->n++];
        e->node_id = v->rows[i].broker->broker.node_id;
        e->connection_id = dup_str(c->connection_id);
        e->principal = dup_str(c->principal);
        e->client_host = dup_str(c->client_host);
        e->client_port = c->client_port;
        e->client_software = dup_software(c);
        if (!e->connection_id || !e->principal || !e->client_host || !e->client_software) {
            kc_snapshot_free(s);
            return -1;
        }
    }
    qsort(s->v, s->n, sizeof *s->v, seen_cmp);
    return 0;
}

void kc_snapshot_free(kc_snapshot *s)
{
    for (size_t i = 0; s->v && i < s->n; i++)
        seen_free(&s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

int kc_changes_diff(const kc_snapshot *prev, const kc_snapshot *cur, kc_changes *out)
{
    memset(out, 0, sizeof *out);
    out->appeared = malloc((cur->n ? cur->n : 1) * sizeof *out->appeared);
    out->closed = malloc((prev->n ? prev->n : 1) * sizeof *out->closed);
    if (!out->appeared || !out->closed) {
        kc_changes_free(out);
        return -1;
    }
    /* Both are sorted the same way: one merge pass. */
    size_t i = 0, j = 0;
    while (i < prev->n || j < cur->n) {
        int c = i == prev->n ? 1 : j == cur->n ? -1 : seen_cmp(&prev->v[i], &cur->v[j]);
        if (c < 0)
            out->closed[out->n_closed++] = &prev->v[i++];
        else if (c > 0)
            out->appeared[out->n_appeared++] = &cur->v[j++];
        else
            i++, j++;
    }
    return 0;
}

void kc_changes_free(kc_changes *c)
{
    free(c->appeared);
    free(c->closed);
    memset(c, 0, sizeof *c);
}
