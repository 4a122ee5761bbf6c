/*
 * The arena that decoded messages allocate from: zeroed, 8-byte aligned,
 * non-overlapping blocks, large blocks, release all at once, and refusal of
 * sizes that cannot be represented.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kcp_wire.h"

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static void test_empty_arena_holds_nothing_and_frees_safely(void **state)
{
    (void)state;
    kcp_arena a = {0};
    assert_int_equal(kcp_arena_bytes(&a), 0);
    kcp_arena_free(&a);
    kcp_arena_free(&a);
    assert_null(a.head);
}

static void test_blocks_are_zeroed_aligned_and_disjoint(void **state)
{
    (void)state;
    kcp_arena a = {0};
    enum { N = 300 };
    uint8_t *blocks[N];
    size_t sizes[N];
    for (size_t i = 0; i < N; i++) {
        /* Odd sizes on purpose: each block must still start aligned. */
        sizes[i] = 1 + (i * 37) % 200;
        blocks[i] = kcp_arena_alloc(&a, sizes[i]);
        assert_non_null(blocks[i]);
        assert_int_equal((uintptr_t)blocks[i] % 8, 0);
        assert_true(all_zero(blocks[i], sizes[i]));
        memset(blocks[i], (int)(i & 0xff) | 1, sizes[i]);
    }
    /* Filling later blocks did not overwrite earlier ones. */
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < sizes[i]; k++)
            assert_int_equal(blocks[i][k], (uint8_t)((i & 0xff) | 1));
    assert_true(kcp_arena_bytes(&a) > 0);
    kcp_arena_free(&a);
    assert_int_equal(kcp_arena_bytes(&a), 0);
}

static void test_zero_sized_allocations_are_distinct(void **state)
{
    (void)state;
    kcp_arena a = {0};
    void *p = kcp_arena_alloc(&a, 0);
    void *q = kcp_arena_alloc(&a, 0);
    assert_non_null(p);
    assert_non_null(q);
    assert_ptr_not_equal(p, q);
    kcp_arena_free(&a);
}

static void test_large_blocks_are_zeroed_and_counted(void **state)
{
    (void)state;
    kcp_arena a = {0};
    const size_t small = 100, big = 3u << 20;
    uint8_t *s = kcp_arena_alloc(&a, small);
    memset(s, 0x5a, small);
    uint8_t *b = kcp_arena_alloc(&a, big);
    assert_non_null(b);
    assert_int_equal((uintptr_t)b % 8, 0);
    assert_true(all_zero(b, big));
    memset(b, 0xa5, big); /* AddressSanitizer checks the whole block is ours */
    assert_true(kcp_arena_bytes(&a) >= big + small);
    /* The small block before it is untouched. */
    for (size_t i = 0; i < small; i++)
        assert_int_equal(s[i], 0x5a);
    kcp_arena_free(&a);
}

static void test_very_large_blocks_are_zeroed_and_released(void **state)
{
    (void)state;
    /* Blocks of several MiB, as the element array of a big decoded answer
     * needs; small blocks keep working around them. */
    kcp_arena a = {0};
    const size_t big = (9u << 20) + 3;
    for (int i = 0; i < 3; i++) {
        uint8_t *b = kcp_arena_alloc(&a, big);
        assert_non_null(b);
        assert_int_equal((uintptr_t)b % 8, 0);
        assert_true(all_zero(b, big));
        memset(b, 0xa5, big);
        uint8_t *s = kcp_arena_alloc(&a, 24);
        assert_non_null(s);
        assert_true(all_zero(s, 24));
        assert_true(s + 24 <= b || s >= b + big);
    }
    assert_true(kcp_arena_bytes(&a) >= 3 * big);
    kcp_arena_free(&a);
    assert_int_equal(kcp_arena_bytes(&a), 0);
}

static void test_memdup_copies(void **state)
{
    (void)state;
    kcp_arena a = {0};
    static const char text[] = "User:alice";
    char *p = kcp_arena_memdup(&a, text, sizeof text);
    assert_non_null(p);
    assert_ptr_not_equal(p, text);
    assert_memory_equal(p, text, sizeof text);
    assert_non_null(kcp_arena_memdup(&a, text, 0));
    kcp_arena_free(&a);
}

static void test_arena_is_reusable_after_free(void **state)
{
    (void)state;
    kcp_arena a = {0};
    for (int round = 0; round < 3; round++) {
        uint8_t *p = kcp_arena_alloc(&a, 5000);
        assert_non_null(p);
        assert_true(all_zero(p, 5000));
        memset(p, 0xff, 5000);
        kcp_arena_free(&a);
        assert_int_equal(kcp_arena_bytes(&a), 0);
    }
}

static void test_reset_keeps_memory_and_hands_it_out_zeroed(void **state)
{
    (void)state;
    kcp_arena a = {0};
    uint8_t *first = kcp_arena_alloc(&a, 3000);
    uint8_t *big = kcp_arena_alloc(&a, 100000);
    assert_non_null(first);
    assert_non_null(big);
    memset(first, 0xff, 3000);
    memset(big, 0xff, 100000);
    size_t held = kcp_arena_bytes(&a);

    kcp_arena_reset(&a);
    assert_int_equal(kcp_arena_bytes(&a), held); /* nothing went back to the system */
    uint8_t *again = kcp_arena_alloc(&a, 3000);
    uint8_t *big_again = kcp_arena_alloc(&a, 100000);
    assert_int_equal(kcp_arena_bytes(&a), held); /* and nothing new was taken */
    for (size_t i = 0; i < 3000; i++)
        assert_int_equal(again[i], 0);
    for (size_t i = 0; i < 100000; i++)
        assert_int_equal(big_again[i], 0);
    kcp_arena_free(&a);
    assert_int_equal(kcp_arena_bytes(&a), 0);
}

static void test_unrepresentable_sizes_are_refused(void **state)
{
    (void)state;
    /* A size near SIZE_MAX must not wrap around when rounded up to the
     * alignment and come back as a small block. */
    static const size_t huge[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 6, SIZE_MAX - 7,
                                  SIZE_MAX - 15};
    kcp_arena a = {0};
    size_t accepted = 0, first = 0;
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        if (kcp_arena_alloc(&a, huge[i]) && accepted++ == 0)
            first = huge[i];
    }
    kcp_arena_free(&a);
    if (accepted)
        fail_msg("%zu huge sizes returned a block, first SIZE_MAX - %zu", accepted, SIZE_MAX - first);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_arena_holds_nothing_and_frees_safely),
        cmocka_unit_test(test_blocks_are_zeroed_aligned_and_disjoint),
        cmocka_unit_test(test_zero_sized_allocations_are_distinct),
        cmocka_unit_test(test_large_blocks_are_zeroed_and_counted),
        cmocka_unit_test(test_very_large_blocks_are_zeroed_and_released),
        cmocka_unit_test(test_memdup_copies),
        cmocka_unit_test(test_arena_is_reusable_after_free),
        cmocka_unit_test(test_reset_keeps_memory_and_hands_it_out_zeroed),
        cmocka_unit_test(test_unrepresentable_sizes_are_refused),
    };
    return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
