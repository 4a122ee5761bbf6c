/*
 * kc_changes.c: snapshots and their difference for --watch. See
 * kc_changes.h.
 */
#include "kc_changes.h"

#include "kc_text.h"

#include <stdlib.h>
#include <string.h>

#define STATE_CLOSED 3

/* a, or with pair "a/b" (a null part as empty), NUL-terminated and kept
 * once in the snapshot's names. NULL when out of memory. */
static const char *intern(kc_snapshot *s, kc_buf *tmp, kcp_str a, kcp_str b, bool pair)
{
    kc_buf_reset(tmp);
    if (a.len > 0)
        kc_buf_put(tmp, a.ptr, (size_t)a.len);
    if (pair) {
        kc_buf_putc(tmp, '/');
        if (b.len > 0)
            kc_buf_put(tmp, b.ptr, (size_t)b.len);
    }
    kc_buf_putc(tmp, '\0');
    if (tmp->err || tmp->len > INT32_MAX)
        return NULL;
    int32_t i = kcp_strtab_add(&s->names, (kcp_str){tmp->p, (int32_t)tmp->len});
    return i >= 0 ? s->names.v[i].ptr : NULL;
}

/* A copy of s in the snapshot's ids, NUL-terminated. */
static const char *pack(kc_snapshot *snap, kcp_str s)
{
    size_t n = s.len > 0 ? (size_t)s.len : 0;
    char *d = kcp_arena_alloc(&snap->ids, n + 1); /* zeroed: the NUL is there */
    if (d && n)
        memcpy(d, s.ptr, n);
    return d;
}

static int seen_cmp(const void *x, const void *y)
{
    const kc_seen *a = x, *b = y;
    if (a->node_id != b->node_id)
        return a->node_id < b->node_id ? -1 : 1;
    return strcmp(a->connection_id, b->connection_id);
}

int kc_snapshot_take(kc_snapshot *s, const kc_view *v)
{
    memset(s, 0, sizeof *s);
    s->v = malloc((v->n_rows ? v->n_rows : 1) * sizeof *s->v);
    if (!s->v)
        return -1;
    kc_buf tmp = {0};
    for (size_t i = 0; i < v->n_rows; i++) {
        const kc_connection *c = v->rows[i].c;
        if (c->w->state == STATE_CLOSED)
            continue;
        kc_seen *e = &s->v[s->n++];
        e->node_id = v->rows[i].broker->broker.node_id;
        e->client_port = c->w->client_port;
        e->connection_id = pack(s, c->w->connection_id);
        e->principal = intern(s, &tmp, kc_connection_principal(c), KCP_STR_NULL, false);
        e->client_host = intern(s, &tmp, kc_connection_client_host(c), KCP_STR_NULL, false);
        e->client_software = intern(s, &tmp, kc_connection_client_software_name(c),
                                    kc_connection_client_software_version(c), true);
        if (!e->connection_id || !e->principal || !e->client_host || !e->client_software) {
            kc_buf_free(&tmp);
            kc_snapshot_free(s);
            return -1;
        }
    }
    kc_buf_free(&tmp);
    qsort(s->v, s->n, sizeof *s->v, seen_cmp);
    return 0;
}

void kc_snapshot_free(kc_snapshot *s)
{
    free(s->v);
    kcp_strtab_free(&s->names);
    kcp_arena_free(&s->ids);
    memset(s, 0, sizeof *s);
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
