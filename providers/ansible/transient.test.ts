import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostRun } from './normalize.ts';
import { transientlyLost } from './transient.ts';

const counts = { ok: 0, changed: 0, unknown: 0, failed: 0, unreachable: 1, skipped: 0 };
const lost = (name: string, message: string): HostRun => ({ name, state: 'unreachable', counts, tasks: [{ play: 'web', task: 'motd', path: 'site.yml:5', action: 'ansible.builtin.copy', status: 'unreachable', destructive: false, noLog: false, message }], message });

test('only hosts whose connection broke while a module was sent are checked again', () => {
  const runs = new Map<string, HostRun>([
    ['web-1', { name: 'web-1', state: 'ok', counts: { ...counts, unreachable: 0, ok: 2 }, tasks: [] }],
    ['web-2', lost('web-2', 'Data could not be sent to remote host "127.0.0.11". Make sure this host can be reached over ssh: mux_client_request_session: read from master failed: Broken pipe')],
    ['web-3', lost('web-3', 'Failed to connect to the host via ssh: ssh: connect to host 127.0.0.12 port 2222: Connection refused')],
    ['web-4', lost('web-4', 'Failed to connect to the host via ssh: Host key verification failed.')],
  ]);
  assert.deepEqual(transientlyLost(runs), ['web-2']);
});
