/*
 * kcp_properties.h: Kafka's configuration file format, the syntax of
 * java.util.Properties.load that server.properties, client.properties and
 * --command-config files use: '#' and '!' comments, key and value separated
 * by '=', ':' or whitespace, backslash continuations, the escapes
 * \t \n \r \f \uXXXX (UTF-16, so surrogate pairs) and \c for any other c.
 * Bytes are taken as UTF-8 and \uXXXX escapes are written out as UTF-8.
 * One difference from Properties: a UTF-8 byte order mark at the start of
 * the text is skipped instead of becoming part of the first key.
 *
 * Only the syntax lives here; what a property means is up to the caller.
 */
#ifndef KCP_PROPERTIES_H
#define KCP_PROPERTIES_H

#include <stddef.h>

/* A properties file larger than this is a mistake (a log passed by error):
 * Kafka's own are a few kilobytes. */
#define KCP_PROPERTIES_MAX_BYTES (1u << 20)

/* Called once per property, in file order (a repeated key is called again:
 * last one wins, as in Properties), with the line the property starts on,
 * so that later checks can say where a value came from. key and value are
 * NUL-terminated and valid only during the call: they are wiped afterwards,
 * since values can be passwords. Returns 0, or -1 after writing the cause
 * into errstr. */
typedef int (*kcp_properties_fn)(void *opaque, unsigned line, const char *key, const char *value,
                                 char *errstr, size_t errstr_size);

/* Parses text[0..len) (not NUL-terminated). Returns 0, or -1 with errstr as
 * "NAME:LINE: cause", NAME being name and LINE the line the property starts
 * on; the cause is a syntax error or the callback's message. A NUL byte
 * anywhere is an error found before any callback. */
int kcp_properties_parse(const char *name, const char *text, size_t len, kcp_properties_fn fn,
                         void *opaque, char *errstr, size_t errstr_size);

/* Reads the file at path (at most KCP_PROPERTIES_MAX_BYTES) and parses it
 * with path as NAME. Returns 0, or -1 with errstr as "PATH: cause" when the
 * file cannot be read and as kcp_properties_parse() writes it otherwise. */
int kcp_properties_load(const char *path, kcp_properties_fn fn, void *opaque, char *errstr,
                        size_t errstr_size);

#endif
