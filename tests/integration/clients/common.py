"""Shared by the Python client scripts: read the JSON settings, report on
stdout, stay connected until stdin closes or the idle time runs out."""

import json
import select
import sys


def settings():
    if len(sys.argv) != 2:
        print("usage: %s SETTINGS_JSON" % sys.argv[0], file=sys.stderr)
        sys.exit(2)
    return json.loads(sys.argv[1])


def report(**fields):
    print(json.dumps(fields), flush=True)


def stay_connected(s):
    """Returns when stdin reaches EOF (the test is done or died) or after
    idle_s seconds, whichever comes first; the caller's client objects stay
    alive, and their connections open, until then."""
    if s.get("idle_s", 0) > 0:
        select.select([sys.stdin], [], [], s["idle_s"])
