// Cost: this month's bill (GET /v1/cost) and the serverless-versus-always-on comparison
// (POST /v1/cost/compare), drawn as SVG: cost against traffic, with the break-even rate.

import { api, get } from '../api.js';
import { barChart, lineChart } from '../charts.js';
import { clear, guarded, h, num, table, usd } from '../dom.js';

function billTables(cost) {
  return [
    h('div', { class: 'cards' },
      h('div', { class: 'card', id: 'cost-total' }, h('div', { class: 'muted' }, 'Total'), h('div', { class: 'big' }, usd(cost.totals.usd))),
      h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Functions'), h('div', { class: 'big' }, usd(cost.totals.lambda_usd))),
      h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Storage and S3 requests'), h('div', { class: 'big' }, usd(cost.totals.s3_usd)))),
    h('p', { class: 'muted' }, `${cost.period.since} — ${cost.period.until}`),
    h('h2', {}, 'Functions'),
    table(['Function', 'Requests', 'GB-seconds', 'Errors', 'USD'], cost.functions.map((f) => [f.function || f.project, num(f.requests), num(Number(f.gb_seconds).toFixed(3)), num(f.errors), num(usd(f.usd))]), 'No invocations this period.'),
    h('h2', {}, 'Storage'),
    table(['Project', 'GB-months', 'Writes', 'Reads', 'USD'], cost.s3.map((s) => [s.project, num(Number(s.gb_months).toFixed(6)), num(s.write_requests), num(s.read_requests), num(usd(s.usd))]), 'No storage this period.'),
  ];
}

function comparisonView(out, result, params) {
  const seconds = result.trace.period_hours * 3600;
  const perRequest = result.serverless.per_request_usd;
  const fleet = result.always_on;
  const top = Math.max(params.rate * 2, result.break_even.rate * 1.5 || 1);
  const steps = 20;
  const serverless = [];
  const alwaysOn = [];
  for (let i = 0; i <= steps; i += 1) {
    const rate = (top * i) / steps;
    serverless.push([rate, rate * seconds * perRequest]);
    alwaysOn.push([rate, fleet.usd]);
  }
  clear(out,
    h('div', { class: 'cards' },
      h('div', { class: 'card', id: 'compare-serverless' }, h('div', { class: 'muted' }, 'Serverless'), h('div', { class: 'big' }, usd(result.serverless.usd))),
      h('div', { class: 'card', id: 'compare-always-on' }, h('div', { class: 'muted' }, `Always-on (${fleet.count} × ${fleet.instance})`), h('div', { class: 'big' }, usd(fleet.usd))),
      h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Break-even rate'), h('div', { class: 'big' }, `${Number(result.break_even.rate).toFixed(2)} req/s`))),
    h('div', { class: 'row' },
      lineChart({ id: 'compare-chart', title: `Cost over ${params.days} days against mean request rate (fleet fixed)`, series: [
        { name: 'serverless', points: serverless }, { name: `always-on ${fleet.instance}`, points: alwaysOn }],
      xLabel: (x) => `${x.toFixed(1)} req/s`, yLabel: (y) => `$${y.toFixed(0)}` }),
      barChart({ id: 'compare-bars', title: `At ${params.rate} req/s (${params.synthetic})`, yLabel: (y) => `$${y.toFixed(0)}`, bars: [
        { label: 'serverless', value: result.serverless.usd },
        ...result.candidates.slice(0, 4).map((c) => ({ label: c.instance, value: c.usd, color: '#dc2626' }))] })),
    h('h2', {}, 'Always-on candidates'),
    table(['Instance', 'Count', 'Servers', 'USD/hour', 'USD', 'p95 ms at peak', 'Mean utilisation'],
      result.candidates.map((c) => [c.instance, num(c.count), num(c.servers), num(c.hourly_usd.toFixed(3)), num(usd(c.usd)), num(c.p95_ms_at_peak.toFixed(1)), num(`${(100 * c.mean_utilisation).toFixed(1)}%`)])));
}

function compareForm(out) {
  const synthetic = h('select', { id: 'cmp-synthetic' }, ['constant', 'diurnal', 'bursty', 'intermittent'].map((k) => h('option', { value: k }, k)));
  const rate = h('input', { id: 'cmp-rate', type: 'number', step: 'any', value: 5 });
  const service = h('input', { id: 'cmp-service', type: 'number', step: 'any', value: 120 });
  const memory = h('input', { id: 'cmp-memory', type: 'number', value: 512 });
  const days = h('input', { id: 'cmp-days', type: 'number', step: 'any', value: 30 });
  const form = h('form', { class: 'inline', id: 'compare-form' },
    h('label', {}, 'Traffic', synthetic), h('label', {}, 'Mean rate (req/s)', rate), h('label', {}, 'Service time (ms)', service),
    h('label', {}, 'Memory (MB)', memory), h('label', {}, 'Days', days), h('button', { type: 'submit' }, 'Compare'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const params = { synthetic: synthetic.value, rate: Number(rate.value), service_ms: Number(service.value), memory_mb: Number(memory.value), days: Number(days.value) };
    guarded(async () => comparisonView(out, await api('POST', '/v1/cost/compare', params), params));
  });
  return form;
}

export async function render(view) {
  const cost = await get('/v1/cost');
  const out = h('div', { id: 'compare-result' });
  clear(view, h('h1', {}, 'Cost this month'), billTables(cost),
    h('h2', {}, 'Serverless or always-on?'),
    h('p', { class: 'muted' }, 'Prices a synthetic month of traffic both ways (the same model as `stratus cost compare`).'),
    compareForm(out), out);
}
