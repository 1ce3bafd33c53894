// The gateway gridbot ships: a Wechaty puppet service in front of a real puppet, with durable delivery.
//
//   WECHATY_PUPPET=wechaty-puppet-padlocal WECHATY_PUPPET_PADLOCAL_TOKEN=… \
//   GATEWAY_TOKEN=… GATEWAY_PORT=8788 GATEWAY_JOURNAL=/data/gateway-journal.jsonl node server.js
//
// The bot connects with GRIDBOT_WECHATY__ENDPOINT=<host>:8788 and GRIDBOT_WECHATY__TOKEN=$GATEWAY_TOKEN.
// Messages said while the bot is away are replayed when it logs in again (durable.js).
import { PuppetServer } from 'wechaty-puppet-service'
import { PuppetManager } from 'wechaty'

import { durable } from './durable.js'

const port = Number(process.env.GATEWAY_PORT ?? 8788)
const token = process.env.GATEWAY_TOKEN
const journal = process.env.GATEWAY_JOURNAL ?? 'gateway-journal.jsonl'
if (!token) {
  process.stderr.write('GATEWAY_TOKEN is not set: choose a token and give the bot the same one\n')
  process.exit(2)
}

const puppet = await PuppetManager.resolveInstance({ puppet: process.env.WECHATY_PUPPET ?? 'wechaty-puppet-mock' })
durable(puppet, { journal, log: (m) => process.stderr.write(`gateway: ${m}\n`) })
const server = new PuppetServer({ endpoint: `0.0.0.0:${port}`, puppet, token, tls: { disable: true } })
await server.start()
process.stderr.write(`gateway: serving ${process.env.WECHATY_PUPPET ?? 'wechaty-puppet-mock'} on port ${port}\n`)
const stop = async () => { await server.stop().catch(() => {}); process.exit(0) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
