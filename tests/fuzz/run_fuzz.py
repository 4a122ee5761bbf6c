#!/usr/bin/env python3
"""Runs one libFuzzer target on a scratch copy of its seed corpus.

Usage: run_fuzz.py FUZZER SEED_DIR WORK_DIR [-- LIBFUZZER_FLAGS...]

WORK_DIR is emptied and gets corpus/ (the seeds plus whatever the run finds)
and artifacts/ (reproducers of crashes, leaks and timeouts), so the source
tree is never written to. The exit status is 0 when the run ended without
a finding and 1 otherwise: libFuzzer's own status for a finding is 77,
which meson would count as a skipped test.
"""
import os
import shutil
import subprocess
import sys


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    fuzzer, seeds, work = argv[1:4]
    flags = argv[5:] if len(argv) > 4 and argv[4] == "--" else argv[4:]

    corpus = os.path.join(work, "corpus")
    artifacts = os.path.join(work, "artifacts")
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(seeds, corpus)
    os.makedirs(artifacts)

    env = dict(os.environ)
    # UBSan only reports and goes on by default; a report must be a finding.
    env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    cmd = [fuzzer, "-artifact_prefix=" + artifacts + os.sep, "-print_final_stats=1"]
    cmd += flags + [corpus]
    print("run_fuzz:", " ".join(cmd), flush=True)
    rc = subprocess.call(cmd, env=env)
    found = sorted(os.listdir(artifacts))
    for name in found:
        print("run_fuzz: reproducer", os.path.join(artifacts, name))
    return 0 if rc == 0 and not found else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
