import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { silentLogger } from '../log.ts';
import { secrets } from '../secrets.ts';
import { Notifier } from './notifier.ts';

// A real HTTP receiver on loopback that fails the first request of each event.
let server: Server;
let url: string;
const received: Array<{ status: number; body: Record<string, unknown> }> = [];
const failFirst = new Set<string>();

before(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      const key = String(body.event) + String(body.planId);
      const status = failFirst.has(key) ? 500 : 204;
      failFirst.delete(key);
      received.push({ status, body });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address() as { port: number };
  url = `http://127.0.0.1:${address.port}/hook/s3cr3t-path-token`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

test('events reach subscribed webhooks, retried after a 500, masked, with a Slack-compatible text', async () => {
  secrets.add('p4ssw0rd-in-a-message');
  const notifier = new Notifier([{ url, events: ['failed', 'applied'] }], silentLogger, { firstDelayMs: 20 });
  failFirst.add('failedweb-1');
  notifier.fromHistory({ seq: 1, at: 'now', type: 'apply-failed', unit: 'web', revision: 'a'.repeat(40), planId: 'web-1', message: 'bad p4ssw0rd-in-a-message' });
  notifier.fromHistory({ seq: 2, at: 'now', type: 'planned', unit: 'web', revision: null, planId: 'web-2', message: 'not subscribed' });
  notifier.fromHistory({ seq: 3, at: 'now', type: 'applied', unit: 'web', revision: null, planId: 'web-3', message: 'ok' });
  await notifier.drain();
  assert.deepEqual(received.map((r) => [r.body.event, r.status]), [['failed', 500], ['failed', 204], ['applied', 204]]);
  const delivered = received[1]!.body;
  assert.equal(delivered.unit, 'web');
  assert.match(String(delivered.text), /^\[plumbline\] \*web\*: failed at aaaaaaaa/);
  assert.ok(!JSON.stringify(received).includes('p4ssw0rd-in-a-message'));
});

test('an unreachable webhook never throws and gives up after its attempts', async () => {
  const notifier = new Notifier([{ url: 'http://127.0.0.1:9/nothing', events: ['applied'] }], silentLogger, { firstDelayMs: 5, maxAttempts: 3 });
  notifier.notify({ event: 'applied', unit: 'x', revision: null, planId: null, message: '', at: 'now' });
  await notifier.drain(5000);
});
