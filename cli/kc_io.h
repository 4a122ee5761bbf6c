/*
 * kc_io.h: outcome of one non-blocking step on a broker connection, shared
 * by the plain socket and the TLS layer.
 */
#ifndef KC_IO_H
#define KC_IO_H

enum kc_io {
    KC_IO_DONE = 0,       /* the step completed (bytes moved, handshake done) */
    KC_IO_WANT_READ = 1,  /* retry once the socket is readable */
    KC_IO_WANT_WRITE = 2, /* retry once the socket is writable */
    KC_IO_EOF = 3,        /* the broker closed the connection */
    KC_IO_ERROR = -1,     /* failed; the message says why */
    KC_IO_VERIFY = -2     /* TLS: the broker's certificate did not verify */
};

#endif
