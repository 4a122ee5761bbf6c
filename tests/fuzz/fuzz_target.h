/*
 * fuzz_target.h: what every fuzz target in this folder shares.
 *
 * A target is one LLVMFuzzerTestOneInput(). Under -Dfuzzing=true libFuzzer
 * drives it; otherwise replay_main.c feeds it every file of its corpus, so
 * the same invariants run as regression tests in an ordinary build.
 * A broken invariant aborts: libFuzzer and the sanitizers then save the
 * input and print the stack, and a replay run fails.
 */
#ifndef FUZZ_TARGET_H
#define FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                            \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fputc('\n', stderr);                                                          \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

/* malloc that never returns NULL (a failed allocation is not a finding of
 * the code under test) and gives a real pointer even for 0 bytes. */
static inline void *fuzz_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "fuzz target: out of memory for %zu bytes\n", n);
        abort();
    }
    return p;
}

#endif
