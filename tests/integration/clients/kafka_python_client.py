#!/usr/bin/python3
"""kafka-python 2.0.2: KafkaAdminClient.describe_cluster() and a
KafkaConsumer bootstrap (topics()), then stays connected.

Usage: kafka_python_client.py SETTINGS_JSON; see common.py. Prints one JSON
line: {"brokers": [[id, host, port], ...], "topics": [...]}."""

import sys

# Run from the source tree: leave no __pycache__ behind in it.
sys.dont_write_bytecode = True
from common import report, settings, stay_connected  # noqa: E402
from kafka import KafkaAdminClient, KafkaConsumer  # noqa: E402


def config(s):
    c = {"bootstrap_servers": s["bootstrap"].split(","), "client_id": s["client_id"],
         "security_protocol": s["security_protocol"], "request_timeout_ms": 15000}
    if s["security_protocol"].startswith("SASL_"):
        c.update(sasl_mechanism=s["mechanism"], sasl_plain_username=s["username"],
                 sasl_plain_password=s["password"])
    if s["security_protocol"] in ("SSL", "SASL_SSL"):
        c.update(ssl_cafile=s["cafile"], ssl_check_hostname=True)
        if s.get("certfile"):
            c.update(ssl_certfile=s["certfile"], ssl_keyfile=s["certfile"])
    return c


def main():
    s = settings()
    admin = KafkaAdminClient(**config(s))
    cluster = admin.describe_cluster()
    consumer = KafkaConsumer(**config(s))
    topics = consumer.topics()
    report(brokers=sorted([b["node_id"], b["host"], b["port"]] for b in cluster["brokers"]),
           controller=cluster["controller_id"], topics=sorted(topics))
    stay_connected(s)
    consumer.close()
    admin.close()


if __name__ == "__main__":
    main()
