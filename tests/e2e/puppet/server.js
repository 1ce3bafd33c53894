// A Wechaty puppet service on loopback around a scripted PuppetMock, for gridbot's e2e tests.
//
//   node server.js --port 38001 --token e2e-token      (or PUPPET_PORT / PUPPET_TOKEN)
//
// stdin:  one JSON command a line, e.g.
//   {"op":"say","from":"wxid_zhang","text":"...","mentions":["wxid_bot"],"room":"20001@chatroom","ref":1}
//   {"op":"image","from":"wxid_zhang","room":"20001@chatroom","ref":2}
//   {"op":"join","members":["wxid_li"],"by":"wxid_xiaowang","room":"20001@chatroom"}
//   {"op":"leave","members":["wxid_li"],"by":"wxid_xiaowang","room":"20001@chatroom"}
// stdout: one JSON event a line: ready, done (with the new message id for say/image), bot_said, error.
import readline from 'node:readline'
import { parseArgs } from 'node:util'

import { FileBox } from 'file-box'
import * as PUPPET from 'wechaty-puppet'
import { PuppetMock, mock } from 'wechaty-puppet-mock'
import { PuppetServer } from 'wechaty-puppet-service'

import { durable } from '../../../gateway/durable.js'

const { values: args } = parseArgs({
  options: { port: { type: 'string' }, token: { type: 'string' }, journal: { type: 'string' } },
})
const port = Number(args.port ?? process.env.PUPPET_PORT)
const token = args.token ?? process.env.PUPPET_TOKEN
if (!port || !token) {
  process.stderr.write('usage: node server.js --port PORT --token TOKEN\n')
  process.exit(2)
}
PUPPET.log.level('warn') // brolog writes to stderr; stdout carries only JSON events

const emit = (event) => process.stdout.write(JSON.stringify(event) + '\n')

const BOT = { id: 'wxid_bot', name: '网格助手' }
const ROOM = { id: '20001@chatroom', topic: '幸福里3号网格群' }
const ROOM2 = { id: '20002@chatroom', topic: '幸福里3号网格二群' } // a second group of the same grid
const PEOPLE = [
  { id: 'wxid_zhang', name: '张阿姨', inRoom: true },
  { id: 'wxid_liu', name: '刘师傅', inRoom: true },
  { id: 'wxid_xiaowang', name: '小王', inRoom: true },
  { id: 'wxid_leader', name: '陈组长', inRoom: true },
  { id: 'wxid_li', name: '李大爷', inRoom: false },
]
// A 1x1 PNG: what a resident's photo looks like to the transport.
const PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='

const mocker = new mock.Mocker()

// Build and deliver one message as `talker`; return its id (the mock's own say() returns nothing).
function deliver (talker, conversationId, something, mentionIdList = []) {
  const id = `msg-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`
  const payload = { id, talkerId: talker.id, timestamp: Date.now(), type: PUPPET.types.Message.Text }
  if (FileBox.valid(something)) {
    mocker.cacheFileBoxPayload.set(id, something.toJSON())
    payload.type = PUPPET.types.Message.Image
  } else {
    payload.text = something
  }
  if (conversationId.includes('@')) {
    Object.assign(payload, { roomId: conversationId, mentionIdList })
  } else {
    payload.listenerId = conversationId
  }
  mocker.MessageMock.create(payload)
  mocker.puppet.emit('message', { messageId: id })
  if (talker.id === BOT.id) {
    emit({ event: 'bot_said', id, room: payload.roomId ?? null, to: payload.listenerId ?? null, text: payload.text ?? null, mentions: mentionIdList })
  }
  return id
}

// The two gaps of PuppetMock 1.19 that python-wechaty trips over.
class GridPuppetMock extends PuppetMock {
  async messageSendText (conversationId, text, mentionIdList = []) {
    if (!this.isLoggedIn) throw new Error('not logged in')
    return deliver(mocker.ContactMock.load(this.currentUserId), conversationId, text, mentionIdList ?? [])
  }

  async messageImage (messageId, _imageType) {
    return this.messageFile(messageId)
  }
}

const bot = mocker.createContact({ ...BOT, friend: false })
const people = Object.fromEntries(PEOPLE.map(p => [p.id, mocker.createContact({ id: p.id, name: p.name })]))
const members = [BOT.id, ...PEOPLE.filter(p => p.inRoom).map(p => p.id)]
const room = mocker.createRoom({ id: ROOM.id, topic: ROOM.topic, memberIdList: members })
const room2 = mocker.createRoom({ id: ROOM2.id, topic: ROOM2.topic, memberIdList: members })
// Every time a client (re)starts the puppet, the bot is logged in again.
mocker.use(m => { m.login(bot); return () => {} })

const puppet = new GridPuppetMock({ mocker })
// The gateway's durable delivery (gateway/durable.js) when a journal is given: messages said while
// the bot is away reach it when it logs in again.
const journal = args.journal ?? process.env.PUPPET_JOURNAL
if (journal) durable(puppet, { journal, replayDelayMs: 500, ackGraceMs: 0 }) // gridbot acknowledges
const server = new PuppetServer({ endpoint: `127.0.0.1:${port}`, puppet, token, tls: { disable: true } })

const contact = id => {
  if (id === BOT.id) return bot
  const c = people[id]
  if (!c) throw new Error(`unknown contact ${id}`)
  return c
}
const roomOf = id => {
  if (id === ROOM.id) return room
  if (id === ROOM2.id) return room2
  throw new Error(`unknown room ${id}`)
}

const handlers = {
  say: cmd => ({ id: deliver(contact(cmd.from), cmd.room ?? BOT.id, cmd.text, cmd.mentions ?? []) }),
  image: cmd => ({ id: deliver(contact(cmd.from), cmd.room ?? BOT.id, FileBox.fromBase64(PNG_BASE64, cmd.name ?? 'photo.png')) }),
  join: cmd => { roomOf(cmd.room).add(...cmd.members.map(contact)).by(contact(cmd.by)); return {} },
  leave: cmd => { roomOf(cmd.room).remove(...cmd.members.map(contact)).by(contact(cmd.by)); return {} },
}

async function main () {
  await server.start()
  const lines = readline.createInterface({ input: process.stdin })
  lines.on('line', line => {
    if (!line.trim()) return
    let cmd
    try {
      cmd = JSON.parse(line)
      const handler = handlers[cmd.op]
      if (!handler) throw new Error(`unknown op ${cmd.op}`)
      emit({ event: 'done', op: cmd.op, ref: cmd.ref ?? null, ...handler(cmd) })
    } catch (e) {
      emit({ event: 'error', ref: cmd?.ref ?? null, message: String(e?.message ?? e) })
    }
  })
  lines.on('close', () => shutdown(0))
  emit({ event: 'ready', port, bot: BOT, room: ROOM, room2: ROOM2, contacts: Object.fromEntries(PEOPLE.map(p => [p.id, p.name])) })
}

async function shutdown (code) {
  await server.stop().catch(() => {})
  process.exit(code)
}
process.on('SIGTERM', () => shutdown(0))
process.on('SIGINT', () => shutdown(0))

main().catch(e => {
  process.stderr.write(`puppet server failed: ${e?.stack ?? e}\n`)
  process.exit(1)
})
