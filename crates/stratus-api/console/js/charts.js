// Hand-drawn SVG charts (no library): a line/point chart over time, grouped bars, and a layered
// graph for application DAGs. Everything is built with createElementNS and text nodes.

const NS = 'http://www.w3.org/2000/svg';

export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c'];

function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

// series: [{ name, points: [[x, y], ...] }]; xLabel formats x values.
export function lineChart({ title, series, xLabel = (x) => x, yLabel = (y) => y, width = 560, height = 220, id }) {
  const pad = { l: 56, r: 12, t: 24, b: 32 };
  const all = series.flatMap((s) => s.points);
  const root = svg('svg', { class: 'chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', ...(id ? { id } : {}) });
  root.append(svg('text', { x: pad.l, y: 15, 'font-weight': 600 }, title));
  if (!all.length) {
    root.append(svg('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', fill: '#6b7280' }, 'no data yet'));
    return root;
  }
  const xs = all.map((p) => p[0]);
  let x0 = Math.min(...xs);
  let x1 = Math.max(...xs);
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  const y1 = niceMax(Math.max(...all.map((p) => p[1])));
  const px = (x) => pad.l + ((x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const py = (y) => height - pad.b - (y / y1) * (height - pad.t - pad.b);
  for (let i = 0; i <= 4; i += 1) {
    const y = (y1 * i) / 4;
    root.append(svg('line', { x1: pad.l, x2: width - pad.r, y1: py(y), y2: py(y), stroke: '#e5e7eb' }));
    root.append(svg('text', { x: pad.l - 4, y: py(y) + 4, 'text-anchor': 'end' }, yLabel(y)));
  }
  root.append(svg('text', { x: pad.l, y: height - 10 }, xLabel(x0)));
  root.append(svg('text', { x: width - pad.r, y: height - 10, 'text-anchor': 'end' }, xLabel(x1)));
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const sorted = [...s.points].sort((a, b) => a[0] - b[0]);
    root.append(svg('polyline', { fill: 'none', stroke: color, 'stroke-width': 1.5, points: sorted.map(([x, y]) => `${px(x)},${py(y)}`).join(' ') }));
    for (const [x, y] of sorted) root.append(svg('circle', { cx: px(x), cy: py(y), r: 2.5, fill: color }));
    root.append(svg('text', { x: width - pad.r - 150, y: pad.t + 4 + 14 * i, fill: color }, s.name));
  });
  return root;
}

// bars: [{ label, value }]
export function barChart({ title, bars, yLabel = (y) => y, width = 560, height = 220, id }) {
  const pad = { l: 56, r: 12, t: 24, b: 32 };
  const root = svg('svg', { class: 'chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', ...(id ? { id } : {}) });
  root.append(svg('text', { x: pad.l, y: 15, 'font-weight': 600 }, title));
  if (!bars.length) {
    root.append(svg('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', fill: '#6b7280' }, 'no data yet'));
    return root;
  }
  const y1 = niceMax(Math.max(...bars.map((b) => b.value)));
  const slot = (width - pad.l - pad.r) / bars.length;
  const py = (y) => height - pad.b - (y / y1) * (height - pad.t - pad.b);
  for (let i = 0; i <= 4; i += 1) {
    const y = (y1 * i) / 4;
    root.append(svg('line', { x1: pad.l, x2: width - pad.r, y1: py(y), y2: py(y), stroke: '#e5e7eb' }));
    root.append(svg('text', { x: pad.l - 4, y: py(y) + 4, 'text-anchor': 'end' }, yLabel(y)));
  }
  bars.forEach((b, i) => {
    const x = pad.l + i * slot + slot * 0.15;
    root.append(svg('rect', { x, y: py(b.value), width: slot * 0.7, height: Math.max(0, py(0) - py(b.value)), fill: b.color || COLORS[0] },
      svg('title', {}, `${b.label}: ${yLabel(b.value)}`)));
    root.append(svg('text', { x: x + slot * 0.35, y: height - 12, 'text-anchor': 'middle' }, b.label));
  });
  return root;
}

// A layered DAG: nodes [{ id, label, kind }], edges [[from, to, label?]]. Layers come from the
// longest path from a source, so data flows left to right.
export function dagChart({ nodes, edges, id }) {
  const layer = new Map(nodes.map((n) => [n.id, 0]));
  for (let round = 0; round < nodes.length; round += 1) {
    for (const [from, to] of edges) {
      if (layer.get(to) <= layer.get(from)) layer.set(to, layer.get(from) + 1);
    }
  }
  const columns = [];
  for (const n of nodes) (columns[layer.get(n.id)] ||= []).push(n);
  const boxW = 150;
  const boxH = 34;
  const gapX = 70;
  const gapY = 18;
  const width = Math.max(300, columns.length * (boxW + gapX) + 20);
  const height = Math.max(120, Math.max(...columns.map((c) => c.length)) * (boxH + gapY) + 30);
  const pos = new Map();
  columns.forEach((col, ci) => col.forEach((n, ri) => pos.set(n.id, { x: 10 + ci * (boxW + gapX), y: 20 + ri * (boxH + gapY) })));
  const root = svg('svg', { class: 'chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', ...(id ? { id } : {}) });
  root.append(svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto' },
    svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#6b7280' }))));
  for (const [from, to, label] of edges) {
    const a = pos.get(from);
    const b = pos.get(to);
    if (!a || !b) continue;
    const x1 = a.x + boxW;
    const y1 = a.y + boxH / 2;
    const x2 = b.x;
    const y2 = b.y + boxH / 2;
    root.append(svg('path', { d: `M${x1},${y1} C${x1 + 35},${y1} ${x2 - 35},${y2} ${x2},${y2}`, fill: 'none', stroke: '#6b7280', 'marker-end': 'url(#arrow)' }));
    if (label) root.append(svg('text', { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 4, 'text-anchor': 'middle', fill: '#6b7280' }, label));
  }
  const fills = { bucket: '#dbeafe', function: '#fef3c7', schedule: '#ede9fe', queue: '#dcfce7', topic: '#fce7f3' };
  for (const n of nodes) {
    const p = pos.get(n.id);
    root.append(svg('rect', { x: p.x, y: p.y, width: boxW, height: boxH, rx: 6, fill: fills[n.kind] || '#f3f4f6', stroke: '#9ca3af' }));
    root.append(svg('text', { x: p.x + 8, y: p.y + 14, fill: '#6b7280' }, n.kind));
    root.append(svg('text', { x: p.x + 8, y: p.y + 27, 'font-weight': 600 }, n.label.length > 22 ? `${n.label.slice(0, 21)}…` : n.label));
  }
  return root;
}
