// Queues and topics of the project, with their attributes and subscriptions.

import { get } from '../api.js';
import { clear, h, num, table } from '../dom.js';

async function section(title, load) {
  try {
    return [h('h2', {}, title), await load()];
  } catch (err) {
    return [h('h2', {}, title), h('p', { class: 'error' }, err.message)];
  }
}

export async function render(view) {
  const queues = await section('Queues', async () => {
    const { queues: list } = await get('/v1/queues');
    return table(['Name', 'Visible', 'In flight', 'Delayed', 'FIFO', 'URL'],
      list.map((q) => [q.name, num(q.visible ?? '—'), num(q.in_flight ?? '—'), num(q.delayed ?? '—'), q.fifo ? 'yes' : 'no', q.url || '']),
      'No queues yet (create them with the SQS API: aws sqs create-queue).');
  });
  const topics = await section('Topics', async () => {
    const { topics: list } = await get('/v1/topics');
    return table(['Name', 'ARN', 'Subscriptions'],
      list.map((t) => [t.name, t.arn, (t.subscriptions || []).map((s) => h('div', {}, h('span', { class: 'tag' }, s.protocol), ` ${s.endpoint}${s.pending ? ' (pending)' : ''}`))]),
      'No topics yet (create them with the SNS API: aws sns create-topic).');
  });
  clear(view, h('h1', {}, 'Queues and topics'), queues, topics);
}
