"""Reader for the hand-written hex vectors in vectors/ (format in vectors/README)."""

import os
import re

_BYTE = re.compile(r"[0-9a-fA-F]{2}")


def parse(text, where="<text>"):
    """Returns the bytes of hex text: two-digit bytes, whitespace, '#' comments."""
    out = bytearray()
    for lineno, line in enumerate(text.splitlines(), 1):
        for token in line.split("#", 1)[0].split():
            # One byte per token, as the C reader insists: a stray digit must
            # not silently shift every byte after it.
            if not _BYTE.fullmatch(token):
                raise ValueError("%s:%d: %r is not one hex byte" % (where, lineno, token))
            out += bytes.fromhex(token)
    return bytes(out)


def load(vectors_dir, name):
    """Returns the bytes of vectors_dir/name."""
    path = os.path.join(vectors_dir, name)
    with open(path, encoding="ascii") as f:
        return parse(f.read(), path)


class Checks:
    """Runs named checks, keeps going after a failure and prints a summary."""

    def __init__(self, prog):
        self.prog = prog
        self.passed = 0
        self.failed = 0

    def run(self, name, fn, *args):
        try:
            fn(*args)
        except Exception as e:  # any failure of one check is reported, not fatal
            self.failed += 1
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
        else:
            self.passed += 1
            print("ok   %s" % name)

    def finish(self):
        print("%s: %d passed, %d failed" % (self.prog, self.passed, self.failed))
        return 1 if self.failed or not self.passed else 0


def expect(got, want, what):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))
