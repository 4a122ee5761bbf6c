/* SASL client sessions on libsasl2: its PLAIN plugin (RFC 4616), and for
 * SCRAM (RFC 5802 and 7677) the mechanism of kc_sasl_scram.h, which
 * keeps a run's derived keys, in place of libsasl2's own. */
#include "kc_sasl.h"

#include "kc_net.h"
#include "kc_sasl_scram.h"

#include <pthread.h>
#include <sasl/sasl.h>
#include <stdlib.h>
#include <string.h>

/* libsasl2 stores callbacks as int (*)(void); going through void (*)(void)
 * keeps -Wcast-function-type quiet about the real signatures. */
#define KC_SASL_CB(fn) ((int (*)(void))(void (*)(void))(fn))

struct kc_sasl {
    sasl_conn_t *conn;
    char *username;
    sasl_secret_t *secret;
    sasl_callback_t callbacks[4];
};

/* libsasl2 loads its plugins once per process. */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc = SASL_FAIL;

/* Keeps libsasl2's SCRAM plugin from loading: two plugins under one
 * mechanism name would leave the choice to libsasl2's plugin order. */
static int verify_plugin(void *context, const char *file, sasl_verify_type_t type)
{
    (void)context;
    return type == SASL_VRFY_PLUGIN && kc_sasl_scram_replaces(file) ? SASL_CONTINUE : SASL_OK;
}

static const sasl_callback_t global_callbacks[] = {
    {SASL_CB_VERIFYFILE, KC_SASL_CB(verify_plugin), NULL},
    {SASL_CB_LIST_END, NULL, NULL},
};

static void init_client(void)
{
    init_rc = sasl_client_init(global_callbacks);
    if (init_rc == SASL_OK)
        init_rc = kc_sasl_scram_register();
}

static int get_authname(void *context, int id, const char **result, unsigned *len)
{
    kc_sasl *s = context;
    if (id != SASL_CB_AUTHNAME && id != SASL_CB_USER)
        return SASL_BADPARAM;
    /* No authorization id (SASL_CB_USER empty): Kafka's PLAIN and SCRAM
     * servers take the authentication id as the principal. */
    *result = id == SASL_CB_AUTHNAME ? s->username : "";
    if (len)
        *len = (unsigned)strlen(*result);
    return SASL_OK;
}

static int get_password(sasl_conn_t *conn, void *context, int id, sasl_secret_t **psecret)
{
    (void)conn;
    kc_sasl *s = context;
    if (id != SASL_CB_PASS || !psecret)
        return SASL_BADPARAM;
    *psecret = s->secret;
    return SASL_OK;
}

static const char *detail(kc_sasl *s, int rc)
{
    const char *d = s->conn ? sasl_errdetail(s->conn) : NULL;
    return d && *d ? d : sasl_errstring(rc, NULL, NULL);
}

void kc_sasl_global_init(void)
{
    pthread_once(&init_once, init_client);
}

kc_sasl *kc_sasl_new(const char *host, const char *username, const char *password, char *err,
                     size_t err_size)
{
    kc_sasl_global_init();
    if (init_rc != SASL_OK) {
        kc_fmt(err, err_size, "cannot initialise libsasl2: %s", sasl_errstring(init_rc, NULL, NULL));
        return NULL;
    }
    if (!username || !password) {
        kc_fmt(err, err_size, "SASL needs a username and a password");
        return NULL;
    }
    kc_sasl *s = calloc(1, sizeof *s);
    size_t pwlen = strlen(password);
    if (!s || !(s->username = strdup(username)) ||
        !(s->secret = calloc(1, sizeof(sasl_secret_t) + pwlen))) {
        kc_fmt(err, err_size, "out of memory");
        kc_sasl_free(s);
        return NULL;
    }
    s->secret->len = pwlen;
    memcpy(s->secret->data, password, pwlen);
    s->callbacks[0] = (sasl_callback_t){SASL_CB_USER, KC_SASL_CB(get_authname), s};
    s->callbacks[1] = (sasl_callback_t){SASL_CB_AUTHNAME, KC_SASL_CB(get_authname), s};
    s->callbacks[2] = (sasl_callback_t){SASL_CB_PASS, KC_SASL_CB(get_password), s};
    s->callbacks[3] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    int rc = sasl_client_new("kafka", host, NULL, NULL, s->callbacks, 0, &s->conn);
    if (rc == SASL_OK) {
        /* Kafka has no SASL security layer: ask for none. */
        sasl_security_properties_t props = {.min_ssf = 0, .max_ssf = 0, .maxbufsize = 0};
        rc = sasl_setprop(s->conn, SASL_SEC_PROPS, &props);
    }
    if (rc != SASL_OK) {
        kc_fmt(err, err_size, "cannot start a SASL client: %s", detail(s, rc));
        kc_sasl_free(s);
        return NULL;
    }
    return s;
}

static int outcome(kc_sasl *s, int rc, const char *clientout, unsigned outlen, const uint8_t **out,
                   size_t *out_len, char *err, size_t err_size)
{
    *out = (const uint8_t *)(clientout ? clientout : "");
    *out_len = clientout ? outlen : 0;
    if (rc == SASL_OK)
        return KC_SASL_DONE;
    if (rc == SASL_CONTINUE)
        return KC_SASL_CONTINUE;
    if (rc == SASL_INTERACT)
        kc_fmt(err, err_size, "the SASL mechanism asked for more than a username and password");
    else
        kc_fmt(err, err_size, "%s", detail(s, rc));
    return KC_SASL_FAILED;
}

int kc_sasl_start(kc_sasl *s, const char *mechanism, const uint8_t **out, size_t *out_len, char *err,
                  size_t err_size)
{
    sasl_interact_t *prompts = NULL;
    const char *clientout = NULL, *chosen = NULL;
    unsigned outlen = 0;
    int rc = sasl_client_start(s->conn, mechanism, &prompts, &clientout, &outlen, &chosen);
    if (rc == SASL_NOMECH) {
        kc_fmt(err, err_size, "mechanism %s is not available in libsasl2 (install its plugin)", mechanism);
        *out = NULL;
        *out_len = 0;
        return KC_SASL_FAILED;
    }
    return outcome(s, rc, clientout, outlen, out, out_len, err, err_size);
}

int kc_sasl_step(kc_sasl *s, const uint8_t *in, size_t in_len, const uint8_t **out, size_t *out_len,
                 char *err, size_t err_size)
{
    sasl_interact_t *prompts = NULL;
    const char *clientout = NULL;
    unsigned outlen = 0;
    int rc = sasl_client_step(s->conn, (const char *)in, (unsigned)in_len, &prompts, &clientout, &outlen);
    return outcome(s, rc, clientout, outlen, out, out_len, err, err_size);
}

void kc_sasl_free(kc_sasl *s)
{
    if (!s)
        return;
    if (s->conn)
        sasl_dispose(&s->conn);
    if (s->secret) {
        explicit_bzero(s->secret->data, s->secret->len);
        free(s->secret);
    }
    free(s->username);
    free(s);
}
