// The SPACE4AI planner: upload (or paste) an instance or application spec in JSON or YAML,
// POST it to /v1/plan, and show the placement with its cost.

import { raw } from '../api.js';
import { clear, guarded, h, num, table, usd } from '../dom.js';

function showPlan(out, plan) {
  // components and paths are objects keyed by name.
  const components = Object.entries(plan.components || {});
  const rows = [];
  for (const [name, c] of components) {
    for (const p of c.partitions || []) rows.push([name, c.deployment ?? '', p.partition, p.resource, p.layer ?? '', p.kind, num(p.nodes ?? '')]);
  }
  const fixed = (v) => (typeof v === 'number' ? v.toFixed(3) : '—');
  clear(out,
    h('div', { class: 'cards' },
      h('div', { class: 'card', id: 'plan-cost' }, h('div', { class: 'muted' }, 'Total cost'), h('div', { class: 'big' }, usd(plan.total_cost))),
      h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Feasible'), h('div', { class: 'big' }, plan.feasible ? 'yes' : 'no')),
      h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Optimal'), h('div', { class: 'big' }, plan.optimal ? 'yes' : `gap ${(100 * (plan.gap || 0)).toFixed(1)}%`))),
    h('h2', {}, 'Placement'),
    table(['Component', 'Deployment', 'Partition', 'Resource', 'Layer', 'Kind', 'Nodes'], rows, 'The plan places nothing.'),
    h('h2', {}, 'Response times'),
    table(['Component or path', 'Response time s', 'Threshold s'], [
      ...components.map(([name, c]) => [name, num(fixed(c.response_time)), num(fixed(c.threshold))]),
      ...Object.entries(plan.paths || {}).map(([name, p]) => [`path ${name}`, num(fixed(p.response_time)), num(fixed(p.threshold))])]));
}

export async function render(view) {
  const file = h('input', { type: 'file', id: 'plan-file', accept: '.json,.yaml,.yml' });
  const text = h('textarea', { id: 'plan-spec', rows: 14, placeholder: 'Paste a SPACE4AI instance (JSON) or application spec (YAML), or choose a file.' });
  const out = h('div', { id: 'plan-result' });
  file.addEventListener('change', async () => { if (file.files[0]) text.value = await file.files[0].text(); });
  const form = h('form', { class: 'stack', id: 'plan-form' }, h('label', {}, 'Spec file', file), text, h('button', { type: 'submit' }, 'Plan'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    guarded(async () => {
      clear(out, h('p', { class: 'muted' }, 'Solving…'));
      const isJson = text.value.trim().startsWith('{');
      const response = await raw('POST', '/v1/plan', { body: text.value, headers: { 'Content-Type': isJson ? 'application/json' : 'application/yaml' } });
      showPlan(out, await response.json());
    }).then(() => { if (out.textContent === 'Solving…') clear(out); });
  });
  clear(view, h('h1', {}, 'Planner'), h('p', { class: 'muted' }, 'Placement of an AI application across edge, cloud and serverless resources, minimising cost under response-time limits (see docs/planner.md).'), form, out);
}
