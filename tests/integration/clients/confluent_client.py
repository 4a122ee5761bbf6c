#!/usr/bin/python3
"""confluent-kafka-python (librdkafka): AdminClient.list_topics(), then
stays connected.

Usage: confluent_client.py SETTINGS_JSON; see common.py. Prints one JSON
line: {"brokers": [[id, host, port], ...], "topics": [...]}."""

import sys

# Run from the source tree: leave no __pycache__ behind in it.
sys.dont_write_bytecode = True
from common import report, settings, stay_connected  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402


def config(s):
    c = {"bootstrap.servers": s["bootstrap"], "client.id": s["client_id"],
         "security.protocol": s["security_protocol"]}
    if s["security_protocol"].startswith("SASL_"):
        c.update({"sasl.mechanisms": s["mechanism"], "sasl.username": s["username"],
                  "sasl.password": s["password"]})
    if s["security_protocol"] in ("SSL", "SASL_SSL"):
        c["ssl.ca.location"] = s["cafile"]
        if s.get("certfile"):
            c.update({"ssl.certificate.location": s["certfile"], "ssl.key.location": s["certfile"]})
    return c


def main():
    s = settings()
    admin = AdminClient(config(s))
    md = admin.list_topics(timeout=15)
    report(brokers=sorted([b.id, b.host, b.port] for b in md.brokers.values()),
           controller=md.controller_id, topics=sorted(md.topics))
    stay_connected(s)


if __name__ == "__main__":
    main()
