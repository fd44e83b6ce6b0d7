import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SecretRegistry } from '../../engine/secrets.ts';
import { buildDocument, buildHostPlans, fingerprintOf, hostStatuses, summaryOf, uncertainTasks } from './document.ts';
import { normalizeRun, type HostRun } from './normalize.ts';
import { parsePlaybookOutput } from './output-schema.ts';
import { renderPlan } from './render.ts';

// Recorded outputs of the real ansible-playbook 2.14 with the ansible.posix.json
// callback, against three sshd hosts and one address nobody listens on.
const fixture = (name: string) => parsePlaybookOutput(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const ROOT = '/tmp/exp/inv';

function documentOf(runs: Map<string, HostRun>) {
  return buildDocument({
    inventory: 'inventories/web/hosts.yml',
    playbook: 'inventories/web/site.yml',
    knownHostsFile: 'inventories/web/known_hosts',
    config: null,
    hosts: buildHostPlans(runs, []),
    uncertain: uncertainTasks(runs),
    allowUnreachable: false,
  });
}

test('check mode: changed with diff, ok, unknown (command, module without check support), no_log, failed, unreachable', () => {
  const runs = normalizeRun(fixture('check-mixed.json'), { roots: [ROOT] });
  assert.deepEqual(
    [...runs.values()].map((r) => [r.name, r.state]),
    [
      ['web-1', 'changed'],
      ['web-2', 'failed'],
      ['web-3', 'changed'],
      ['web-9', 'unreachable'],
    ],
  );
  const web1 = runs.get('web-1')!;
  assert.deepEqual(
    web1.tasks.map((t) => [t.task, t.status]),
    [
      ['motd', 'changed'],
      ['database settings', 'changed'],
      ['hidden settings', 'changed'],
      ['reload the cache', 'unknown'],
      ['initialize once', 'changed'],
      ['custom module without check mode', 'unknown'],
      ['remove the old file', 'changed'],
      ['pages', 'changed'],
    ],
  );
  assert.deepEqual(web1.counts, { ok: 1, changed: 6, unknown: 2, failed: 0, unreachable: 0, skipped: 1 });
  const motd = web1.tasks[0]!;
  assert.equal(motd.path, 'site.yml:5');
  assert.equal(motd.action, 'ansible.builtin.copy');
  assert.match(motd.diff ?? '', /^\+hello web-1$/m);
  assert.doesNotMatch(motd.diff ?? '', /ansible-local-/, 'temporary file names are not part of a plan');
  const byName = (n: string) => web1.tasks.find((t) => t.task === n)!;
  assert.equal(byName('reload the cache').message, 'Command would have run if not in check mode');
  assert.equal(byName('custom module without check mode').message, 'remote module (nocheck) does not support check mode');
  const hidden = byName('hidden settings');
  assert.equal(hidden.noLog, true);
  assert.equal(hidden.diff, undefined);
  assert.equal(byName('remove the old file').destructive, true);
  assert.equal(byName('remove the old file').destructiveReason, 'state: absent');
  assert.equal(motd.destructive, false);
  assert.deepEqual(byName('pages').items, ['index', 'about']);
  assert.match(byName('pages').diff ?? '', /\+<h1>about<\/h1>/);

  // web-3 already had its motd: the task is ok there, not listed.
  assert.ok(!runs.get('web-3')!.tasks.some((t) => t.task === 'motd'));
  assert.equal(runs.get('web-2')!.message, 'refuse on web-2: web-2 is not ready');
  assert.match(runs.get('web-9')!.message ?? '', /Connection refused/);
});

test('the plan document: summary, destructive, hasChanges, host statuses, masked vaulted values', () => {
  const document = documentOf(normalizeRun(fixture('check-mixed.json'), { roots: [ROOT] }));
  assert.equal(document.hasChanges, true);
  assert.equal(document.destructive, true);
  assert.deepEqual(document.unreachable, ['web-9']);
  // web-1: 6 changing (1 removal); web-2: 5; web-3: 4. The 2 unknown tasks per host are not changes.
  assert.deepEqual(summaryOf(document), { add: 0, change: 5 + 5 + 4, destroy: 1, replace: 0 });
  assert.equal(document.totals.uncheckableTasks, 6);
  assert.deepEqual(
    hostStatuses(document.hosts).map((h) => h.state),
    ['changed', 'failed', 'changed', 'unreachable'],
  );

  // The vaulted db_password (decrypted into the diff) is masked once registered.
  const registry = new SecretRegistry();
  registry.add('TopSecretValue42');
  const masked = registry.maskDeep(document);
  const text = registry.maskText(renderPlan(masked));
  assert.ok(JSON.stringify(document).includes('TopSecretValue42'), 'the raw diff holds the value');
  assert.ok(!JSON.stringify(masked).includes('TopSecretValue42'));
  assert.ok(!text.includes('TopSecretValue42'));
  assert.match(text, /\+password=\(sensitive\)/);
  assert.match(text, /== web-9: unreachable/);
  assert.match(text, /The apply will not start while hosts are unreachable \(allowUnreachable: false\): web-9/);
  assert.match(text, /- remove: remove the old file/);
  assert.match(text, /\(no_log: output and diff hidden\)/);
});

test('the fingerprint ignores timings and temporary file names', () => {
  const a = documentOf(normalizeRun(fixture('check-mixed.json')));
  const raw = JSON.parse(readFileSync(new URL('./fixtures/check-mixed.json', import.meta.url), 'utf8'));
  const shifted = JSON.stringify(raw).replace(/ansible-local-[A-Za-z0-9_]+/g, 'ansible-local-other').replace(/2026-11-22T\d\d:\d\d:\d\d/g, '2030-01-01T00:00:00');
  const b = documentOf(normalizeRun(parsePlaybookOutput(shifted)));
  assert.equal(fingerprintOf(a), fingerprintOf(b));
});

test('a real apply: failures and unreachable hosts per host, the others changed', () => {
  const runs = normalizeRun(fixture('apply-failed-unreachable.json'));
  assert.deepEqual(
    [...runs.values()].map((r) => [r.name, r.state]),
    [
      ['web-1', 'changed'],
      ['web-2', 'failed'],
      ['web-3', 'changed'],
      ['web-9', 'unreachable'],
    ],
  );
  // Outside check mode the command ran: it is a change, not unknown.
  assert.equal(runs.get('web-1')!.tasks.find((t) => t.task === 'reload the cache')?.status, 'changed');
});

test('convergence checks: nothing changes, or the non-idempotent task is named per host', () => {
  const converged = normalizeRun(fixture('verify-converged.json'));
  assert.deepEqual([...converged.values()].map((r) => r.tasks.filter((t) => t.status === 'changed').length), [0, 0]);
  assert.deepEqual([...converged.values()].map((r) => r.state), ['ok', 'ok'], 'tasks check mode cannot predict are not changes');
  assert.deepEqual(
    [...converged.values()].map((r) => r.tasks.filter((t) => t.status === 'unknown').length),
    [2, 2],
    'but they are still listed, as unknown',
  );
  const drifting = normalizeRun(fixture('verify-not-idempotent.json'));
  const changed = [...drifting.values()].flatMap((r) => r.tasks.filter((t) => t.status === 'changed').map((t) => `${r.name} => ${t.task}`));
  assert.deepEqual(changed, ['web-1 => stamp the deploy time', 'web-3 => stamp the deploy time']);
});

test('output that is not the callback\'s JSON is a typed error', () => {
  assert.throws(() => parsePlaybookOutput('PLAY [all] ****\n'), { code: 'E_ANSIBLE_OUTPUT' });
  assert.throws(() => parsePlaybookOutput('{"plays": "nope", "stats": {}}'), { code: 'E_ANSIBLE_OUTPUT' });
  const noisy = `[DEPRECATION] something\n${JSON.stringify({ plays: [], stats: {} })}\n`;
  assert.deepEqual(parsePlaybookOutput(noisy).stats, {});
});

test('callbacks a repository\'s ansible.cfg enables print around the result: it is still found', () => {
  // A real run with `callbacks_enabled = ansible.posix.profile_tasks, ansible.posix.timer`.
  const output = parsePlaybookOutput(readFileSync(new URL('./fixtures/check-with-profile-tasks.txt', import.meta.url), 'utf8'));
  assert.deepEqual(Object.keys(output.stats), ['host-1']);
  assert.equal(output.plays[0]!.tasks[0]!.task.name, 'motd');
});
