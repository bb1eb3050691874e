// Overview: who you are, what the project holds, this month's cost, and what failed recently.

import { get, session } from '../api.js';
import { bytes, clear, h, num, table, usd, when } from '../dom.js';

// Object count and bytes of a bucket, paging through the listing (capped: an overview must
// stay quick; the figure says when it is a lower bound).
async function bucketUsage(name) {
  let after = '';
  let objects = 0;
  let total = 0;
  for (let page = 0; page < 20; page += 1) {
    const listing = await get(`/v1/buckets/${encodeURIComponent(name)}/objects?after=${encodeURIComponent(after)}`);
    objects += listing.objects.length;
    total += listing.objects.reduce((sum, o) => sum + o.size, 0);
    if (!listing.next_after) return { objects, bytes: total, partial: false };
    after = listing.next_after;
  }
  return { objects, bytes: total, partial: true };
}

function card(label, value, id) {
  return h('div', { class: 'card', id }, h('div', { class: 'muted' }, label), h('div', { class: 'big' }, value));
}

export async function render(view) {
  const [buckets, functions, cost, events] = await Promise.all([
    get('/v1/buckets'), get('/v1/functions'), get('/v1/cost'), get('/v1/events?limit=200'),
  ]);
  const usage = await Promise.all(buckets.buckets.map((b) => bucketUsage(b.name)));
  const objects = usage.reduce((s, u) => s + u.objects, 0);
  const stored = usage.reduce((s, u) => s + u.bytes, 0);
  const partial = usage.some((u) => u.partial) ? '+' : '';
  const deadLetters = (await Promise.all(functions.functions.map(async (f) => {
    const dl = await get(`/v1/functions/${encodeURIComponent(f.name)}/dead-letters`);
    return dl.dead_letters.map((d) => ({ ...d, function: f.name }));
  }))).flat();
  const failed = events.events.filter((e) => e.state === 'failed');
  clear(view,
    h('h1', {}, `Project ${session.project}`),
    h('div', { class: 'cards' },
      card('Role', session.role + (session.operator ? ' (operator)' : ''), 'card-role'),
      card('Buckets', buckets.buckets.length, 'card-buckets'),
      card('Objects', `${objects}${partial}`, 'card-objects'),
      card('Stored', bytes(stored) + partial, 'card-bytes'),
      card('Functions', functions.functions.length, 'card-functions'),
      card('Cost this month', usd(cost.totals.usd), 'card-cost')),
    h('h2', {}, 'Recent errors'),
    h('h3', {}, 'Failed event deliveries'),
    table(['When', 'Bucket', 'Key', 'Event', 'Target', 'Failure'],
      failed.slice(0, 20).map((e) => [when(e.created_ms), e.bucket, e.key, e.event_name, e.target, e.failure]),
      'No failed deliveries.'),
    h('h3', {}, 'Dead letters (asynchronous invocations that exhausted their retries)'),
    table(['Accepted', 'Function', 'Attempts', 'Error'],
      deadLetters.slice(0, 20).map((d) => [when(d.accepted_ms), d.function, num(d.attempts), d.error || '']),
      'No dead letters.'));
}
