#!/usr/bin/python3
"""The bash completion file, through real bash and readline on a pty.

Usage: test_completion.py COMPLETION_FILE

Each case types a command line, presses TAB, then a key bound to print
readline's line: what TAB made of the line is what is checked, so
readline's own handling of '=' and ':' (it replaces only what follows
them) is part of the test. Every case runs twice: with bash-completion's
helpers loaded (as on a system with the bash-completion package) and with
the file alone.
"""

import os
import pty
import re
import select
import shutil
import signal
import sys
import tempfile
import time
import unittest

BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"
COMPLETION_FILE = None
READ_TIMEOUT_S = 5
MARK = "@@"


class Shell:
    """An interactive bash on a pty, with the completion file loaded."""

    def __init__(self, helpers):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            env = {"PATH": "/usr/bin:/bin", "HOME": tempfile.gettempdir(), "TERM": "dumb",
                   "PS1": "$ ", "INPUTRC": "/dev/null", "LANG": "C.UTF-8"}
            os.execve("/bin/bash", ["bash", "--norc", "--noprofile", "-i"], env)
        setup = []
        if helpers:
            setup.append("source %s" % BASH_COMPLETION)
        setup += ["source %s" % COMPLETION_FILE,
                  "bind 'set show-all-if-ambiguous on'",
                  "bind 'set completion-query-items 0'",
                  "bind 'set page-completions off'",
                  # C-g prints the line as readline holds it.
                  "bind -x '\"\\C-g\": printf \"%s<%%s>\\n\" \"$READLINE_LINE\"'" % MARK,
                  "echo ready-$((6*7))"]
        self.write("; ".join(setup) + "\n")
        self.read_until("ready-42")

    def write(self, text):
        os.write(self.fd, text.encode())

    def read_until(self, pattern):
        out, deadline = b"", time.monotonic() + READ_TIMEOUT_S
        while time.monotonic() < deadline:
            text = out.decode("utf-8", "replace")
            m = re.search(pattern, text)
            if m:
                return text, m
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                try:
                    out += os.read(self.fd, 65536)
                except OSError:
                    break
        raise AssertionError("bash did not print %r; it printed %r" % (pattern, out))

    def complete(self, line):
        """(the line after TAB, what was printed before it, e.g. a list)."""
        self.write(line + "\t\x07")
        text, m = self.read_until(re.escape(MARK) + "<(.*?)>\r?\n")
        self.write("\x15")  # C-u: an empty line for the next case
        return m.group(1), text[:m.start()]

    def close(self):
        try:
            self.write("exit\n")
        except OSError:
            pass
        deadline = time.monotonic() + READ_TIMEOUT_S
        while time.monotonic() < deadline:
            if os.waitpid(self.pid, os.WNOHANG)[0]:
                break
            time.sleep(0.05)
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


class Completion:
    helpers = None

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="kc-completion-")
        for name in ("admin.properties", "ca.pem"):
            open(os.path.join(cls.dir, name), "w").close()
        cls.shell = Shell(cls.helpers)

    @classmethod
    def tearDownClass(cls):
        cls.shell.close()
        shutil.rmtree(cls.dir)

    def becomes(self, typed, want):
        got, _ = self.shell.complete("kafka-connections " + typed)
        self.assertEqual(got, "kafka-connections " + want, "after TAB on %r" % typed)

    def offers(self, typed, *choices):
        got, listed = self.shell.complete("kafka-connections " + typed)
        words = set(listed.split())
        for c in choices:
            self.assertIn(c, words, "TAB on %r listed %r" % (typed, listed))
        self.assertEqual(got, "kafka-connections " + typed)

    def test_options(self):
        self.becomes("--outp", "--output ")
        self.becomes("--bootstrap-s", "--bootstrap-server ")
        self.offers("--c", "--command-config", "--columns", "--client-id")

    def test_values_after_a_space(self):
        self.becomes("--output j", "--output json ")
        self.becomes("--group-by client-s", "--group-by client-software ")
        self.becomes("--state c", "--state closed ")

    def test_values_after_an_equals_sign(self):
        self.becomes("--output=j", "--output=json ")
        self.becomes("--group-by=client-a", "--group-by=client-address ")
        self.offers("--state=", "open", "closed", "all")

    def test_sort_field_then_direction(self):
        self.becomes("--sort idle_m", "--sort idle_ms ")
        self.becomes("--sort idle_ms:d", "--sort idle_ms:desc ")
        self.becomes("--sort=idle_ms:a", "--sort=idle_ms:asc ")
        self.offers("--sort idle_ms:", "asc", "desc")

    def test_columns_go_on_after_a_comma(self):
        self.becomes("--columns principal,client_i", "--columns principal,client_id")
        self.becomes("--columns=principal,client_i", "--columns=principal,client_id")

    def test_properties(self):
        self.becomes("-X security.proto", "-X security.protocol=")
        self.becomes("-X security.protocol=SASL_S", "-X security.protocol=SASL_SSL ")
        self.becomes("-X sasl.mechanism=SCRAM-SHA-5", "-X sasl.mechanism=SCRAM-SHA-512 ")
        self.offers("-X sasl.mechanism=SCRAM-SHA-", "SCRAM-SHA-256", "SCRAM-SHA-512")

    def test_files(self):
        self.becomes("--command-config %s/adm" % self.dir,
                     "--command-config %s/admin.properties " % self.dir)
        self.becomes("-X ssl.ca.location=%s/c" % self.dir, "-X ssl.ca.location=%s/ca.pem " % self.dir)

    def test_nothing_for_values_only_the_operator_knows(self):
        self.becomes("--bootstrap-server %s/a" % self.dir, "--bootstrap-server %s/a" % self.dir)
        self.becomes("--principal User:a", "--principal User:a")


class WithBashCompletion(Completion, unittest.TestCase):
    helpers = True

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(BASH_COMPLETION):
            raise AssertionError("%s is missing: install Debian's bash-completion "
                                 "(scripts/install-deps does)" % BASH_COMPLETION)
        super().setUpClass()


class WithoutBashCompletion(Completion, unittest.TestCase):
    helpers = False


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    COMPLETION_FILE = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
