/*
 * Fuzz target for the CLI's SCRAM client (cli/kc_scram.c): what a broker
 * sends back, the server-first-message and the server-final-message.
 *
 * Input: byte 0 picks the mechanism (bit 0: SHA-512, else SHA-256) and
 * whether the client's own nonce is put in front of the rest (bit 1), so
 * that inputs can reach past the nonce check; then the server-first text,
 * a NUL, and the server-final text.
 *
 * Checks: kc_scram_final answers 0 or -1; -1 always comes with a message;
 * 0 only when the server's nonce extends the client's and the iteration
 * count is within 4096..16384, and the client-final is "c=biws,r=<that
 * nonce>,p=<base64>"; kc_scram_verify then answers 0 only for a "v=" of
 * the right length (it cannot be right by chance: the keys come from a
 * password the input does not know), and no message holds the password
 * unless the input put it there.
 */
#include "fuzz_target.h"
#include "kc_scram.h"

#include <stdbool.h>
#include <string.h>

#define PASSWORD "fuzz-password-not-in-any-message"

/* Set per input: a server may echo anything it sent, the password too if
 * the input holds it, so only then is its presence not the client's. */
static bool echoed;

static void no_password(const char *text)
{
    FUZZ_CHECK(echoed || !strstr(text, PASSWORD), "the password is in \"%s\"", text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    echoed = memmem(data, size, PASSWORD, strlen(PASSWORD)) != NULL;
    const char *mech = (data[0] & 1) ? "SCRAM-SHA-512" : "SCRAM-SHA-256";
    bool own_nonce = data[0] & 2;
    const char *rest = (const char *)data + 1;
    size_t rest_len = size - 1;
    const char *nul = memchr(rest, '\0', rest_len);
    size_t first_len = nul ? (size_t)(nul - rest) : rest_len;

    kc_scram *s = kc_scram_new(mech, "fuzz,user=", PASSWORD, strlen(PASSWORD), NULL);
    FUZZ_CHECK(s != NULL, "no session");
    char err[256] = "";
    const char *out;
    size_t out_len;
    FUZZ_CHECK(kc_scram_first(s, &out, &out_len, err, sizeof err) == 0, "%s", err);
    FUZZ_CHECK(strncmp(out, "n,,n=fuzz=2Cuser=3D,r=", 22) == 0, "client-first %s", out);
    char nonce[64];
    size_t nonce_len = out_len - 22;
    FUZZ_CHECK(nonce_len < sizeof nonce, "nonce of %zu bytes", nonce_len);
    memcpy(nonce, out + 22, nonce_len);

    size_t msg_len = (own_nonce ? 2 + nonce_len : 0) + first_len;
    char *msg = fuzz_alloc(msg_len + 1);
    size_t at = 0;
    if (own_nonce) {
        memcpy(msg, "r=", 2);
        memcpy(msg + 2, nonce, nonce_len);
        at = 2 + nonce_len;
    }
    memcpy(msg + at, rest, first_len);
    msg[msg_len] = '\0';

    err[0] = '\0';
    int rc = kc_scram_final(s, msg, msg_len, &out, &out_len, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == -1, "kc_scram_final answered %d", rc);
    if (rc == -1) {
        FUZZ_CHECK(err[0] != '\0', "a refusal without a message");
        no_password(err);
    } else {
        FUZZ_CHECK(msg_len > 2 + nonce_len && memcmp(msg + 2, nonce, nonce_len) == 0,
                   "accepted a server nonce that does not extend the client's");
        const char *i = strstr(msg, ",i=");
        FUZZ_CHECK(i != NULL, "accepted without an iteration count");
        long n = strtol(i + 3, NULL, 10);
        FUZZ_CHECK(n >= KC_SCRAM_MIN_ITERATIONS && n <= KC_SCRAM_MAX_ITERATIONS, "accepted %ld iterations", n);
        FUZZ_CHECK(strncmp(out, "c=biws,r=", 9) == 0 && strstr(out, ",p=") != NULL, "client-final %s", out);
        FUZZ_CHECK(strlen(out) == out_len, "client-final length");
        no_password(out);
        if (nul) {
            const char *fin = nul + 1;
            size_t fin_len = rest_len - first_len - 1;
            err[0] = '\0';
            rc = kc_scram_verify(s, fin, fin_len, err, sizeof err);
            FUZZ_CHECK(rc == -1, "a server signature from an input that cannot know the keys");
            FUZZ_CHECK(err[0] != '\0', "a refusal without a message");
            no_password(err);
        }
    }
    free(msg);
    kc_scram_free(s);
    return 0;
}
