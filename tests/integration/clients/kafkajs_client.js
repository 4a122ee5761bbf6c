// kafkajs 2.2.4: admin.connect() + describeCluster(), then stays connected.
// With poll_ms it repeats describeCluster every poll_ms (so that kafkajs
// re-authenticates when the session lifetime asks for it, KIP-368) and
// prints one line per answer.
//
// Usage: node kafkajs_client.js SETTINGS_JSON (fields as in common.py).
// Prints {"brokers": [[id, host, port], ...], "controller": id}.
'use strict'
const fs = require('fs')
const { Kafka, logLevel } = require('kafkajs')

function config(s) {
  const c = {
    clientId: s.client_id,
    brokers: s.bootstrap.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 10000,
    retry: { retries: 2 },
  }
  if (s.reauth_threshold_ms !== undefined) c.reauthenticationThreshold = s.reauth_threshold_ms
  if (s.security_protocol === 'SSL' || s.security_protocol === 'SASL_SSL') {
    c.ssl = { ca: [fs.readFileSync(s.cafile)], rejectUnauthorized: true }
    if (s.certfile) c.ssl.cert = c.ssl.key = fs.readFileSync(s.certfile)
  }
  if (s.security_protocol.startsWith('SASL_')) {
    c.sasl = { mechanism: s.mechanism.toLowerCase(), username: s.username, password: s.password }
  }
  return c
}

function report(cluster) {
  const brokers = cluster.brokers.map((b) => [b.nodeId, b.host, b.port])
  brokers.sort((a, b) => a[0] - b[0])
  console.log(JSON.stringify({ brokers, controller: cluster.controller }))
}

async function main() {
  if (process.argv.length !== 3) {
    console.error('usage: kafkajs_client.js SETTINGS_JSON')
    process.exit(2)
  }
  const s = JSON.parse(process.argv[2])
  const admin = new Kafka(config(s)).admin()
  await admin.connect()
  report(await admin.describeCluster())
  // Stay connected until stdin closes or idle_s runs out.
  const done = new Promise((resolve) => {
    process.stdin.on('end', resolve).on('close', resolve).resume()
    setTimeout(resolve, (s.idle_s || 0) * 1000)
  })
  let polling = s.poll_ms > 0
  const poll = async () => {
    while (polling) {
      await new Promise((r) => setTimeout(r, s.poll_ms))
      if (polling) report(await admin.describeCluster())
    }
  }
  const poller = poll()
  await done
  polling = false
  await poller
  await admin.disconnect()
  process.exit(0)
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e))
  process.exit(1)
})
