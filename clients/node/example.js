#!/usr/bin/env node
'use strict';
// example.js: a served handler in Node.js. In the worker's config:
//
//   [task upper]
//   exec = /usr/bin/node /path/to/clients/node/example.js
//   serve = yes
//
// The payload comes back upper-cased. "pid" returns the process id (one
// process serves many tasks), "slow" reports progress, "fail MSG" fails
// the attempt with MSG, "exit1" exits on a first attempt (a crash).
const { serve } = require('./tq-serve');

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  if (signal) signal.addEventListener('abort', () => { clearTimeout(t); reject(new Error('cancelled')); });
});

serve(async (task) => {
  const p = task.payload.toString();
  if (p === 'pid') return String(process.pid);
  if (p === 'slow') {
    task.progress(30, 'reading');
    await sleep(600, task.signal);
    task.progress(60, 'shouting');
    await sleep(600, task.signal);
    return 'DONE';
  }
  if (p.startsWith('fail ')) throw new Error(p.slice(5));
  if (p === 'exit1' && task.attempt === 1) {
    console.error('example: exiting on attempt 1');
    process.exit(3);
  }
  console.log(`upper-casing ${task.payload.length} bytes`); // logged, not a result
  return p.toUpperCase();
}, { text: 'node example upper' });
