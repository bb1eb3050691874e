// Small DOM helpers. Pages build elements with h() and text nodes only, never innerHTML with
// data, so a bucket key or log line can never become markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      el.className = value;
    } else if (name in el && typeof value !== 'string') {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function table(headers, rows, empty = 'Nothing here yet.') {
  if (!rows.length) return h('p', { class: 'muted' }, empty);
  return h('table', {},
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { class: /^[#$]|bytes|size|count|usd|ms|mb/i.test(t) ? 'num' : '' }, t)))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c) => (c instanceof Node && c.tagName === 'TD') ? c : h('td', {}, c))))));
}

export function num(value) {
  return h('td', { class: 'num' }, value);
}

export function bytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${i ? v.toFixed(1) : v} ${units[i]}`;
}

export function usd(n) {
  return `$${Number(n || 0).toFixed(Number(n) !== 0 && Math.abs(n) < 0.01 ? 6 : 2)}`;
}

export function when(ms) {
  return ms ? new Date(ms).toLocaleString() : '—';
}

let flashTimer;
export function flash(message, ok = false) {
  const box = document.getElementById('flash');
  box.textContent = message;
  box.className = ok ? 'ok' : '';
  box.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => { box.hidden = true; }, ok ? 4000 : 10000);
}

// Runs an async action from a button or form; shows its error instead of failing silently.
export async function guarded(action) {
  try {
    return await action();
  } catch (err) {
    flash(err.message || String(err));
    return undefined;
  }
}
