// One function: configuration, an invoke form (result and REPORT figures from the x-stratus-*
// headers), recent invocations and live logs (polling GET /v1/functions/NAME/logs?since_ms=
// every second), and latency / invocation charts drawn from the REPORT lines.

import { api, get, raw } from '../api.js';
import { barChart, lineChart } from '../charts.js';
import { clear, guarded, h, num, table, when } from '../dom.js';

const REPORT = /^REPORT RequestId: (\S+)\s+Duration: ([\d.]+) ms\s+Billed Duration: (\d+) ms\s+Memory Size: (\d+) MB\s+Max Memory Used: (\d+) MB(?:\s+Init Duration: ([\d.]+) ms)?/;

export function parseReport(message) {
  const m = REPORT.exec(message.trim());
  if (!m) return null;
  return { requestId: m[1], duration: Number(m[2]), billed: Number(m[3]), memory: Number(m[4]), maxMemory: Number(m[5]), init: m[6] ? Number(m[6]) : null };
}

function configTable(fn) {
  const rows = [['Runtime', fn.runtime], ['Handler', fn.handler], ['Memory', `${fn.memory_mb} MB`], ['Timeout', `${fn.timeout_s} s`],
    ['Version', fn.version], ['Code SHA-256', fn.code_sha256], ['Reserved concurrency', fn.reserved_concurrency ?? '—'],
    ['Environment', Object.entries(fn.environment || {}).map(([k, v]) => `${k}=${v}`).join(', ') || '—'],
    ['Triggers', (fn.triggers || []).map((t) => `${t.bucket}${t.prefix ? `/${t.prefix}` : ''}`).join(', ') || '—'],
    ['Schedules', (fn.schedules || []).map((s) => s.schedule).join(', ') || '—']];
  return table(['Setting', 'Value'], rows);
}

function invokeForm(name) {
  const payload = h('textarea', { id: 'invoke-payload' }, '{}');
  const result = h('pre', { id: 'invoke-result', hidden: true });
  const figures = h('div', { id: 'invoke-report' });
  const form = h('form', { class: 'stack', id: 'invoke-form' }, h('label', {}, 'Event (JSON)', payload), h('button', { type: 'submit' }, 'Invoke'), figures, result);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    guarded(async () => {
      const response = await raw('POST', `/v1/functions/${encodeURIComponent(name)}/invoke`, { body: payload.value, headers: { 'Content-Type': 'application/json' } });
      const header = (n) => response.headers.get(`x-stratus-${n}`);
      const error = header('function-error');
      result.hidden = false;
      result.textContent = await response.text();
      clear(figures, table(['Request id', 'Duration ms', 'Billed ms', 'Max memory MB', 'Init ms', 'Status'], [[
        header('request-id'), num(header('duration-ms')), num(header('billed-ms')), num(header('max-memory-mb')), num(header('init-ms') || '—'),
        h('span', { class: error ? 'error' : 'ok' }, error ? `error: ${error}` : 'ok')]]));
    });
  });
  return form;
}

export async function render(view, { arg: name }) {
  const fn = await get(`/v1/functions/${encodeURIComponent(name)}`);
  const logBox = h('pre', { id: 'live-logs' }, '');
  const charts = h('div', { class: 'row', id: 'function-charts' });
  const recent = h('div', { id: 'recent-invocations' });
  const remove = h('button', { class: 'danger', onclick: () => guarded(async () => {
    if (!confirm(`Delete function ${name}?`)) return;
    await api('DELETE', `/v1/functions/${encodeURIComponent(name)}`);
    location.hash = '#/functions';
  }) }, 'Delete function');
  clear(view, h('p', { class: 'crumbs' }, h('a', { href: '#/functions' }, 'Functions'), ` / ${name}`),
    h('h1', {}, `Function ${name}`),
    h('div', { class: 'row' }, h('div', {}, h('h2', {}, 'Configuration'), configTable(fn), h('p', {}, remove)),
      h('div', {}, h('h2', {}, 'Invoke'), invokeForm(name))),
    h('h2', {}, 'Recent invocations'), recent,
    h('h2', {}, 'Charts'), charts,
    h('h2', {}, 'Live logs'), logBox);

  const lines = [];
  let since = Date.now() - 3600 * 1000;
  let stopped = false;
  let timer;
  const redraw = () => {
    const reports = lines.map((l) => ({ at: l.timestamp_ms, report: parseReport(l.message) })).filter((r) => r.report);
    clear(recent, table(['When', 'Request id', 'Duration ms', 'Billed ms', 'Max memory MB', 'Init ms'],
      reports.slice(-10).reverse().map(({ at, report: r }) => [when(at), r.requestId, num(r.duration.toFixed(2)), num(r.billed), num(r.maxMemory), num(r.init ?? '—')]),
      'No invocations in the last hour.'));
    const perMinute = new Map();
    for (const { at } of reports) {
      const minute = Math.floor(at / 60000) * 60000;
      perMinute.set(minute, (perMinute.get(minute) || 0) + 1);
    }
    const time = (ms) => new Date(ms).toLocaleTimeString();
    clear(charts,
      lineChart({ id: 'latency-chart', title: 'Latency (ms) per invocation', series: [
        { name: 'duration', points: reports.map(({ at, report: r }) => [at, r.duration]) },
        { name: 'init (cold start)', points: reports.filter(({ report: r }) => r.init !== null).map(({ at, report: r }) => [at, r.init]) }],
      xLabel: time, yLabel: (y) => y.toFixed(0) }),
      barChart({ id: 'invocations-chart', title: 'Invocations per minute', bars: [...perMinute.entries()].sort((a, b) => a[0] - b[0]).slice(-12)
        .map(([minute, count]) => ({ label: new Date(minute).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }), value: count })) }));
  };
  const poll = async () => {
    if (stopped) return;
    try {
      const { events } = await get(`/v1/functions/${encodeURIComponent(name)}/logs?since_ms=${since}`);
      const fresh = events.filter((e) => e.timestamp_ms >= since);
      if (fresh.length) {
        // since_ms is inclusive: drop lines already shown at the boundary millisecond.
        const seen = new Set(lines.filter((l) => l.timestamp_ms === since).map((l) => l.stream + l.message));
        for (const e of fresh) if (!(e.timestamp_ms === since && seen.has(e.stream + e.message))) lines.push(e);
        since = Math.max(...fresh.map((e) => e.timestamp_ms));
        logBox.textContent = lines.slice(-500).map((l) => `${new Date(l.timestamp_ms).toISOString()} ${l.message.trimEnd()}`).join('\n');
        logBox.scrollTop = logBox.scrollHeight;
        redraw();
      }
    } catch (err) {
      logBox.textContent += `\n[log polling: ${err.message}]`;
    }
    if (!stopped) timer = setTimeout(poll, 1000);
  };
  redraw();
  poll();
  return () => { stopped = true; clearTimeout(timer); };
}
