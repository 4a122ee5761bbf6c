/*
 * kc_sasl_scram.h: SCRAM-SHA-256 and SCRAM-SHA-512 for libsasl2's client
 * API, on kc_scram.h, in place of libsasl2's own SCRAM plugin.
 */
#ifndef KC_SASL_SCRAM_H
#define KC_SASL_SCRAM_H

#include <stdbool.h>

/* Adds both mechanisms to libsasl2's client; call once, after
 * sasl_client_init(). Returns a libsasl2 result code (SASL_OK). */
int kc_sasl_scram_register(void);

/* The libsasl2 plugin file name that this replaces (its libscram), for
 * the SASL_CB_VERIFYFILE callback that keeps it from loading. */
bool kc_sasl_scram_replaces(const char *plugin_path);

#endif
