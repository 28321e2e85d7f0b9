'use strict';
// tq-serve.js: write a tq served handler in Node.js (no dependencies).
//
//   const { serve } = require('./tq-serve');
//   serve(async (task) => task.payload.toString().toUpperCase());
//
// The worker starts the program once and hands it one task at a time
// (protocol version 1, docs/serve-protocol.md): frames arrive on fd 3,
// answers go out on fd 4. The handler gets a task { id, name, attempt,
// maxAttempts, timeoutMs, payload (a Buffer), progress(pct, msg), signal
// (an AbortSignal, aborted on CANCEL) } and returns the result (a Buffer,
// a string, or nothing for an empty one); a throw fails the attempt with
// the error's message. stdout and stderr are only logged by the worker:
// console.log is harmless. EOF on fd 3 ends the program (status 0).

const fs = require('fs');

const VERSION = 1;
const ID_LEN = 36;
const LEN_MAX = 64 * 1024 * 1024 + 64;
const PROGRESS_MSG_MAX = 255;

// frame(type, ...bodies): len:u32le (type byte + body) type:u8 body.
function frame(type, ...parts) {
  const body = Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
  const h = Buffer.alloc(5);
  h.writeUInt32LE(body.length + 1, 0);
  h.writeUInt8(type.charCodeAt(0), 4);
  return Buffer.concat([h, body]);
}

function u32(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}

const encode = {
  ready: (text) => frame('R', u32(VERSION), text),
  progress: (id, pct, msg) => {
    let m = Buffer.from(msg || '');
    if (m.length > PROGRESS_MSG_MAX) m = m.subarray(0, PROGRESS_MSG_MAX);
    const p = Math.max(0, Math.min(100, Math.round(pct)));
    return frame('P', id, Buffer.from([p]), m);
  },
  ok: (id, result) => frame('O', id, result),
  error: (id, message) => frame('E', id, message),
  // the worker's frames, for tests
  task: (t) => {
    const name = Buffer.from(t.name);
    const n = Buffer.alloc(2);
    n.writeUInt16LE(name.length, 0);
    return frame('T', t.id, u32(t.attempt), u32(t.maxAttempts), u32(t.timeoutMs || 0), n, name,
      t.payload);
  },
  cancel: (id) => frame('C', id),
};

// decode(buf): { frame, used } for the whole frame at the start of buf,
// null when more bytes are needed; throws on a malformed one.
function decode(buf) {
  if (buf.length < 5) return null;
  const len = buf.readUInt32LE(0);
  if (len < 1 || len > LEN_MAX) throw new Error(`frame length ${len} is out of range`);
  const type = String.fromCharCode(buf[4]);
  if (!'TCRPOE'.includes(type)) throw new Error(`unknown frame type 0x${buf[4].toString(16)}`);
  if (buf.length < 4 + len) return null;
  const body = buf.subarray(5, 4 + len);
  const f = { type };
  if (type === 'R') {
    if (body.length < 4) throw new Error('short READY');
    f.version = body.readUInt32LE(0);
    f.text = body.subarray(4).toString();
    return { frame: f, used: 4 + len };
  }
  if (body.length < ID_LEN) throw new Error(`frame '${type}' without an id`);
  f.id = body.subarray(0, ID_LEN).toString('latin1');
  const rest = body.subarray(ID_LEN);
  if (type === 'T') {
    if (rest.length < 14) throw new Error('short TASK');
    f.attempt = rest.readUInt32LE(0);
    f.maxAttempts = rest.readUInt32LE(4);
    f.timeoutMs = rest.readUInt32LE(8);
    const nl = rest.readUInt16LE(12);
    if (14 + nl > rest.length) throw new Error('TASK name past its frame');
    f.name = rest.subarray(14, 14 + nl).toString();
    f.payload = rest.subarray(14 + nl);
  } else if (type === 'C') {
    if (rest.length !== 0) throw new Error('long CANCEL');
  } else if (type === 'P') {
    f.pct = rest[0];
    f.message = rest.subarray(1).toString();
  } else {
    f.data = rest;
  }
  return { frame: f, used: 4 + len };
}

function send(out, b) {
  let off = 0;
  while (off < b.length) {
    try {
      off += fs.writeSync(out, b, off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
    }
  }
}

// serve(handler, { text }): runs the handler for every task, one at a
// time, until the worker closes fd 3.
function serve(handler, opts = {}) {
  const inFd = Number(process.env.TQ_SERVE_IN || 3);
  const outFd = Number(process.env.TQ_SERVE_OUT || 4);
  if (process.env.TQ_SERVE !== String(VERSION)) {
    throw new Error(`TQ_SERVE is "${process.env.TQ_SERVE}": not started as a tq served handler (version ${VERSION})`);
  }
  let pending = Buffer.alloc(0);
  const tasks = [];
  let running = null;

  const next = async () => {
    if (running || tasks.length === 0) return;
    const f = tasks.shift();
    const ac = new AbortController();
    running = { id: f.id, ac };
    const task = {
      id: f.id, name: f.name, attempt: f.attempt, maxAttempts: f.maxAttempts,
      timeoutMs: f.timeoutMs, payload: f.payload, signal: ac.signal,
      progress: (pct, msg) => send(outFd, encode.progress(f.id, pct, msg)),
    };
    try {
      let r = await handler(task);
      if (r === undefined || r === null) r = Buffer.alloc(0);
      send(outFd, encode.ok(f.id, Buffer.isBuffer(r) ? r : Buffer.from(String(r))));
    } catch (e) {
      send(outFd, encode.error(f.id, (e && e.message) || String(e) || 'handler failed'));
    }
    running = null;
    setImmediate(next);
  };

  const input = fs.createReadStream(null, { fd: inFd, highWaterMark: 1 << 16 });
  input.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      let d;
      try {
        d = decode(pending);
      } catch (e) {
        console.error(`tq-serve: ${e.message}`);
        process.exit(1);
      }
      if (d === null) break;
      pending = pending.subarray(d.used);
      if (d.frame.type === 'T') tasks.push(d.frame);
      else if (d.frame.type === 'C' && running && running.id === d.frame.id) running.ac.abort();
    }
    next();
  });
  input.on('end', () => process.exit(0));
  input.on('error', (e) => {
    console.error(`tq-serve: fd ${inFd}: ${e.message}`);
    process.exit(1);
  });
  send(outFd, encode.ready(opts.text || `node ${process.version} tq-serve ${VERSION}`));
}

module.exports = { serve, encode, decode, VERSION };
