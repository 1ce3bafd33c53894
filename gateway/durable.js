// Durable delivery for a Wechaty puppet service: message events wait on disk until the bot took them.
//
// A puppet service streams events to whoever is connected; a bot that is restarting or reconnecting
// misses what was said meanwhile, and most puppets cannot replay history. `durable(puppet, options)`
// wraps any puppet (the real one in the gateway, the mock in gridbot's e2e tests):
//   * every `message` event is appended to a JSONL journal (fsync'd) before the stream sees it;
//   * the bot acknowledges a message once it has stored it, by marking the message payload dirty
//     (the puppet-service `DirtyPayload` RPC, type MESSAGE, which every client can call); a client
//     that never acknowledges (not gridbot) is taken to have a message `ackGraceMs` after it
//     fetched its payload without its connection being restarted;
//   * each time a client logs in (a new connection or a restarted bot), every message not yet
//     acknowledged is emitted again, in arrival order.
// Repeats are harmless: gridbot stores messages under a UNIQUE platform id. The journal is compacted
// on start; a gateway restart keeps what was pending (the wrapped puppet must still serve those ids).
import fs from 'node:fs'

export function durable (puppet, { journal, replayDelayMs = 1000, ackGraceMs = 30000, log = () => {} }) {
  const pending = new Map() // message id -> { at, fetchedAt }
  if (fs.existsSync(journal)) {
    for (const line of fs.readFileSync(journal, 'utf8').split('\n')) {
      if (!line.trim()) continue
      try {
        const rec = JSON.parse(line)
        if (rec.ack) pending.delete(rec.ack)
        else if (rec.id) pending.set(rec.id, { at: rec.at, fetchedAt: null })
      } catch { /* a torn last line after a crash: skip it */ }
    }
  }
  // compact: rewrite only what is still pending
  const tmp = `${journal}.tmp`
  fs.writeFileSync(tmp, [...pending].map(([id, p]) => JSON.stringify({ id, at: p.at }) + '\n').join(''))
  fs.renameSync(tmp, journal)
  const fd = fs.openSync(journal, 'a')
  const write = (rec) => { fs.writeSync(fd, JSON.stringify(rec) + '\n'); fs.fsyncSync(fd) }

  puppet.on('message', ({ messageId }) => {
    if (pending.has(messageId)) return // our own replay
    pending.set(messageId, { at: Date.now(), fetchedAt: null })
    write({ id: messageId, at: Date.now() })
  })

  const fetch = puppet.messagePayload.bind(puppet)
  puppet.messagePayload = async (id) => {
    const payload = await fetch(id)
    const p = pending.get(id)
    if (p && p.fetchedAt === null) p.fetchedAt = Date.now()
    return payload
  }

  const dirty = puppet.dirtyPayload.bind(puppet)
  puppet.dirtyPayload = async (type, id) => {
    if (pending.has(id)) { // gridbot's acknowledgement: stored, do not deliver again
      pending.delete(id)
      write({ ack: id })
      return
    }
    return dirty(type, id)
  }

  const settle = () => { // fetched long enough ago by a connection still alive: acknowledged
    const now = Date.now()
    for (const [id, p] of pending) {
      if (ackGraceMs > 0 && p.fetchedAt !== null && now - p.fetchedAt >= ackGraceMs) {
        pending.delete(id)
        write({ ack: id })
      }
    }
  }
  const timer = setInterval(settle, Math.max(100, Math.min(ackGraceMs || 1000, 1000)))
  timer.unref()

  puppet.on('login', () => {
    // a client (re)started: what it fetched before may not have been stored; send everything again
    for (const p of pending.values()) p.fetchedAt = null
    setTimeout(() => {
      const ids = [...pending.keys()]
      if (ids.length) log(`replaying ${ids.length} undelivered message(s)`)
      for (const messageId of ids) puppet.emit('message', { messageId })
    }, replayDelayMs).unref()
  })

  return {
    pending: () => pending.size,
    close: () => { clearInterval(timer); fs.closeSync(fd) },
  }
}
