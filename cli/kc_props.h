/*
 * kc_props.h: reads a properties file as Apache Kafka's tools do
 * (java.util.Properties.load syntax): '#' and '!' comments, key and value
 * separated by '=', ':' or whitespace, backslash continuations, the escapes
 * \t \n \r \f \uXXXX and \c for any other c. Bytes are taken as UTF-8.
 */
#ifndef KC_PROPS_H
#define KC_PROPS_H

#include <stddef.h>

/* Called once per property, in file order, with NUL-terminated key and
 * value. Returns 0, or -1 after writing why into errstr. */
typedef int (*kc_prop_fn)(void *opaque, const char *key, const char *value, char *errstr,
                          size_t errstr_size);

/* Parses text[0..len). On an error returns -1 with errstr as
 * "NAME:LINE: cause", NAME being name. */
int kc_props_parse(const char *name, const char *text, size_t len, kc_prop_fn fn, void *opaque,
                   char *errstr, size_t errstr_size);

/* Reads and parses the file at path (at most 1 MiB). */
int kc_props_load(const char *path, kc_prop_fn fn, void *opaque, char *errstr, size_t errstr_size);

#endif
