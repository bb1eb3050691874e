// Applications (what `stratus apply` created): each drawn as a DAG, buckets → functions →
// buckets, from the app's recorded resources and triggers.

import { get } from '../api.js';
import { dagChart } from '../charts.js';
import { clear, h, when } from '../dom.js';

export function appGraph(resources) {
  const nodes = new Map();
  const edges = [];
  const node = (kind, label) => {
    const id = `${kind}:${label}`;
    if (!nodes.has(id)) nodes.set(id, { id, kind, label });
    return id;
  };
  for (const b of resources.buckets || []) node('bucket', b);
  for (const f of resources.functions || []) {
    const fn = node('function', f.name);
    for (const t of f.triggers || []) {
      if (t.bucket) edges.push([node('bucket', t.bucket), fn, [t.prefix, t.suffix].filter(Boolean).join(' … ')]);
      else if (t.schedule) edges.push([node('schedule', t.schedule), fn]);
    }
    for (const out of f.outputs || []) edges.push([fn, node('bucket', out)]);
  }
  return { nodes: [...nodes.values()], edges };
}

export async function render(view) {
  const { apps } = await get('/v1/apps');
  clear(view, h('h1', {}, 'Applications'),
    apps.length ? null : h('p', { class: 'muted' }, 'No applications yet: `stratus apply app.yaml` creates one.'),
    apps.map((app) => h('section', { class: 'app' },
      h('h2', {}, app.name),
      h('p', { class: 'muted' }, `updated ${when(app.updated_ms)} · manifest ${String(app.manifest_digest || '').slice(0, 12)}`),
      dagChart({ ...appGraph(app.resources), id: `dag-${app.name}` }))));
}
