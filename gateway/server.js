// The gateway gridbot ships: loads the puppet named by WECHATY_PUPPET (an npm package installed in this
// image), wraps it with durable delivery (durable.js) and serves it to gridbot's python-wechaty client as
// a puppet service on a private network.
//
//   WECHATY_PUPPET                 npm package of the puppet (default wechaty-puppet-service: a
//                                  token-based provider such as WorkPro; set WECHATY_PUPPET_SERVICE_TOKEN)
//   WECHATY_TOKEN                  the token gridbot presents (GRIDBOT_WECHATY__TOKEN); required
//   WECHATY_PUPPET_SERVER_PORT     default 8788; plain gRPC (python-wechaty has no TLS client):
//                                  publish no port, keep it on the compose network
//   GATEWAY_JOURNAL                where undelivered message events wait (keep it on a volume);
//                                  default .wechaty/gateway-journal.jsonl
//
// Messages said while the bot is away (restart, reconnect) are journalled and replayed when it logs in
// again; gridbot acknowledges each once stored. The login QR code (puppets that need one) is printed
// here as a link and a terminal QR code; gridbot prints and records it too (gridbot status, /readyz).
import process from 'node:process'

import qrcodeTerminal from 'qrcode-terminal'
import { PuppetServer } from 'wechaty-puppet-service'

import { durable } from './durable.js'

const puppetName = process.env.WECHATY_PUPPET || 'wechaty-puppet-service'
const token = process.env.WECHATY_TOKEN
const port = Number(process.env.WECHATY_PUPPET_SERVER_PORT || 8788)
const journal = process.env.GATEWAY_JOURNAL || '.wechaty/gateway-journal.jsonl'
if (!token) {
  console.error('gateway: WECHATY_TOKEN is empty: set it (the same value as GRIDBOT_WECHATY__TOKEN)')
  process.exit(2)
}

let Puppet
try {
  const mod = await import(puppetName)
  Puppet = mod.default ?? Object.values(mod).find(v => typeof v === 'function' && /^Puppet/.test(v.name))
} catch (err) {
  console.error(`gateway: puppet package ${puppetName} is not installed in this image: ` +
    `rebuild with --build-arg PUPPET_PACKAGES="${puppetName}" (${err.message})`)
  process.exit(2)
}
if (typeof Puppet !== 'function') {
  console.error(`gateway: ${puppetName} exports no puppet class`)
  process.exit(2)
}

const puppet = new Puppet() // each puppet reads its own settings (tokens) from its environment variables
durable(puppet, { journal, log: (m) => console.error(`gateway: ${m}`) })
puppet.on('scan', ({ qrcode, status }) => {
  if (!qrcode) return
  console.log(`gateway: scan with the bot's WeChat (status ${status}): https://wechaty.js.org/qrcode/${encodeURIComponent(qrcode)}`)
  qrcodeTerminal.generate(qrcode, { small: true })
})
puppet.on('login', ({ contactId }) => console.log(`gateway: logged in as ${contactId}`))
puppet.on('logout', ({ contactId, data }) => console.log(`gateway: ${contactId} logged out (${data ?? 'no reason given'})`))
puppet.on('error', ({ data }) => console.error(`gateway: puppet error: ${data}`))

const server = new PuppetServer({ endpoint: `0.0.0.0:${port}`, puppet, token, tls: { disable: true } })
await server.start()
console.log(`gateway: ${puppetName} served on port ${port}, journal ${journal}`)

const stop = async (signal) => {
  console.log(`gateway: ${signal}: stopping`)
  await server.stop().catch(() => {})
  process.exit(0)
}
process.on('SIGTERM', () => stop('SIGTERM'))
process.on('SIGINT', () => stop('SIGINT'))
