/*
 * kc_options.h: the command line of kafka-connections, parsed and checked
 * before anything touches the network. Every error names the option and
 * the value at fault (never the value of -X, which may be a secret).
 */
#ifndef KC_OPTIONS_H
#define KC_OPTIONS_H

#include "kc_view.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum kc_output { KC_OUTPUT_TABLE = 0, KC_OUTPUT_JSON, KC_OUTPUT_CSV };
/* --state: what the brokers search (States and IncludeClosed). */
enum kc_state_choice { KC_STATES_OPEN = 0, KC_STATES_CLOSED, KC_STATES_ALL };

/* A repeatable option's values, owned copies. */
typedef struct kc_strlist {
    char **v;
    size_t n;
} kc_strlist;

typedef struct kc_options {
    const char *bootstrap;      /* --bootstrap-server (points into argv) */
    const char *command_config; /* --command-config */
    kc_strlist props;           /* -X key=value, in order */
    /* Filters, sent to the brokers (DescribeConnectionsRequest). */
    kc_strlist principals;      /* as "User:alice" */
    kc_strlist listeners;       /* upper-cased, as Kafka names listeners */
    kc_strlist client_addresses;
    kc_strlist client_software;
    kc_strlist client_ids;
    int64_t min_idle_ms;        /* --idle-longer-than; -1 = none */
    int state;                  /* enum kc_state_choice */
    int32_t limit;              /* --limit, rows per broker; 0 = all */
    /* Views and output. */
    int group_by;               /* enum kc_group_by, after defaults */
    bool summary;
    kc_sort sort;
    int *columns;               /* --columns as column indexes; NULL = defaults */
    size_t n_columns;
    int output;                 /* enum kc_output */
    bool expect_none;
    int watch_s;                /* --watch; 0 = once */
    /* Reaching the brokers; 0 or -1 = the default of kc_config_finish(). */
    int parallelism;
    int timeout_ms;
    int api_key;                /* -1 = default */
    int32_t *brokers;           /* --broker ids; NULL = all */
    size_t n_brokers;
    bool help, version;
} kc_options;

/* Parses argv. Returns 0, or -1 with errstr naming the option and why (a
 * usage error: exit status 2). With --help or --version only those flags
 * are set. o need not be initialised; kc_options_free() either way. */
int kc_options_parse(kc_options *o, int argc, char **argv, char *errstr, size_t errstr_size);
void kc_options_free(kc_options *o);

/* The --help text. */
void kc_usage(FILE *f);

/* Parses a whole base-10 number in [min, max]. Returns 0 or -1. */
int kc_parse_int(const char *text, int64_t min, int64_t max, int64_t *out);

#endif
