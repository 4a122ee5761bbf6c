/* Vector file loader for the golden tests (format in support_hex.h). */
#include "golden_fixture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int golden_load(const char *dir, const char *name, uint8_t **out, size_t *out_len,
                char *errstr, size_t errstr_size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            char *bigger = realloc(text, cap);
            if (!bigger) {
                snprintf(errstr, errstr_size, "%s: out of memory", path);
                free(text);
                fclose(f);
                return -1;
            }
            text = bigger;
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        snprintf(errstr, errstr_size, "%s: read error", path);
        free(text);
        return -1;
    }
    char why[256];
    int rc = support_hex_parse(text, len, out, out_len, why, sizeof why);
    if (rc)
        snprintf(errstr, errstr_size, "%s: %s", path, why);
    free(text);
    return rc;
}
