#!/bin/sh
# Formats each manual page with every groff warning enabled and fails on any
# output: groff exits 0 after a warning, so its exit status proves nothing.
# usage: check-man.sh GROFF PAGE...
# An empty GROFF means groff is not installed (Debian package groff-base):
# the check reports itself skipped (exit 77).
groff=$1
shift
if [ -z "$groff" ]; then
    echo "groff not found (Debian package groff-base): skipped"
    exit 77
fi
status=0
for page in "$@"; do
    out=$("$groff" -man -Tutf8 -ww -z "$page" 2>&1)
    rc=$?
    if [ $rc -ne 0 ] || [ -n "$out" ]; then
        printf '%s\n' "$out"
        echo "$page: groff exit status $rc, $(printf '%s\n' "$out" | grep -c .) line(s) of warnings"
        status=1
    fi
done
exit $status
