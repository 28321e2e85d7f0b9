#!/usr/bin/env node
'use strict';
// test.js: the Node.js served-handler library against the protocol,
// without a worker: the codec (malformed frames too), then example.js
// driven through its fd 3 and fd 4 as a worker drives it. Exit 0 = pass.
const assert = require('assert');
const path = require('path');
const { spawn } = require('child_process');
const { encode, decode } = require('./tq-serve');

const ID = '01a23bfb-0ab2-71a7-813a-984570e4e186';

// codec
let d = decode(encode.task({ id: ID, name: 'upper', attempt: 2, maxAttempts: 5, timeoutMs: 700,
  payload: Buffer.from('x\0y') }));
assert.deepStrictEqual([d.frame.type, d.frame.id, d.frame.attempt, d.frame.maxAttempts,
  d.frame.timeoutMs, d.frame.name, d.frame.payload.toString()], ['T', ID, 2, 5, 700, 'upper', 'x\0y']);
const p = encode.progress(ID, 40, 'm'.repeat(300));
assert.strictEqual(p.length, 5 + 36 + 1 + 255, 'progress messages are cut at 255 bytes');
assert.strictEqual(decode(p.subarray(0, p.length - 1)), null, 'a partial frame waits');
assert.throws(() => decode(Buffer.from('hello, world\n')), /out of range/);
assert.throws(() => decode(Buffer.from([1, 0, 0, 0, 0x5a])), /unknown frame type/);
assert.throws(() => decode(Buffer.from([0, 0, 0, 0, 0x4f])), /out of range/);
assert.throws(() => decode(Buffer.from([2, 0, 0, 0, 0x4f, 1])), /without an id/);

// a conversation with example.js
const child = spawn(process.execPath, [path.join(__dirname, 'example.js')], {
  stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
  env: { TQ_SERVE: '1', TQ_SERVE_IN: '3', TQ_SERVE_OUT: '4', TQ_TASK_NAME: 'upper' },
});
let noise = '';
child.stdout.on('data', (b) => { noise += b; });
child.stderr.on('data', (b) => { noise += b; });
let buf = Buffer.alloc(0);
const frames = [];
let waiter = null;
child.stdio[4].on('data', (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  for (let r; (r = decode(buf)) !== null;) {
    buf = buf.subarray(r.used);
    frames.push(r.frame);
  }
  if (waiter) waiter();
});
const nextFrame = () => new Promise((resolve, reject) => {
  const t = setTimeout(() => reject(new Error('no frame within 5 s')), 5000);
  const take = () => {
    if (frames.length === 0) return;
    clearTimeout(t);
    waiter = null;
    resolve(frames.shift());
  };
  waiter = take;
  take();
});
let seq = 0;
const task = (payload, attempt = 1) => {
  const id = `${ID.slice(0, 24)}${String(++seq).padStart(12, '0')}`;
  child.stdio[3].write(encode.task({ id, name: 'upper', attempt, maxAttempts: 3, payload: Buffer.from(payload) }));
  return id;
};

(async () => {
  const ready = await nextFrame();
  assert.strictEqual(ready.type, 'R');
  assert.strictEqual(ready.version, 1);
  let id = task('hello');
  let f = await nextFrame();
  assert.deepStrictEqual([f.type, f.id, f.data.toString()], ['O', id, 'HELLO']);
  task('pid');
  const pid1 = (await nextFrame()).data.toString();
  task('pid');
  const pid2 = (await nextFrame()).data.toString();
  assert.strictEqual(pid1, String(child.pid));
  assert.strictEqual(pid2, pid1, 'one process serves many tasks');
  id = task('slow');
  f = await nextFrame();
  assert.deepStrictEqual([f.type, f.id, f.pct, f.message], ['P', id, 30, 'reading']);
  f = await nextFrame();
  assert.deepStrictEqual([f.type, f.pct], ['P', 60]);
  f = await nextFrame();
  assert.deepStrictEqual([f.type, f.data.toString()], ['O', 'DONE']);
  id = task('fail no disk');
  f = await nextFrame();
  assert.deepStrictEqual([f.type, f.id, f.data.toString()], ['E', id, 'no disk']);
  id = task('slow');
  await nextFrame(); // progress 30
  child.stdio[3].write(encode.cancel(id));
  f = await nextFrame();
  assert.deepStrictEqual([f.type, f.id, f.data.toString()], ['E', id, 'cancelled']);
  assert.match(noise, /upper-casing 5 bytes/, 'console.log goes to stdout, not to the frames');
  // EOF on fd 3: the handler exits 0.
  const code = new Promise((resolve) => child.on('exit', (c) => resolve(c)));
  child.stdio[3].end();
  assert.strictEqual(await code, 0);
  console.log('clients/node: all tests passed');
})().catch((e) => {
  console.error(`clients/node: FAIL: ${e.stack}`);
  child.kill('SIGKILL');
  process.exit(1);
});
