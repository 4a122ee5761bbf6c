/*
 * kb_sasl.c: the broker's SASL server side. Users and passwords live in a
 * sasldb read through libsasl2 (Cyrus SASL 2.1.28); PLAIN is libsasl2's
 * own mechanism, SCRAM-SHA-256/512 are kb_scram's.
 *
 * Why SCRAM is not libsasl2's: librdkafka repeats its client nonce in the
 * client-final-message, which Apache Kafka accepts and libsasl2's SCRAM
 * plugin refuses (SASL_BADPROT), and the message cannot be rewritten on
 * its way in as the client's proof signs it as sent (see kb_scram.c).
 * SCRAM sessions still use a libsasl2 connection, only to read the user's
 * cleartext password from the sasldb (kb_lookup_password), so both
 * mechanisms see the same users through the same name rules.
 *
 * libsasl2 reads every option from kb_getopt and from no file:
 * sasl_server_init gets no application name, so /etc/sasl2/<app>.conf is
 * never consulted and the broker behaves the same on every machine.
 *
 *   pwcheck_method=auxprop   PLAIN checks the password against the
 *   auxprop_plugin=sasldb    userPassword that saslpasswd2 stored, the same
 *                            secret SCRAM derives its keys from.
 *   sasldb_path              the configured file (libsasl2's default is
 *                            /etc/sasldb2).
 *   mech_list                the enabled mechanisms libsasl2 runs (PLAIN
 *                            or none), so no other installed plugin
 *                            (LOGIN, DIGEST-MD5, ANONYMOUS, its own
 *                            SCRAM...) can be started on a session.
 *   log_level=1 (ERR)        plugins log nothing verbose; kb_log also drops
 *                            every level above NOTE, as TRACE and PASS may
 *                            carry secrets.
 *
 * sasldb_path and mech_list belong to one kb_sasl_server, so they are given
 * through per-connection callbacks, which libsasl2 asks before the
 * process-wide ones (_sasl_conn_getopt): servers with different files may
 * coexist and the process-wide callbacks never point at a freed server.
 *
 * Threads: libsasl2 needs sasl_server_init/sasl_server_done serialised and
 * each sasl_conn_t used by one thread at a time. PLAIN keeps no state,
 * kb_scram keeps all of its own per session on OpenSSL calls that are
 * thread-safe, and the sasldb plugin opens the Berkeley DB read-only per
 * lookup, so sessions on different threads need no lock of ours.
 *
 * Secrets: passwords that libsasl2 fetched stay in the connection's
 * property context until it is disposed, unwiped; kb_forget_password
 * zeroes them as soon as the step that needed them is over.
 */
#include "kb_sasl.h"
#include "kb_scram_cache.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

/* The service name Kafka's Java broker uses for its SaslServer too. */
#define KB_SASL_SERVICE "kafka"
/* Passed as serverFQDN so that libsasl2 does not resolve the host name on
 * every session; only mechanisms we never enable (DIGEST-MD5, GSSAPI) use
 * it, and the realm comes from user_realm. */
#define KB_SASL_FQDN "localhost"
/* PLAIN and SCRAM tokens are a few hundred bytes; libsasl2 caps names at
 * 1024 bytes anyway (CANON_BUF_SIZE). */
#define KB_SASL_MAX_TOKEN 65536

static const char *const kb_supported[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};
#define KB_N_SUPPORTED (sizeof kb_supported / sizeof kb_supported[0])

/* libsasl2 stores callbacks as int (*)(void); going through void (*)(void)
 * is the conversion compilers accept without a cast-function-type warning. */
#define KB_CB(fn) ((int (*)(void))(void (*)(void))(fn))

enum kb_session_state { KB_FRESH, KB_STARTED, KB_FINISHED };

struct kb_sasl_server {
    char *sasldb_path;
    char *realm;
    const char *mechs[KB_N_SUPPORTED]; /* entries of kb_supported */
    size_t n_mechs;
    char mech_list[64]; /* mech_list option: the enabled ones libsasl2 runs */
    kb_scram_cache *scram_cache; /* SCRAM keys derived once per password */
};

struct kb_sasl_session {
    kb_sasl_server *srv;
    sasl_conn_t *conn;
    const char *mech; /* entry of kb_supported */
    kb_scram *scram;  /* SCRAM sessions only */
    enum kb_session_state state;
    char *claimed;    /* authcid as the mechanism decoded it (for messages) */
    char *canonical;  /* "claimed@realm", what libsasl2 looks up */
    char *username;   /* after KB_SASL_DONE */
    char *in;         /* NUL-terminated copy of the current token */
    size_t in_size;   /* bytes allocated at in */
    char detail[256]; /* last libsasl2 log line, see kb_log */
    sasl_callback_t callbacks[5];
};

static void kb_err(char *errstr, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void kb_err(char *errstr, size_t size, const char *fmt, ...)
{
    va_list ap;

    if (!errstr || size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errstr, size, fmt, ap);
    va_end(ap);
}

/* ---- libsasl2 callbacks ---- */

static int kb_getopt(void *context, const char *plugin_name, const char *option,
                     const char **result, unsigned *len)
{
    const kb_sasl_server *srv = context;
    const char *v = NULL;

    (void)plugin_name; /* SCRAM asks per mechanism; one answer fits all */
    if (strcmp(option, "pwcheck_method") == 0)
        v = "auxprop";
    else if (strcmp(option, "auxprop_plugin") == 0)
        v = "sasldb";
    else if (strcmp(option, "log_level") == 0)
        v = "1";
    else if (srv && strcmp(option, "sasldb_path") == 0)
        v = srv->sasldb_path;
    else if (srv && strcmp(option, "mech_list") == 0)
        v = srv->mech_list;
    if (!v)
        return SASL_FAIL; /* libsasl2 then uses its built-in default */
    *result = v;
    if (len)
        *len = (unsigned)strlen(v);
    return SASL_OK;
}

/* Keeps the session's last diagnostic; process-wide messages (context NULL)
 * go nowhere instead of libsasl2's default, syslog. */
static int kb_log(void *context, int level, const char *message)
{
    kb_sasl_session *s = context;

    if (s && message && level <= SASL_LOG_NOTE)
        snprintf(s->detail, sizeof s->detail, "%s", message);
    return SASL_OK;
}

/* Canonical names are "user@realm", the form the sasldb plugin looks up.
 * We build it here rather than let libsasl2's INTERNAL canonicaliser do
 * it, as that one strips surrounding white space and reads "user@other" as
 * a user of realm "other": both would let a client authenticate under a
 * name other than the one it sent. saslpasswd2 cannot create such names in
 * a realm either (it too splits at '@'), so refusing them loses no user.
 * libsasl2 canonicalises the authenticated name a second time before
 * checking a PLAIN password (auxprop_verify_password); our own output then
 * passes unchanged. */
static int kb_canon_user(sasl_conn_t *conn, void *context, const char *in, unsigned inlen,
                         unsigned flags, const char *user_realm, char *out, unsigned out_max,
                         unsigned *out_len)
{
    kb_sasl_session *s = context;
    const char *realm = s->srv->realm;
    size_t rlen = strlen(realm);

    (void)user_realm; /* the same as realm */
    if ((flags & SASL_CU_AUTHID) && s->canonical && strlen(s->canonical) == inlen &&
        memcmp(in, s->canonical, inlen) == 0) {
        if (inlen >= out_max)
            return SASL_BUFOVER;
        memcpy(out, in, inlen + 1);
        *out_len = inlen;
        return SASL_OK;
    }
    if ((flags & SASL_CU_AUTHID) && !s->claimed) {
        s->claimed = strndup(in, inlen);
        if (!s->claimed)
            return SASL_NOMEM;
    }
    if (inlen == 0 || isspace((unsigned char)in[0]) || isspace((unsigned char)in[inlen - 1]) ||
        memchr(in, '@', inlen)) {
        sasl_seterror(conn, 0, "user name empty, with surrounding white space or with '@'");
        /* An authorization id alone fails authorization, not authentication. */
        return (flags & SASL_CU_AUTHID) ? SASL_NOUSER : SASL_NOAUTHZ;
    }
    if (inlen + 1 + rlen >= out_max)
        return SASL_BUFOVER;
    memcpy(out, in, inlen);
    out[inlen] = '@';
    memcpy(out + inlen + 1, realm, rlen + 1);
    *out_len = (unsigned)(inlen + 1 + rlen);
    if (flags & SASL_CU_AUTHID) {
        free(s->canonical);
        s->canonical = strdup(out);
        if (!s->canonical)
            return SASL_NOMEM;
    }
    return SASL_OK;
}

/* Kafka's PLAIN and SCRAM servers refuse an authorization id other than the
 * authenticated user (no impersonation); both names are canonical here. */
static int kb_authorize(sasl_conn_t *conn, void *context, const char *requested_user,
                        unsigned rlen, const char *auth_identity, unsigned alen,
                        const char *def_realm, unsigned urlen, struct propctx *propctx)
{
    (void)context;
    (void)def_realm;
    (void)urlen;
    (void)propctx;
    if (rlen == alen && memcmp(requested_user, auth_identity, alen) == 0)
        return SASL_OK;
    sasl_seterror(conn, 0, "authorization id differs from the authenticated user");
    return SASL_NOAUTHZ;
}

static const sasl_callback_t kb_global_callbacks[] = {
    {SASL_CB_GETOPT, KB_CB(kb_getopt), NULL},
    {SASL_CB_LOG, KB_CB(kb_log), NULL},
    {SASL_CB_LIST_END, NULL, NULL},
};

/* ---- process-wide libsasl2 state ---- */

static pthread_mutex_t kb_sasl_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned kb_sasl_servers; /* live kb_sasl_server objects */

static int kb_global_acquire(char *errstr, size_t errstr_size)
{
    int rc = SASL_OK;

    pthread_mutex_lock(&kb_sasl_lock);
    if (kb_sasl_servers == 0)
        rc = sasl_server_init(kb_global_callbacks, NULL);
    if (rc == SASL_OK)
        kb_sasl_servers++;
    pthread_mutex_unlock(&kb_sasl_lock);
    if (rc != SASL_OK) {
        kb_err(errstr, errstr_size, "sasl_server_init failed: %s",
               sasl_errstring(rc, NULL, NULL));
        return -1;
    }
    return 0;
}

static void kb_global_release(void)
{
    pthread_mutex_lock(&kb_sasl_lock);
    if (--kb_sasl_servers == 0)
        sasl_server_done();
    pthread_mutex_unlock(&kb_sasl_lock);
}

/* ---- server ---- */

static const char *kb_supported_name(const char *mechanism)
{
    for (size_t i = 0; mechanism && i < KB_N_SUPPORTED; i++)
        if (strcmp(kb_supported[i], mechanism) == 0)
            return kb_supported[i];
    return NULL;
}

/* PLAIN is libsasl2's; the SCRAM mechanisms are kb_scram's. */
static bool kb_via_libsasl2(const char *mechanism)
{
    return strcmp(mechanism, "PLAIN") == 0;
}

static void kb_join_mechs(const kb_sasl_server *srv, const char *sep, bool libsasl2_only,
                          char *buf, size_t size)
{
    size_t off = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < srv->n_mechs && off < size; i++) {
        int n;
        if (libsasl2_only && !kb_via_libsasl2(srv->mechs[i]))
            continue;
        n = snprintf(buf + off, size - off, "%s%s", off ? sep : "", srv->mechs[i]);
        if (n < 0)
            break;
        off += (size_t)n;
    }
}

/* Kafka's mechanism names are case-sensitive (sasl.enabled.mechanisms). */
static int kb_set_mechanisms(kb_sasl_server *srv, char *const *mechanisms, size_t n,
                             char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < n; i++) {
        const char *name = kb_supported_name(mechanisms[i]);
        if (!name) {
            kb_err(errstr, errstr_size,
                   "unsupported SASL mechanism %s "
                   "(supported: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)",
                   mechanisms[i] ? mechanisms[i] : "(null)");
            return -1;
        }
        if (!kb_sasl_enabled(srv, name))
            srv->mechs[srv->n_mechs++] = name;
    }
    if (srv->n_mechs == 0) {
        kb_err(errstr, errstr_size, "no SASL mechanism enabled");
        return -1;
    }
    kb_join_mechs(srv, " ", true, srv->mech_list, sizeof srv->mech_list);
    return 0;
}

/* libsasl2 treats a missing sasldb as "no such user", which would make a
 * typo in the path look like wrong passwords: check it up front. */
static int kb_check_sasldb(const char *path, char *errstr, size_t errstr_size)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        kb_err(errstr, errstr_size, "sasldb file %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        kb_err(errstr, errstr_size, "sasldb file %s: not a regular file", path);
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* No security layer (Kafka never negotiates one; PLAIN and SCRAM have
 * none) and plaintext mechanisms allowed, as Kafka allows PLAIN on
 * SASL_PLAINTEXT listeners. */
static int kb_set_secprops(sasl_conn_t *conn)
{
    sasl_security_properties_t sp;

    memset(&sp, 0, sizeof sp);
    return sasl_setprop(conn, SASL_SEC_PROPS, &sp);
}

static void kb_note_auxprop(sasl_auxprop_plug_t *m, sasl_info_callback_stage_t stage, void *rock)
{
    if (stage == SASL_INFO_LIST_MECH && m)
        *(bool *)rock = true;
}

/* Asks libsasl2 what a session of srv would offer: plugins missing from the
 * system silently vanish from mech_list otherwise. SCRAM needs no libsasl2
 * mechanism plugin, only the sasldb one. */
static int kb_check_available(const kb_sasl_server *srv, char *errstr, size_t errstr_size)
{
    sasl_callback_t cbs[] = {
        {SASL_CB_GETOPT, KB_CB(kb_getopt), (void *)srv},
        {SASL_CB_LIST_END, NULL, NULL},
    };
    sasl_conn_t *conn = NULL;
    const char *list = NULL;
    unsigned len = 0;
    int count = 0, rc, ret = 0;
    bool sasldb = false;

    rc = sasl_server_new(KB_SASL_SERVICE, KB_SASL_FQDN, srv->realm, NULL, NULL, cbs, 0, &conn);
    if (rc == SASL_OK)
        rc = kb_set_secprops(conn);
    if (rc != SASL_OK) {
        kb_err(errstr, errstr_size, "sasl_server_new failed: %s", sasl_errstring(rc, NULL, NULL));
        sasl_dispose(&conn);
        return -1;
    }
    rc = sasl_listmech(conn, NULL, " ", " ", " ", &list, &len, &count);
    if (rc != SASL_OK || count == 0)
        list = " none ";
    for (size_t i = 0; i < srv->n_mechs && ret == 0; i++) {
        char word[32];
        if (!kb_via_libsasl2(srv->mechs[i]))
            continue;
        snprintf(word, sizeof word, " %s ", srv->mechs[i]);
        if (!strstr(list, word)) {
            kb_err(errstr, errstr_size,
                   "SASL mechanism %s is not available in libsasl2: install its plugin "
                   "(Debian package libsasl2-modules); libsasl2 offers:%.*s",
                   srv->mechs[i], (int)strlen(list) - 1, list); /* no trailing blank */
            ret = -1;
        }
    }
    sasl_dispose(&conn);
    /* Without it every lookup finds no user: a silent total failure. */
    if (ret == 0 && auxprop_plugin_info("sasldb", kb_note_auxprop, &sasldb) != SASL_OK)
        sasldb = false;
    if (ret == 0 && !sasldb) {
        kb_err(errstr, errstr_size,
               "libsasl2's sasldb plugin is not available: install the Debian package "
               "libsasl2-modules-db");
        ret = -1;
    }
    return ret;
}

kb_sasl_server *kb_sasl_server_new(const char *sasldb_path, const char *realm,
                                   char *const *mechanisms, size_t n_mechanisms, char *errstr,
                                   size_t errstr_size)
{
    kb_sasl_server *srv;

    if (!sasldb_path || !*sasldb_path) {
        kb_err(errstr, errstr_size, "no sasldb file given");
        return NULL;
    }
    if (!realm || !*realm || strpbrk(realm, "@ \t\r\n\v\f")) {
        kb_err(errstr, errstr_size, "SASL realm must be a non-empty name without '@' or blanks");
        return NULL;
    }
    srv = calloc(1, sizeof *srv);
    if (!srv) {
        kb_err(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (kb_set_mechanisms(srv, mechanisms, n_mechanisms, errstr, errstr_size) != 0 ||
        kb_check_sasldb(sasldb_path, errstr, errstr_size) != 0)
        goto fail;
    srv->sasldb_path = strdup(sasldb_path);
    srv->realm = strdup(realm);
    if (!srv->sasldb_path || !srv->realm) {
        kb_err(errstr, errstr_size, "out of memory");
        goto fail;
    }
    if (!(srv->scram_cache = kb_scram_cache_new(NULL))) {
        kb_err(errstr, errstr_size, "out of memory");
        goto fail;
    }
    if (kb_global_acquire(errstr, errstr_size) != 0)
        goto fail;
    if (kb_check_available(srv, errstr, errstr_size) != 0) {
        kb_global_release();
        goto fail;
    }
    return srv;
fail:
    kb_scram_cache_free(srv->scram_cache);
    free(srv->sasldb_path);
    free(srv->realm);
    free(srv);
    return NULL;
}

int kb_sasl_server_set_salt_secret(kb_sasl_server *srv, const char *secret)
{
    kb_scram_cache *cache = kb_scram_cache_new(secret);
    if (!cache)
        return -1;
    kb_scram_cache_free(srv->scram_cache);
    srv->scram_cache = cache;
    return 0;
}

void kb_sasl_server_free(kb_sasl_server *srv)
{
    if (!srv)
        return;
    kb_global_release();
    kb_scram_cache_free(srv->scram_cache);
    free(srv->sasldb_path);
    free(srv->realm);
    free(srv);
}

bool kb_sasl_enabled(const kb_sasl_server *srv, const char *mechanism)
{
    for (size_t i = 0; mechanism && i < srv->n_mechs; i++)
        if (strcmp(srv->mechs[i], mechanism) == 0)
            return true;
    return false;
}

size_t kb_sasl_mechanisms(const kb_sasl_server *srv, const char **out, size_t n)
{
    for (size_t i = 0; i < srv->n_mechs && i < n; i++)
        out[i] = srv->mechs[i];
    return srv->n_mechs;
}

/* ---- sessions ---- */

/* What saslpasswd2 stores: the authentication id's cleartext password. */
static const char *kb_password_prop[] = {SASL_AUX_PASSWORD, NULL};

/* Zeroes every password the connection's lookups fetched: libsasl2's own
 * lookup (auxprop_verify_password) also asks for the legacy secret. */
static void kb_forget_password(kb_sasl_session *s)
{
    struct propctx *ctx = s->conn ? sasl_auxprop_getctx(s->conn) : NULL;

    if (!ctx)
        return;
    prop_erase(ctx, SASL_AUX_PASSWORD);
    prop_erase(ctx, "*cmusaslsecretPLAIN");
}

kb_sasl_session *kb_sasl_session_new(kb_sasl_server *srv, const char *mechanism, char *errstr,
                                     size_t errstr_size)
{
    kb_sasl_session *s;
    int rc;

    if (!kb_sasl_enabled(srv, mechanism)) {
        char enabled[64];
        kb_join_mechs(srv, ", ", false, enabled, sizeof enabled);
        kb_err(errstr, errstr_size, "SASL mechanism %s is not enabled (enabled: %s)",
               mechanism ? mechanism : "(null)", enabled);
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        kb_err(errstr, errstr_size, "out of memory");
        return NULL;
    }
    s->srv = srv;
    s->mech = kb_supported_name(mechanism);
    if (!kb_via_libsasl2(s->mech) && !(s->scram = kb_scram_new(s->mech))) {
        kb_err(errstr, errstr_size, "out of memory");
        free(s);
        return NULL;
    }
    s->callbacks[0] = (sasl_callback_t){SASL_CB_GETOPT, KB_CB(kb_getopt), srv};
    s->callbacks[1] = (sasl_callback_t){SASL_CB_LOG, KB_CB(kb_log), s};
    s->callbacks[2] = (sasl_callback_t){SASL_CB_CANON_USER, KB_CB(kb_canon_user), s};
    s->callbacks[3] = (sasl_callback_t){SASL_CB_PROXY_POLICY, KB_CB(kb_authorize), NULL};
    s->callbacks[4] = (sasl_callback_t){SASL_CB_LIST_END, NULL, NULL};
    /* SASL_SUCCESS_DATA: SCRAM's server-final message travels with the
     * successful outcome, as Kafka's last SaslAuthenticate response. */
    rc = sasl_server_new(KB_SASL_SERVICE, KB_SASL_FQDN, srv->realm, NULL, NULL, s->callbacks,
                         SASL_SUCCESS_DATA, &s->conn);
    if (rc == SASL_OK)
        rc = kb_set_secprops(s->conn);
    if (rc != SASL_OK) {
        kb_err(errstr, errstr_size, "sasl_server_new failed: %s", sasl_errstring(rc, NULL, NULL));
        kb_sasl_session_free(s);
        return NULL;
    }
    return s;
}

void kb_sasl_session_free(kb_sasl_session *s)
{
    if (!s)
        return;
    kb_forget_password(s);
    sasl_dispose(&s->conn);
    kb_scram_free(s->scram);
    free(s->claimed);
    free(s->canonical);
    free(s->username);
    if (s->in) /* may hold a PLAIN password */
        explicit_bzero(s->in, s->in_size);
    free(s->in);
    free(s);
}

/* Kafka's PlainSaslServer rules: exactly authzid NUL authcid NUL password,
 * neither of the last two empty. libsasl2 would accept an empty password
 * field and let the lookup fail, a less helpful message. */
static int kb_check_plain(const uint8_t *in, size_t len, char *errstr, size_t errstr_size)
{
    const uint8_t *nul1 = memchr(in, 0, len);
    const uint8_t *nul2 = nul1 ? memchr(nul1 + 1, 0, len - (size_t)(nul1 + 1 - in)) : NULL;
    const uint8_t *end = in + len;

    if (!nul2 || memchr(nul2 + 1, 0, (size_t)(end - nul2 - 1))) {
        kb_err(errstr, errstr_size,
               "invalid SASL/PLAIN token: expected authzid NUL authcid NUL password");
        return -1;
    }
    if (nul2 == nul1 + 1) {
        kb_err(errstr, errstr_size, "invalid SASL/PLAIN token: user name not specified");
        return -1;
    }
    if (nul2 + 1 == end) {
        kb_err(errstr, errstr_size, "invalid SASL/PLAIN token: password not specified");
        return -1;
    }
    return 0;
}

static int kb_fail(kb_sasl_session *s)
{
    s->state = KB_FINISHED;
    return KB_SASL_FAILED;
}

/* One message for unknown users and wrong passwords alike: it reaches the
 * client, which must not learn which names exist. */
static int kb_step_failed(kb_sasl_session *s, int rc, char *errstr, size_t errstr_size)
{
    const char *who = s->claimed ? s->claimed : "(unknown)";

    switch (rc) {
    case SASL_NOAUTHZ:
        kb_err(errstr, errstr_size,
               "authentication failed for user %s: the authorization id must be empty or "
               "equal to the user name",
               who);
        break;
    case SASL_BADAUTH:
    case SASL_NOUSER:
    case SASL_NOVERIFY:
    case SASL_EXPIRED:
    case SASL_DISABLED:
    case SASL_TRANS:
        kb_err(errstr, errstr_size, "authentication failed for user %s", who);
        break;
    case SASL_BADPROT:
        kb_err(errstr, errstr_size, "invalid SASL/%s message from the client", s->mech);
        break;
    default:
        kb_err(errstr, errstr_size, "SASL/%s authentication failed: %s", s->mech,
               sasl_errstring(rc, NULL, NULL));
        break;
    }
    return kb_fail(s);
}

/* SASL_USERNAME is the canonical "user@realm"; the principal is the user
 * part. */
static int kb_step_done(kb_sasl_session *s, char *errstr, size_t errstr_size)
{
    const void *v = NULL;
    const char *name;
    size_t nlen, rlen = strlen(s->srv->realm);

    if (sasl_getprop(s->conn, SASL_USERNAME, &v) != SASL_OK || !v) {
        kb_err(errstr, errstr_size, "SASL/%s: libsasl2 gave no user name", s->mech);
        return kb_fail(s);
    }
    name = v;
    nlen = strlen(name);
    if (nlen <= rlen + 1 || name[nlen - rlen - 1] != '@' ||
        strcmp(name + nlen - rlen, s->srv->realm) != 0) {
        kb_err(errstr, errstr_size, "SASL/%s: user %s is not in realm %s", s->mech, name,
               s->srv->realm);
        return kb_fail(s);
    }
    s->username = strndup(name, nlen - rlen - 1);
    if (!s->username) {
        kb_err(errstr, errstr_size, "out of memory");
        return kb_fail(s);
    }
    s->state = KB_FINISHED;
    return KB_SASL_DONE;
}

/* libsasl2 documents its input as NUL-terminated; the token may not be. */
static int kb_copy_token(kb_sasl_session *s, const uint8_t *in, size_t len)
{
    if (s->in) {
        explicit_bzero(s->in, s->in_size);
        free(s->in);
    }
    s->in_size = len + 1;
    s->in = malloc(s->in_size);
    if (!s->in)
        return -1;
    memcpy(s->in, in, len);
    s->in[len] = '\0';
    return 0;
}

/* ---- SCRAM: kb_scram, with the password from the sasldb ---- */

/* Reads user's cleartext password from the sasldb. libsasl2 has no public
 * call that only runs a lookup; sasl_user_exists does one (through
 * kb_canon_user, so SCRAM finds users exactly as PLAIN does) and leaves
 * what it fetched in the connection's property context, where
 * sasl_auxprop_getctx reaches it. Returns 1 with *password (owned by the
 * connection until kb_forget_password), 0 when there is no such user or it
 * has no password, -1 when the lookup itself failed (errstr set). */
static int kb_lookup_password(kb_sasl_session *s, const char *user, const char **password,
                              size_t *len, char *errstr, size_t errstr_size)
{
    struct propctx *ctx;
    struct propval val;
    int rc = sasl_auxprop_request(s->conn, kb_password_prop);

    if (rc == SASL_OK)
        rc = sasl_user_exists(s->conn, NULL, s->srv->realm, user);
    /* BUFOVER: a name longer than libsasl2 takes cannot be in the sasldb. */
    if (rc == SASL_NOUSER || rc == SASL_BUFOVER)
        return 0;
    if (rc != SASL_OK) {
        kb_err(errstr, errstr_size, "SASL/%s: user lookup failed: %s", s->mech,
               sasl_errstring(rc, NULL, NULL));
        return -1;
    }
    ctx = sasl_auxprop_getctx(s->conn);
    if (!ctx || prop_getnames(ctx, kb_password_prop, &val) != 1 || !val.values ||
        !val.values[0])
        return 0;
    *password = val.values[0];
    *len = strlen(val.values[0]);
    return 1;
}

/* Unknown users and wrong proofs get kb_step_failed's uniform message;
 * why, which is for the broker's log only, goes to the detail. */
static int kb_scram_failed(kb_sasl_session *s, int rc, const char *why, char *errstr,
                           size_t errstr_size)
{
    switch (rc) {
    case KB_SCRAM_BADAUTH:
        snprintf(s->detail, sizeof s->detail, "SASL/%s: %s", s->mech, why);
        return kb_step_failed(s, SASL_BADAUTH, errstr, errstr_size);
    case KB_SCRAM_NOAUTHZ:
        return kb_step_failed(s, SASL_NOAUTHZ, errstr, errstr_size);
    default:
        snprintf(s->detail, sizeof s->detail, "%s", why);
        kb_err(errstr, errstr_size, "%s", why);
        return kb_fail(s);
    }
}

/* client-first in, server-first out; the password is wiped before return. */
static int kb_scram_first(kb_sasl_session *s, const uint8_t *in, size_t in_len,
                          const uint8_t **out, size_t *out_len, char *errstr, size_t errstr_size)
{
    char why[256] = "";
    const char *password = NULL;
    size_t password_len = 0;
    int rc = kb_scram_client_first(s->scram, in, in_len, why, sizeof why);
    int found;

    if ((rc == KB_SCRAM_OK || rc == KB_SCRAM_NOAUTHZ) &&
        !(s->claimed = strdup(kb_scram_user(s->scram)))) {
        snprintf(why, sizeof why, "out of memory");
        rc = KB_SCRAM_ERROR;
    }
    if (rc != KB_SCRAM_OK)
        return kb_scram_failed(s, rc, why, errstr, errstr_size);
    found = kb_lookup_password(s, s->claimed, &password, &password_len, errstr, errstr_size);
    if (found < 0) {
        kb_forget_password(s);
        return kb_fail(s);
    }
    kb_scram_cred cred;
    if (kb_scram_cache_get(s->srv->scram_cache, s->mech, s->claimed, found ? password : NULL,
                           password_len, &cred) != 0) {
        OPENSSL_cleanse(&cred, sizeof cred);
        kb_forget_password(s);
        kb_err(errstr, errstr_size, "SASL/%s: key derivation failed", s->mech);
        return kb_fail(s);
    }
    kb_forget_password(s);
    rc = kb_scram_server_first(s->scram, &cred, found > 0, out, out_len, why, sizeof why);
    OPENSSL_cleanse(&cred, sizeof cred);
    if (rc != KB_SCRAM_OK)
        return kb_scram_failed(s, rc, why, errstr, errstr_size);
    return KB_SASL_CONTINUE;
}

/* client-final in, server-final out with KB_SASL_DONE. */
static int kb_scram_final(kb_sasl_session *s, const uint8_t *in, size_t in_len,
                          const uint8_t **out, size_t *out_len, char *errstr, size_t errstr_size)
{
    char why[256] = "";
    int rc = kb_scram_client_final(s->scram, in, in_len, out, out_len, why, sizeof why);

    if (rc != KB_SCRAM_OK)
        return kb_scram_failed(s, rc, why, errstr, errstr_size);
    s->username = strdup(s->claimed);
    if (!s->username) {
        *out = NULL;
        *out_len = 0;
        kb_err(errstr, errstr_size, "out of memory");
        return kb_fail(s);
    }
    s->state = KB_FINISHED;
    return KB_SASL_DONE;
}

/* ---- steps ---- */

static int kb_plain_step(kb_sasl_session *s, const uint8_t *in, size_t in_len,
                         const uint8_t **out, size_t *out_len, char *errstr, size_t errstr_size)
{
    const char *o = NULL;
    unsigned olen = 0;
    int rc;

    if (s->state == KB_FRESH && kb_check_plain(in, in_len, errstr, errstr_size) != 0)
        return kb_fail(s);
    if (kb_copy_token(s, in, in_len) != 0) {
        kb_err(errstr, errstr_size, "out of memory");
        return kb_fail(s);
    }
    if (s->state == KB_FRESH) {
        s->state = KB_STARTED;
        rc = sasl_server_start(s->conn, s->mech, s->in, (unsigned)in_len, &o, &olen);
    } else {
        rc = sasl_server_step(s->conn, s->in, (unsigned)in_len, &o, &olen);
    }
    kb_forget_password(s);
    if (rc != SASL_OK && rc != SASL_CONTINUE)
        return kb_step_failed(s, rc, errstr, errstr_size);
    if (rc == SASL_OK && kb_step_done(s, errstr, errstr_size) != KB_SASL_DONE)
        return KB_SASL_FAILED;
    *out = (const uint8_t *)o;
    *out_len = o ? olen : 0;
    return rc == SASL_CONTINUE ? KB_SASL_CONTINUE : KB_SASL_DONE;
}

int kb_sasl_step(kb_sasl_session *s, const uint8_t *in, size_t in_len, const uint8_t **out,
                 size_t *out_len, char *errstr, size_t errstr_size)
{
    *out = NULL;
    *out_len = 0;
    if (s->state == KB_FINISHED) {
        kb_err(errstr, errstr_size, "SASL/%s exchange already finished", s->mech);
        return KB_SASL_FAILED;
    }
    if (in_len == 0 || !in) {
        kb_err(errstr, errstr_size, "empty SASL/%s token from the client", s->mech);
        return kb_fail(s);
    }
    if (in_len > KB_SASL_MAX_TOKEN) {
        kb_err(errstr, errstr_size, "SASL/%s token of %zu bytes is too large", s->mech, in_len);
        return kb_fail(s);
    }
    if (!s->scram)
        return kb_plain_step(s, in, in_len, out, out_len, errstr, errstr_size);
    if (s->state == KB_FRESH) {
        s->state = KB_STARTED;
        return kb_scram_first(s, in, in_len, out, out_len, errstr, errstr_size);
    }
    return kb_scram_final(s, in, in_len, out, out_len, errstr, errstr_size);
}

const char *kb_sasl_username(const kb_sasl_session *s)
{
    return s->username;
}

const char *kb_sasl_detail(const kb_sasl_session *s)
{
    return s->detail;
}
