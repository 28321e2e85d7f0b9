/*
 * tq web: the pages. Every value from the server goes into the page as
 * text (textContent, never innerHTML): a payload that holds markup shows
 * as markup, it does not run. Views poll their API every second.
 */
'use strict';

const STATES = ['pending', 'queued', 'scheduled', 'running', 'succeeded',
  'failed', 'cancelled'];
const LIVE = ['pending', 'queued', 'scheduled', 'running'];
const POLL_MS = 1000;

const S = {
  csrf: '', write: false, token: sessionStorage.getItem('tq-token') || '',
  timer: null, view: null, chart: null, chartBox: null, gen: 0, queues: [],
};

/* el('td', {class: 'num'}, 'text', child...): strings become text nodes. */
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids.flat(Infinity)) {
    if (k === undefined || k === null) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

/* Replaces v's children, as el() adds them. */
function put(v, ...kids) {
  v.replaceChildren(...kids.flat(Infinity).filter((k) => k !== undefined && k !== null)
    .map((k) => (k instanceof Node ? k : document.createTextNode(String(k)))));
}

function fmtNum(n) { return Number(n || 0).toLocaleString('en-US'); }
function fmtTime(s) { return s ? s.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—'; }
function stateBadge(s) { return el('span', { class: 'st st-' + s, 'data-state': s }, s || 'deleted'); }
function taskLink(id, text) { return el('a', { href: '#/task/' + id, class: 'mono' }, text || id); }
function bar(pct) {
  const p = Math.max(0, Math.min(100, Math.round((pct || 0) / 10) * 10));
  return el('span', { class: 'bar', title: (pct || 0) + '%' }, el('span', { class: 'p' + p }));
}
function status(text, bad) {
  const s = document.getElementById('status');
  s.textContent = text;
  s.className = bad ? 'error' : '';
}
function message(text, kind) { return el('div', { class: 'msg ' + (kind || '') , role: 'status' }, text); }

async function api(path) {
  const r = await fetch('/api/' + path, { credentials: 'same-origin', cache: 'no-store' });
  let body;
  try { body = await r.json(); } catch (e) { body = { error: 'bad answer (' + r.status + ')' }; }
  if (!r.ok) throw new Error(body.error || ('HTTP ' + r.status));
  return body;
}

async function post(path) {
  const r = await fetch('/api/' + path, {
    method: 'POST', credentials: 'same-origin', cache: 'no-store',
    headers: { 'Authorization': 'Bearer ' + S.token, 'X-TQ-CSRF': S.csrf },
  });
  let body;
  try { body = await r.json(); } catch (e) { body = { error: 'bad answer (' + r.status + ')' }; }
  if (!r.ok) throw new Error(body.error || ('HTTP ' + r.status));
  return body;
}

/* A button that asks once more, in the page, before it acts. */
function action(label, cls, run, done) {
  const wrap = el('span', { class: 'confirm' });
  const first = el('button', { type: 'button', class: cls, 'data-action': label.toLowerCase(),
    onclick: () => {
      wrap.replaceChildren(el('span', {}, label + '?'),
        el('button', { type: 'button', class: cls, 'data-confirm': label.toLowerCase(), onclick: async () => {
          wrap.replaceChildren(el('span', { class: 'muted' }, 'working…'));
          try { const r = await run(); wrap.replaceChildren(message(done(r), 'ok')); }
          catch (e) { wrap.replaceChildren(message(label + ': ' + e.message, 'error')); }
          refresh();
        } }, 'Yes'),
        el('button', { type: 'button', onclick: () => wrap.replaceChildren(first) }, 'No'));
    } }, label);
  if (!S.write || !S.token) return el('span', {});
  wrap.append(first);
  return wrap;
}

function table(head, rows, opts) {
  const t = el('table', opts || {},
    el('thead', {}, el('tr', {}, head.map((h) => el('th', { class: h.num ? 'num' : '' }, h.t || h)))),
    el('tbody', {}, rows));
  return el('div', { class: 'scroll' }, t);
}

/* ---- views ---- */

const views = {};

views.overview = {
  title: 'Overview',
  async load() { return api('overview'); },
  render(v, d) {
    const totals = {};
    STATES.forEach((s) => { totals[s] = 0; });
    S.queues = d.queues.map((q) => q.queue);
    const rows = d.queues.map((q) => {
      STATES.forEach((s) => { totals[s] += q.counts[s]; });
      return el('tr', { 'data-queue': q.queue },
        el('td', {}, el('a', { href: '#/tasks?queue=' + encodeURIComponent(q.queue) }, q.queue),
          q.paused ? el('span', { class: 'st st-paused', 'data-paused': q.queue }, 'paused') : ''),
        STATES.map((s) => el('td', { class: 'num', 'data-count': s },
          el('a', { href: '#/tasks?queue=' + encodeURIComponent(q.queue) + '&state=' + s }, fmtNum(q.counts[s])))),
        el('td', {}, pauseButton(q.queue, q.paused)));
    });
    /* Paused queues that hold no task now still show, to be resumed. */
    (d.paused || []).filter((p) => !d.queues.some((q) => q.queue === p.queue)).forEach((p) => {
      rows.push(el('tr', { 'data-queue': p.queue },
        el('td', {}, p.queue, el('span', { class: 'st st-paused', 'data-paused': p.queue }, 'paused')),
        STATES.map(() => el('td', { class: 'num' }, '0')), el('td', {}, pauseButton(p.queue, true))));
    });
    rows.push(el('tr', { class: 'total' }, el('td', {}, 'all queues'),
      STATES.map((s) => el('td', { class: 'num', 'data-total': s }, fmtNum(totals[s]))), el('td', {})));
    const f = d.finished, sum = (a) => a.reduce((x, y) => x + (y || 0), 0);
    const ok = sum(f.succeeded), bad = sum(f.failed), last = f.hours.length - 1;
    const rc = d.recent || {}, m5 = rc.m5 || { t: [], succeeded: [], failed: [] };
    const ok5 = sum(m5.succeeded), bad5 = sum(m5.failed);
    const cards = el('div', { class: 'cards' },
      el('div', { class: 'card' }, el('b', { id: 'live-total' }, fmtNum(LIVE.reduce((x, s) => x + totals[s], 0))), 'live tasks'),
      el('div', { class: 'card' }, el('b', {}, fmtNum(ok)), 'succeeded, 24 h'),
      el('div', { class: 'card' }, el('b', {}, fmtNum(bad)), 'failed, 24 h'),
      el('div', { class: 'card' }, el('b', {}, ok + bad ? (100 * bad / (ok + bad)).toFixed(2) + ' %' : '—'), 'failure rate, 24 h'),
      el('div', { class: 'card' }, el('b', {}, fmtNum((f.succeeded[last] || 0) + (f.failed[last] || 0))), 'finished this hour'),
      el('div', { class: 'card' }, el('b', { id: 'rate-5m' }, m5.t.length ? (ok5 / m5.t.length).toFixed(1) + ' /s' : '—'), 'succeeded, last 5 min'),
      el('div', { class: 'card' }, el('b', {}, ok5 + bad5 ? (100 * bad5 / (ok5 + bad5)).toFixed(2) + ' %' : '—'), 'failure rate, 5 min'));
    /* The chart's box outlives a redraw: uPlot takes new data in place. */
    const chart = S.chartBox || (S.chartBox = el('div', { class: 'chart', id: 'chart' }));
    const c5 = S.box5 || (S.box5 = el('div', { class: 'chart', id: 'chart-5m' }));
    const c60 = S.box60 || (S.box60 = el('div', { class: 'chart', id: 'chart-1h' }));
    const ms = (p) => (p ? [p.p50, p.p90, p.p99].map((x) => el('td', { class: 'num' }, x.toFixed(1))) :
      [0, 1, 2].map(() => el('td', { class: 'num' }, '—')));
    const lat = (rc.latency || []).map((l) => el('tr', { 'data-latency': l.queue },
      el('td', {}, l.queue), el('td', { class: 'num' }, fmtNum(l.n)), ms(l.wait_ms), ms(l.run_ms)));
    const lim = (d.limits || []).map((l) => el('tr', { 'data-limit': l.name },
      el('td', { class: 'mono' }, l.name), el('td', { class: 'num' }, l.concurrency == null ? '—' : fmtNum(l.concurrency)),
      el('td', {}, l.rate ? l.rate.n + ' per ' + l.rate.per_s + ' s' + (l.rate.burst > 1 ? ', burst ' + l.rate.burst : '') : '—'),
      ['running', 'waiting', 'reserved', 'keys'].map((k) => el('td', { class: 'num', ['data-' + k]: l[k] }, fmtNum(l[k])))));
    put(v, el('h1', {}, 'Overview'), cards,
      el('h2', {}, 'Queues (live counts now; finished: over each queue\'s retention window)'),
      table([{ t: 'queue' }].concat(STATES.map((s) => ({ t: s, num: true })), [{ t: '' }]), rows, { id: 'queues' }),
      el('h2', {}, 'Finished per second, last 5 min (every ' + (rc.sample_s || 5) + ' s)'), c5,
      el('h2', {}, 'Finished per second, last hour (by the minute)'), c60,
      el('h2', {}, 'Finished per hour, last 24 h (tq_rollup)'), chart,
      el('h2', {}, 'Queue wait and run time, ms, over each queue\'s latest succeeded tasks'),
      lat.length ? table(['queue', { t: 'tasks', num: true }, { t: 'wait p50', num: true }, { t: 'p90', num: true },
        { t: 'p99', num: true }, { t: 'run p50', num: true }, { t: 'p90', num: true }, { t: 'p99', num: true }], lat, { id: 'latency' })
        : el('p', { class: 'muted' }, 'no task finished since tq web started'),
      el('h2', {}, 'Limits (tq limit)'),
      lim.length ? table(['limit', { t: 'concurrency', num: true }, 'rate', { t: 'running', num: true },
        { t: 'waiting', num: true }, { t: 'reserved', num: true }, { t: 'keys', num: true }], lim, { id: 'limits' })
        : el('p', { class: 'muted' }, 'no limit set'));
    drawChart(chart, f);
    drawRates('c5', c5, m5);
    drawRates('c60', c60, rc.h1 || { t: [], succeeded: [], failed: [] });
  },
};

function pauseButton(queue, paused) {
  const verb = paused ? 'Resume' : 'Pause';
  return action(verb, paused ? '' : 'danger', () => post('queues/' + encodeURIComponent(queue) + '/' + verb.toLowerCase()),
    (r) => 'queue ' + r.queue + (r.paused ? ' paused' : ' resumed'));
}

/* A rate chart (tasks per second) kept in S[key], redrawn in place. */
function drawRates(key, box, r) {
  if (typeof uPlot === 'undefined') return;
  const data = [r.t, r.succeeded, r.failed];
  const width = chartWidth(box);
  if (S[key] && Math.abs(S[key].width - width) < 2) { S[key].setData(data); return; }
  if (S[key]) { S[key].destroy(); S[key] = null; }
  S[key] = new uPlot({
    width, height: 180,
    series: [{},
      { label: 'succeeded /s', stroke: '#2e8540', width: 2, spanGaps: false },
      { label: 'failed /s', stroke: '#c62828', width: 2, spanGaps: false }],
    axes: [{}, { size: 60 }],
    scales: { x: { time: true } },
  }, data, box);
}

/* A chart's width: its box's, but never past the window (a chart drawn
 * wide would keep its box wide when the window narrows). */
function chartWidth(box) {
  return Math.max(280, Math.min(1200, box.clientWidth || 800, window.innerWidth - 24));
}

function drawChart(box, f) {
  if (typeof uPlot === 'undefined') { box.append(message('chart library not loaded', 'error')); return; }
  const data = [f.hours, f.succeeded, f.failed, f.retried, f.cancelled];
  const width = chartWidth(box);
  if (S.chart && Math.abs(S.chart.width - width) < 2) { S.chart.setData(data); return; }
  if (S.chart) { S.chart.destroy(); S.chart = null; }
  S.chart = new uPlot({
    width, height: 240,
    series: [{},
      { label: 'succeeded', stroke: '#2e8540', width: 2 },
      { label: 'failed', stroke: '#c62828', width: 2 },
      { label: 'retried', stroke: '#d08a00', width: 1 },
      { label: 'cancelled', stroke: '#6d6d6d', width: 1 }],
    axes: [{}, { size: 60 }],
    scales: { x: { time: true } },
  }, data, box);
}

function filtersFromHash() {
  const q = location.hash.split('?')[1] || '';
  return Object.fromEntries(new URLSearchParams(q));
}

/* When a scheduled task runs: in how long, or after its parents. */
function dueText(t) {
  if (t.waiting > 0) return 'after ' + t.waiting + ' parent' + (t.waiting > 1 ? 's' : '');
  if (!t.due_at) return '—';
  const s = Math.round((Date.parse(t.due_at) - Date.now()) / 1000);
  return fmtTime(t.due_at) + (s > 0 ? ' (in ' + s + ' s)' : ' (due)');
}

function taskRows(tasks, kind) {
  const sched = kind === 'scheduled';
  return tasks.map((t) => el('tr', { 'data-id': t.id, 'data-state': t.state },
    el('td', {}, taskLink(t.id)), el('td', {}, t.queue), el('td', {}, t.name),
    el('td', {}, stateBadge(t.state)), el('td', { class: 'num' }, t.attempts + '/' + t.max_attempts),
    el('td', {}, fmtTime(t.created_at)), sched ? el('td', { 'data-due': t.due_at || '' }, dueText(t)) : el('td', {}, fmtTime(t.finished_at)),
    el('td', { class: 'wrap' }, t.error || ''),
    kind === 'failed' ? el('td', {}, action('Retry', 'primary', () => post('tasks/' + t.id + '/retry'), () => 'retried')) : null,
    sched ? el('td', {}, t.waiting > 0 ? '' : action('Run now', 'primary', () => post('tasks/' + t.id + '/retry'), () => 'due now')) : null));
}

const LIST_TITLE = { tasks: 'Tasks', failed: 'Failed', scheduled: 'Scheduled' };

function taskList(kind) {
  return {
    title: LIST_TITLE[kind],
    cursor: '', stack: [],
    async load() {
      const f = filtersFromHash();
      const p = new URLSearchParams();
      if (kind !== 'tasks') p.set('state', kind);
      else if (f.state) p.set('state', f.state);
      if (f.queue) p.set('queue', f.queue);
      if (f.name) p.set('name', f.name);
      if (this.cursor) p.set('cursor', this.cursor);
      p.set('limit', '50');
      if (!S.queues.length) { try { S.queues = (await api('overview')).queues.map((q) => q.queue); } catch (e) { /* shown by the list */ } }
      return api('tasks?' + p.toString());
    },
    render(v, d) {
      const f = filtersFromHash();
      const self = this;
      const go = (ev) => {
        ev.preventDefault();
        const form = ev.target.closest('form');
        const p = new URLSearchParams();
        for (const k of ['queue', 'state', 'name']) {
          const i = form.elements[k];
          if (i && i.value) p.set(k, i.value);
        }
        const id = form.elements.id && form.elements.id.value.trim();
        if (id) { location.hash = '#/task/' + id; return; }
        self.cursor = ''; self.stack = [];
        location.hash = '#/' + kind + (p.toString() ? '?' + p.toString() : '');
      };
      const qsel = el('select', { name: 'queue' }, el('option', { value: '' }, 'all'),
        S.queues.map((q) => el('option', { value: q, selected: q === f.queue }, q)));
      const form = el('form', { class: 'filters', onsubmit: go },
        el('label', {}, 'queue', qsel),
        kind !== 'tasks' ? null : el('label', {}, 'state', el('select', { name: 'state' },
          el('option', { value: '' }, 'any'), STATES.map((s) => el('option', { value: s, selected: s === f.state }, s)))),
        el('label', {}, 'name', el('input', { name: 'name', value: f.name || '', size: 16 })),
        kind !== 'tasks' ? null : el('label', {}, 'id', el('input', { name: 'id', size: 36, class: 'mono' })),
        el('button', { type: 'submit' }, 'Filter'));
      const head = ['id', 'queue', 'name', 'state', { t: 'attempts', num: true }, 'created',
        kind === 'scheduled' ? 'due' : 'finished', kind === 'scheduled' ? 'last error' : 'error'];
      if (kind !== 'tasks') head.push('');
      const pager = el('div', { class: 'filters' },
        el('button', { type: 'button', disabled: !this.cursor, onclick: () => { this.cursor = ''; this.stack = []; refresh(); } }, 'Newest'),
        el('button', { type: 'button', disabled: !this.stack.length, onclick: () => { this.cursor = this.stack.pop() || ''; refresh(); } }, 'Newer'),
        el('button', { type: 'button', id: 'older', disabled: !d.next, onclick: () => { this.stack.push(this.cursor); this.cursor = d.next; refresh(); } }, 'Older'),
        el('span', { class: 'muted' }, d.tasks.length + ' shown' + (d.next ? '' : ', end of list')));
      const kids = [el('h1', {}, this.title), form];
      const ofq = f.queue ? ' of ' + f.queue : '';
      const qarg = f.queue ? 'queue=' + encodeURIComponent(f.queue) : '';
      if (kind === 'failed')
        kids.push(el('div', { class: 'filters' },
          action('Retry all failed' + ofq, 'primary', () => post('retry-failed' + (qarg ? '?' + qarg : '')),
            (r) => r.retried + ' retried'),
          action('Purge failed older than 7d' + ofq, 'danger',
            () => post('purge?state=failed&older_than=7d' + (qarg ? '&' + qarg : '')),
            (r) => r.purged + ' purged')));
      if (kind === 'scheduled')
        kids.push(el('div', { class: 'filters' },
          action('Run all scheduled now' + ofq, 'primary', () => post('run-scheduled' + (qarg ? '?' + qarg : '')),
            (r) => r.run_now + ' due now'),
          action('Cancel all scheduled' + ofq, 'danger', () => post('cancel-scheduled' + (qarg ? '?' + qarg : '')),
            (r) => r.cancelled + ' cancelled'),
          el('span', { class: 'muted' }, 'children waiting for their parents are left as they are; cancelled tasks are purged as any')));
      if (kind !== 'tasks') {
        const groups = {};
        d.tasks.forEach((t) => { const k = (t.error || '').slice(0, 120); groups[k] = (groups[k] || 0) + 1; });
        kids.push(el('h2', {}, 'By error (this page)'),
          table(['error', { t: 'tasks', num: true }], Object.entries(groups).map(([k, n]) =>
            el('tr', {}, el('td', { class: 'wrap' }, k || '(none)'), el('td', { class: 'num' }, n)))));
        kids.push(el('h2', {}, 'Tasks'));
      }
      kids.push(table(head, taskRows(d.tasks, kind), { id: 'tasks' }), pager);
      put(v, ...kids);
    },
  };
}
views.tasks = taskList('tasks');
views.failed = taskList('failed');
views.scheduled = taskList('scheduled');

views.task = {
  title: 'Task',
  async load(id) { return api('tasks/' + encodeURIComponent(id)); },
  render(v, t) {
    const blob = (what, text, len, cut) => [
      el('h2', {}, what + ' (' + fmtNum(len) + ' bytes' + (cut ? ', first 4 KiB shown' : '') + ') ',
        el('a', { href: '/api/tasks/' + t.id + '/' + what.toLowerCase(), download: t.id + '.' + what.toLowerCase() }, 'download')),
      el('pre', { class: 'blob', id: what.toLowerCase() }, text)];
    const acts = el('div', { class: 'filters' });
    if (LIVE.includes(t.state)) acts.append(action('Cancel', 'danger', () => post('tasks/' + t.id + '/cancel'), (r) => r.state));
    if (t.state === 'failed') acts.append(action('Retry', 'primary', () => post('tasks/' + t.id + '/retry'), () => 'retried'));
    if (t.state === 'scheduled' && t.due_at) acts.append(action('Run now', 'primary', () => post('tasks/' + t.id + '/retry'), () => 'due now'));
    /* --after: parents, this task, children, as three columns of
       linked boxes joined by arrows (at most 100 a side). */
    const node = (d, cls) => el('div', { class: 'dep ' + (cls || ''), 'data-dep': d.id },
      cls === 'self' ? el('span', { class: 'mono' }, '…' + d.id.slice(-12)) : taskLink(d.id, '…' + d.id.slice(-12)),
      el('div', {}, d.name || '(deleted)', ' ', stateBadge(d.state)));
    const col = (list, what) => el('div', { class: 'dep-col', id: what },
      list.length ? list.map((d) => node(d)) : el('span', { class: 'muted' }, what === 'parents' ? 'no parents' : 'no children'),
      list.length >= 100 ? el('span', { class: 'muted' }, 'first 100') : null);
    const graph = el('div', { class: 'dep-graph', id: 'deps' }, col(t.parents, 'parents'), el('div', { class: 'dep-arrow' }, t.parents.length ? '→' : ''),
      el('div', { class: 'dep-col' }, node(t, 'self')), el('div', { class: 'dep-arrow' }, t.children.length ? '→' : ''), col(t.children, 'children'));
    const kv = [['id', el('span', { class: 'mono' }, t.id)], ['queue', t.queue], ['name', t.name],
      ['state', stateBadge(t.state)], ['attempts', t.attempts + ' of ' + t.max_attempts],
      ['progress', el('span', { id: 'progress', 'data-progress': t.progress }, bar(t.progress), ' ' + t.progress + '% ' + (t.progress_message || ''))],
      ['owner', t.owner || '—'], ['fence', t.fence], ['created', fmtTime(t.created_at)],
      ['started', fmtTime(t.started_at)], ['finished', fmtTime(t.finished_at)], ['due', fmtTime(t.due_at)],
      ['periodic', t.cron ? t.cron.name + ' (tick ' + t.cron.tick + ')' : '—']];
    put(v, el('h1', { 'data-task': t.id }, 'Task ', el('span', { class: 'mono' }, t.id)), acts,
      el('dl', { class: 'kv' }, kv.map(([k, x]) => [el('dt', {}, k), el('dd', {}, x)])),
      t.error ? [el('h2', {}, 'Error'), el('pre', { class: 'blob', id: 'error' }, t.error)] : null,
      blob('Payload', t.payload, t.payload_len, t.payload_truncated),
      t.result !== null ? blob('Result', t.result, t.result_len, t.result_truncated) : null,
      el('h2', {}, 'Attempts (task_runs)'),
      table([{ t: 'fence', num: true }, { t: 'attempt', num: true }, 'owner', 'outcome', 'started', 'finished', 'error'],
        t.runs.map((r) => el('tr', {}, el('td', { class: 'num' }, r.fence), el('td', { class: 'num' }, r.attempt),
          el('td', { class: 'mono' }, r.owner), el('td', {}, stateBadge(r.outcome)), el('td', {}, fmtTime(r.started_at)),
          el('td', {}, fmtTime(r.finished_at)), el('td', { class: 'wrap' }, r.error || ''))), { id: 'runs' }),
      el('h2', {}, 'Dependencies (--after): waits for → this task → waited for by'), graph);
  },
};

/* A worker's state as its supervisor tells it (web_nodes.c). */
const WORKER_ST = { idle: 'live', busy: 'running', draining: 'scheduled', starting: 'queued', stopping: 'scheduled', down: 'dead', failing: 'dead' };

views.nodes = {
  title: 'Nodes & workers',
  async load() { return api('nodes'); },
  render(v, d) {
    const byNode = {};
    const byOwner = {};
    d.running.forEach((r) => {
      const o = (r.owner || '').split(':');
      (byNode[o[0]] = byNode[o[0]] || []).push(r);
      byOwner[o[0] + ':' + o[1]] = r;
    });
    const sum = (n, k) => (n.pools || []).reduce((a, p) => a + p[k], 0);
    const workers = [];
    d.nodes.forEach((n) => (n.workers || []).forEach((w) => workers.push(Object.assign({ node: n.name, live: n.live }, w))));
    const untold = d.nodes.filter((n) => n.workers === null).map((n) => n.name);
    const left = d.nodes.filter((n) => n.workers_left_out > 0);
    put(v, el('h1', {}, 'Nodes & workers'),
      el('h2', {}, 'Leader'),
      table(['lease', 'holder', { t: 'token', num: true }, 'expires', 'state'], d.leaders.map((l) =>
        el('tr', {}, el('td', {}, l.name), el('td', { class: 'mono' }, l.holder || '—'), el('td', { class: 'num' }, l.token),
          el('td', {}, fmtTime(l.expires_at)), el('td', {}, el('span', { class: 'st ' + (l.live ? 'st-live' : 'st-dead') }, l.live ? 'held' : 'free')))), { id: 'leaders' }),
      el('h2', {}, 'Nodes (a node silent for ' + d.node_timeout_ms + ' ms is dead)'),
      table(['node', 'state', { t: 'heartbeat age', num: true }, 'started', { t: 'running tasks', num: true },
        { t: 'restarts', num: true }, { t: 'hang kills', num: true }, 'instance'], d.nodes.map((n) =>
        el('tr', { 'data-node': n.name }, el('td', {}, n.name),
          el('td', {}, el('span', { class: 'st ' + (n.live ? 'st-live' : 'st-dead') }, n.live ? 'live' : 'dead'),
            (n.pools || []).some((p) => p.failing) ? [' ', el('span', { class: 'st st-failed' }, 'failing')] : null),
          el('td', { class: 'num' }, (n.age_ms / 1000).toFixed(1) + ' s'), el('td', {}, fmtTime(n.started_at)),
          el('td', { class: 'num' }, (byNode[n.name] || []).length),
          el('td', { class: 'num' }, n.pools ? sum(n, 'restarts') : '—'), el('td', { class: 'num' }, n.pools ? sum(n, 'hang_kills') : '—'),
          el('td', { class: 'mono wrap' }, n.info || ''))), { id: 'nodes' }),
      el('h2', {}, 'Workers'),
      table(['node', 'pool', { t: 'slot', num: true }, 'state', { t: 'pid', num: true }, 'task', 'progress',
        { t: 'heartbeat age', num: true }, { t: 'RSS', num: true }, { t: 'restarts', num: true }, { t: 'hang kills', num: true }],
      workers.map((w) => {
        const t = w.pid ? byOwner[w.node + ':' + w.pid] : undefined;
        return el('tr', { 'data-worker': w.node + '/' + w.pool + '/' + w.slot, 'data-pid': w.pid },
          el('td', {}, w.node), el('td', {}, w.pool), el('td', { class: 'num' }, w.slot),
          el('td', {}, el('span', { class: 'st st-' + (w.live ? WORKER_ST[w.state] || 'dead' : 'dead'), 'data-state': w.state }, w.state)),
          el('td', { class: 'num mono' }, w.pid || '—'), el('td', {}, t ? taskLink(t.id, '…' + t.id.slice(-12)) : '—'),
          el('td', {}, t ? [bar(t.progress), ' ' + t.progress + '%'] : ''),
          el('td', { class: 'num' }, w.pid ? w.heartbeat_age_s + ' s' : '—'),
          el('td', { class: 'num', 'data-rss-kb': w.rss_kb }, w.rss_kb ? (w.rss_kb / 1024).toFixed(1) + ' MB' : '—'),
          el('td', { class: 'num', 'data-restarts': w.restarts }, w.restarts),
          el('td', { class: 'num', 'data-hang-kills': w.hang_kills }, w.hang_kills));
      }), { id: 'workers' }),
      el('p', { class: 'muted' }, 'Each supervisor writes its workers\' figures into its node row with every beat (every ' +
        (d.node_timeout_ms / 4000).toFixed(2) + ' s).',
        untold.length ? ' Not told by ' + untold.join(', ') + ' (an older supervisor).' : '',
        left.map((n) => ' ' + n.workers_left_out + ' workers of ' + n.name + ' did not fit its row: tq workers on that node.')),
      el('h2', {}, 'Running tasks, by worker'),
      table(['worker', 'task', 'queue', 'name', 'progress', 'started', { t: 'lease left', num: true }], d.running.map((r) =>
        el('tr', {}, el('td', { class: 'mono' }, r.owner), el('td', {}, taskLink(r.id)), el('td', {}, r.queue), el('td', {}, r.name),
          el('td', {}, bar(r.progress), ' ' + r.progress + '% ' + (r.progress_message || '')),
          el('td', {}, fmtTime(r.started_at)), el('td', { class: 'num' }, (r.lease_left_ms / 1000).toFixed(1) + ' s'))), { id: 'running' }));
  },
};

views.cron = {
  title: 'Periodic',
  async load() { return api('cron'); },
  render(v, d) {
    put(v, el('h1', {}, 'Periodic schedules (tq_cron, UTC)'),
      d.schedules.length ? table(['name', 'spec', 'queue', 'task', 'payload', 'next tick', 'last runs'], d.schedules.map((c) =>
        el('tr', { 'data-cron': c.name }, el('td', {}, c.name), el('td', { class: 'mono' }, c.spec), el('td', {}, c.queue),
          el('td', {}, c.task), el('td', { class: 'mono wrap' }, c.payload), el('td', {}, new Date(c.next_tick * 1000).toISOString().replace('.000', '')),
          el('td', {}, c.last.map((k) => el('span', {}, taskLink(k.id, k.tick), ' ', stateBadge(k.state), ' ')))))) :
        message('no schedules: tq cron add NAME SPEC TASK'));
  },
};

/* ---- routing and polling ---- */

function route() {
  const h = location.hash.replace(/^#\/?/, '') || 'overview';
  const [path] = h.split('?');
  const [name, arg] = path.split('/');
  return { name: views[name] ? name : 'overview', arg };
}

async function refresh() {
  const r = route(), view = views[r.name], v = document.getElementById('view');
  const gen = ++S.gen;
  clearTimeout(S.timer);
  try {
    const d = await view.load(r.arg);
    if (gen !== S.gen) return;
    /* Keep a half-typed filter or an open confirmation: skip this redraw. */
    const busy = v.contains(document.activeElement) && document.activeElement.matches('input, select') ||
      v.querySelector('[data-confirm]');
    if (!busy || S.view !== r.name) view.render(v, d);
    S.view = r.name;
    status('updated ' + new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'));
  } catch (e) {
    if (gen !== S.gen) return;
    if (S.view !== r.name) put(v, el('h1', {}, view.title));
    S.view = r.name;
    status(e.message, true);
  }
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('active', a.dataset.view === r.name));
  document.title = 'tq · ' + view.title;
  S.timer = setTimeout(refresh, POLL_MS);
}

function setMode() {
  const m = document.getElementById('mode');
  const on = S.write && S.token;
  m.textContent = on ? 'write' : (S.write ? 'read-only (locked)' : 'read-only');
  m.className = 'badge' + (on ? ' write' : '');
  document.getElementById('token').hidden = !S.write || !!S.token;
  document.getElementById('unlock').hidden = !S.write || !!S.token;
  document.getElementById('lock').hidden = !on;
}

async function start() {
  try {
    const s = await api('session');
    S.csrf = s.csrf;
    S.write = s.write;
  } catch (e) { status(e.message, true); }
  document.getElementById('auth').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const t = document.getElementById('token');
    S.token = t.value.trim();
    t.value = '';
    if (S.token) sessionStorage.setItem('tq-token', S.token);
    setMode(); S.view = null; refresh();
  });
  document.getElementById('lock').addEventListener('click', () => {
    S.token = ''; sessionStorage.removeItem('tq-token'); setMode(); S.view = null; refresh();
  });
  window.addEventListener('hashchange', () => {
    views.tasks.cursor = ''; views.tasks.stack = [];
    views.failed.cursor = ''; views.failed.stack = [];
    views.scheduled.cursor = ''; views.scheduled.stack = [];
    S.view = null; refresh();
  });
  setMode();
  refresh();
}

document.addEventListener('DOMContentLoaded', start);
