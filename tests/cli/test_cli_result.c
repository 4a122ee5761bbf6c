/*
 * One broker's answer as the fan-out collects it (cli/kc_result.c): pages
 * decoded from frames the result does not keep, rows that read their
 * strings through their page's Strings, and every page staying where its
 * rows point while more pages arrive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kc_net.h"
#include "kcp_strtab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1714567890123)

static bool str_is(kcp_str s, const char *want)
{
    return kcp_str_eq(s, kcp_str_c(want));
}

/* Page number `page` of a listing: rows connections of principals
 * User:p0..p2 on listener L, an unknown tagged field (tag 42) on each row
 * and on the page, and a NextCursor unless last. Returns the encoded body
 * (malloc'd, as the fan-out's frames are) and its length. */
static uint8_t *encode_page(int page, int rows, int32_t total, bool last, size_t *len)
{
    kcp_strtab t;
    kcp_strtab_init(&t);
    kcp_describe_connections_response m;
    kcp_describe_connections_response_init(&m);
    kcp_describe_connections_response_connection v[8];
    char ids[8][48], principal[16], cursor[16];
    static const uint8_t tag_bytes[] = {1, 2, 3};
    kcp_raw_tag tag = {42, {tag_bytes, 3}};
    assert_true(rows <= 8);
    for (int i = 0; i < rows; i++) {
        kcp_describe_connections_response_connection *c = &v[i];
        kcp_describe_connections_response_connection_init(c);
        snprintf(ids[i], sizeof ids[i], "127.0.0.1:9092-10.0.0.%d:%d-0-%d", page, 40000 + i, page * 8 + i);
        snprintf(principal, sizeof principal, "User:p%d", (page * 8 + i) % 3);
        c->connection_id = kcp_str_c(ids[i]);
        c->state = 1;
        c->listener_name_index = kcp_strtab_add(&t, kcp_str_c("L"));
        c->principal_index = kcp_strtab_add(&t, kcp_str_c(principal));
        c->client_host = kcp_str_c("10.0.0.1");
        c->local_host_index = kcp_strtab_add(&t, kcp_str_c("127.0.0.1"));
        c->client_software_name_index = kcp_strtab_add(&t, kcp_str_c("librdkafka"));
        c->client_software_version_index = kcp_strtab_add(&t, kcp_str_c("2.0.2"));
        c->client_port = (uint16_t)(40000 + i);
        c->last_activity_at_ms = T0;
        c->unknown_tags.n = 1;
        c->unknown_tags.v = &tag;
    }
    m.broker_time_ms = T0;
    m.total_count = total;
    snprintf(cursor, sizeof cursor, "after-%d", page);
    m.next_cursor = last ? KCP_BYTES_NULL : (kcp_bytes){(const uint8_t *)cursor, (int32_t)strlen(cursor)};
    m.connections.n = rows;
    m.connections.v = v;
    m.strings.n = t.n;
    m.strings.v = t.v;
    m.unknown_tags.n = 1;
    m.unknown_tags.v = &tag;
    *len = kcp_describe_connections_response_size(&m, 0);
    uint8_t *body = malloc(*len);
    assert_non_null(body);
    kcp_writer w;
    kcp_writer_init(&w, body, *len);
    assert_int_equal(kcp_describe_connections_response_encode(&w, &m, 0), 0);
    kcp_strtab_free(&t);
    return body;
}

/* Decodes a body as the fan-out does and hands it to r. */
static void add_page(kc_result *r, uint8_t *body, size_t len, int64_t max_rows)
{
    kcp_describe_connections_response m;
    kcp_reader rd;
    kcp_reader_init(&rd, body, len);
    char err[256];
    assert_int_equal(kcp_describe_connections_response_decode(&rd, &m, 0), 0);
    assert_int_equal(kcp_connections_check(&m, err, sizeof err), 0);
    assert_int_equal(kc_result_add_page(r, body, len, &m, max_rows), 0);
}

/* Encodes page `page` (see encode_page) and adds it to r. */
static void add_new_page(kc_result *r, int page, int rows, int32_t total, bool last, int64_t max_rows)
{
    size_t len;
    uint8_t *body = encode_page(page, rows, total, last, &len);
    add_page(r, body, len, max_rows);
}

static void begin(kc_result *r)
{
    kc_broker b = {3, "127.0.0.1", 9092};
    assert_int_equal(kc_result_begin(r, &b), 0);
}

/* The frame is freed as the page is added (under AddressSanitizer any
 * read of it fails the test): rows, Strings, NextCursor and unknown tagged
 * fields all read from the bytes the result kept. */
static void test_a_page_outlives_its_frame(void **state)
{
    (void)state;
    kc_result r;
    begin(&r);
    size_t len;
    uint8_t *body = encode_page(0, 4, 4, false, &len);
    add_page(&r, body, len, 0);
    assert_int_equal(r.n_rows, 4);
    assert_int_equal(r.n_pages, 1);
    for (size_t i = 0; i < r.n_rows; i++) {
        const kc_connection *c = &r.rows[i];
        char id[48], principal[16];
        snprintf(id, sizeof id, "127.0.0.1:9092-10.0.0.0:%d-0-%d", 40000 + (int)i, (int)i);
        snprintf(principal, sizeof principal, "User:p%d", (int)i % 3);
        assert_true(str_is(c->w->connection_id, id));
        assert_true(str_is(kc_connection_client_host(c), "10.0.0.1"));
        assert_true(str_is(kc_connection_principal(c), principal));
        assert_true(str_is(kc_connection_listener(c), "L"));
        assert_true(str_is(kc_connection_client_software_version(c), "2.0.2"));
        assert_int_equal(kc_connection_client_id(c).len, -1);
        assert_int_equal(kc_connection_tls_protocol(c).len, -1);
        assert_int_equal(c->w->unknown_tags.n, 1);
        assert_true(memcmp(c->w->unknown_tags.v[0].data.ptr, "\1\2\3", 3) == 0);
    }
    const kcp_describe_connections_response *p = r.pages[0];
    assert_true(kcp_bytes_eq(p->next_cursor, (kcp_bytes){(const uint8_t *)"after-0", 7}));
    assert_true(memcmp(p->unknown_tags.v[0].data.ptr, "\1\2\3", 3) == 0);
    assert_int_equal(r.broker_time_ms, T0);
    assert_int_equal(r.total_count, 4);
    kc_result_free(&r);
}

/* Rows point at their page, not at an array of pages, so they stay valid
 * as the result grows; and they come in paging order. */
static void test_rows_keep_their_page_as_pages_arrive(void **state)
{
    (void)state;
    kc_result r;
    begin(&r);
    enum { PAGES = 11, ROWS = 3 };
    for (int k = 0; k < PAGES; k++)
        add_new_page(&r, k, ROWS, PAGES * ROWS, k == PAGES - 1, 0);
    assert_int_equal(r.n_pages, PAGES);
    assert_int_equal(r.n_rows, PAGES * ROWS);
    for (size_t i = 0; i < r.n_rows; i++) {
        const kc_connection *c = &r.rows[i];
        char id[48], principal[16];
        int page = (int)i / ROWS, k = (int)i % ROWS;
        snprintf(id, sizeof id, "127.0.0.1:9092-10.0.0.%d:%d-0-%d", page, 40000 + k, page * 8 + k);
        snprintf(principal, sizeof principal, "User:p%d", (page * 8 + k) % 3);
        assert_ptr_equal(c->page, r.pages[page]);
        assert_true(str_is(c->w->connection_id, id));
        assert_true(str_is(kc_connection_principal(c), principal));
    }
    assert_int_equal(r.pages[PAGES - 1]->next_cursor.len, -1);
    kc_result_free(&r);
}

/* Room for the announced rows is taken once; a TotalCount that no broker
 * could mean is not taken on trust, and max_rows cuts the listing. */
static void test_rows_are_reserved_from_total_count_within_limits(void **state)
{
    (void)state;
    kc_result r;
    begin(&r);
    add_new_page(&r, 0, 2, 1000, false, 0);
    assert_int_equal(r.cap_rows, 1000);
    kc_result_free(&r);

    begin(&r);
    add_new_page(&r, 0, 2, INT32_MAX, false, 0);
    assert_true(r.cap_rows >= 2 && r.cap_rows < (size_t)INT32_MAX);
    kc_result_free(&r);

    begin(&r);
    add_new_page(&r, 0, 4, 1000, false, 5);
    add_new_page(&r, 1, 4, 1000, true, 5);
    assert_int_equal(r.cap_rows, 5);
    assert_int_equal(r.n_rows, 5);
    assert_int_equal(r.rows[4].w->client_port, 40000);
    assert_ptr_equal(r.rows[4].page, r.pages[1]);
    kc_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_page_outlives_its_frame),
        cmocka_unit_test(test_rows_keep_their_page_as_pages_arrive),
        cmocka_unit_test(test_rows_are_reserved_from_total_count_within_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
