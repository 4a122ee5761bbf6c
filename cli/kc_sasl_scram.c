/* SCRAM-SHA-256 and SCRAM-SHA-512 as a libsasl2 client mechanism, on
 * kc_scram.h. libsasl2's own SCRAM plugin derives the salted password
 * anew on every connection through OpenSSL's one-shot HMAC(), three times
 * the CPU of PBKDF2 on OpenSSL 3, and a run logs in to every broker; this
 * one keeps the keys of a run. The exchange still goes through libsasl2's
 * client API, as PLAIN's does. */
#include "kc_sasl_scram.h"

#include "kc_scram.h"

#include <sasl/sasl.h>
#include <sasl/saslplug.h>
#include <stdlib.h>
#include <string.h>

/* libsasl2 hands callbacks back as int (*)(void); going through
 * void (*)(void) keeps -Wcast-function-type quiet. */
#define KC_FN(type, fn) ((type *)(void (*)(void))(fn))

/* One per mechanism name: libsasl2 keeps the plugin tables for the life
 * of the process, and frees each glob_context through mech_free. */
typedef struct mechanism {
    const char *name;
    kc_scram_keys *keys;
} mechanism;

static mechanism mechanisms[] = {{"SCRAM-SHA-512", NULL}, {"SCRAM-SHA-256", NULL}};
#define N_MECHANISMS (sizeof mechanisms / sizeof mechanisms[0])
static sasl_client_plug_t plugs[N_MECHANISMS];

typedef struct exchange {
    const mechanism *m;
    kc_scram *scram;
} exchange;

static int mech_new(void *glob, sasl_client_params_t *params, void **conn_context)
{
    (void)params;
    exchange *x = calloc(1, sizeof *x);
    if (!x)
        return SASL_NOMEM;
    x->m = glob;
    *conn_context = x;
    return SASL_OK;
}

static void mech_dispose(void *conn_context, const sasl_utils_t *utils)
{
    (void)utils;
    exchange *x = conn_context;
    if (x)
        kc_scram_free(x->scram);
    free(x);
}

static void mech_free(void *glob, const sasl_utils_t *utils)
{
    (void)utils;
    mechanism *m = glob;
    kc_scram_keys_free(m->keys);
    m->keys = NULL;
}

static int fail(const sasl_utils_t *u, int rc, const char *err)
{
    u->seterror(u->conn, 0, "%s", err);
    return rc;
}

/* The first step: username and password from the connection's callbacks
 * (kc_sasl.c), then the client-first-message. */
static int begin(exchange *x, sasl_client_params_t *params, const char **out, size_t *out_len,
                 sasl_out_params_t *oparams)
{
    const sasl_utils_t *u = params->utils;
    sasl_callback_ft proc;
    void *context;
    const char *user = NULL;
    unsigned user_len = 0;
    sasl_secret_t *secret = NULL;
    if (u->getcallback(u->conn, SASL_CB_AUTHNAME, &proc, &context) != SASL_OK ||
        KC_FN(sasl_getsimple_t, proc)(context, SASL_CB_AUTHNAME, &user, &user_len) != SASL_OK ||
        u->getcallback(u->conn, SASL_CB_PASS, &proc, &context) != SASL_OK ||
        KC_FN(sasl_getsecret_t, proc)(u->conn, context, SASL_CB_PASS, &secret) != SASL_OK || !secret)
        return fail(u, SASL_BADPARAM, "SCRAM needs a username and a password");
    int rc = params->canon_user(u->conn, user, user_len, SASL_CU_AUTHID | SASL_CU_AUTHZID, oparams);
    if (rc != SASL_OK)
        return rc;
    x->scram = kc_scram_new(x->m->name, oparams->authid, (const char *)secret->data, secret->len,
                            x->m->keys);
    if (!x->scram)
        return fail(u, SASL_NOMEM, "out of memory");
    char err[256];
    if (kc_scram_first(x->scram, out, out_len, err, sizeof err))
        return fail(u, SASL_FAIL, err);
    return SASL_CONTINUE;
}

static int mech_step(void *conn_context, sasl_client_params_t *params, const char *serverin,
                     unsigned serverinlen, sasl_interact_t **prompt_need, const char **clientout,
                     unsigned *clientoutlen, sasl_out_params_t *oparams)
{
    (void)prompt_need;
    exchange *x = conn_context;
    const sasl_utils_t *u = params->utils;
    char err[256];
    size_t len = 0;
    int rc;
    *clientout = NULL;
    *clientoutlen = 0;
    if (!x->scram) {
        rc = begin(x, params, clientout, &len, oparams);
    } else if (kc_scram_done_sending(x->scram)) {
        if (kc_scram_verify(x->scram, serverin ? serverin : "", serverinlen, err, sizeof err))
            return fail(u, SASL_BADAUTH, err);
        /* Kafka has no SASL security layer. */
        oparams->doneflag = 1;
        oparams->mech_ssf = 0;
        oparams->maxoutbuf = 0;
        oparams->encode = NULL;
        oparams->decode = NULL;
        oparams->param_version = 0;
        return SASL_OK;
    } else {
        rc = kc_scram_final(x->scram, serverin ? serverin : "", serverinlen, clientout, &len, err,
                            sizeof err)
                 ? fail(u, SASL_BADPROT, err)
                 : SASL_CONTINUE;
    }
    *clientoutlen = (unsigned)len;
    return rc;
}

static int plug_init(const sasl_utils_t *utils, int max_version, int *out_version,
                     sasl_client_plug_t **list, int *count)
{
    (void)utils;
    if (max_version < SASL_CLIENT_PLUG_VERSION)
        return SASL_BADVERS;
    for (size_t i = 0; i < N_MECHANISMS; i++) {
        if (!mechanisms[i].keys && !(mechanisms[i].keys = kc_scram_keys_new()))
            return SASL_NOMEM;
        plugs[i] = (sasl_client_plug_t){
            .mech_name = mechanisms[i].name,
            .security_flags = SASL_SEC_NOANONYMOUS | SASL_SEC_NOPLAINTEXT | SASL_SEC_MUTUAL_AUTH,
            .features = SASL_FEAT_WANT_CLIENT_FIRST | SASL_FEAT_ALLOWS_PROXY,
            .glob_context = &mechanisms[i],
            .mech_new = mech_new,
            .mech_step = mech_step,
            .mech_dispose = mech_dispose,
            .mech_free = mech_free,
        };
    }
    *out_version = SASL_CLIENT_PLUG_VERSION;
    *list = plugs;
    *count = (int)N_MECHANISMS;
    return SASL_OK;
}

int kc_sasl_scram_register(void)
{
    return sasl_client_add_plugin("kafka-connections-scram", plug_init);
}

bool kc_sasl_scram_replaces(const char *plugin_path)
{
    const char *base = strrchr(plugin_path, '/');
    base = base ? base + 1 : plugin_path;
    return strncmp(base, "libscram.", 9) == 0;
}
