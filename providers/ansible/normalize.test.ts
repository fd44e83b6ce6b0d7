import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SecretRegistry } from '../../engine/provider-kit.ts';
import { buildDocument, buildHostPlans, changeNames, fingerprintOf, hostStatuses, summaryOf, uncertainNames, uncertainTasks } from './document.ts';
import { normalizeRun, type HostRun } from './normalize.ts';
import { parsePlaybookOutput } from './output-schema.ts';
import type { PreflightFinding } from './preflight.ts';
import { renderPlan } from './render.ts';

// Recorded outputs of the real ansible-playbook 2.14 with the ansible.posix.json
// callback, against three sshd hosts and one address nobody listens on.
const fixture = (name: string) => parsePlaybookOutput(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const ROOT = '/tmp/exp/inv';

function documentOf(runs: Map<string, HostRun>, findings: PreflightFinding[] = []) {
  return buildDocument({
    inventory: 'inventories/web/hosts.yml',
    playbook: 'inventories/web/site.yml',
    knownHostsFile: 'inventories/web/known_hosts',
    config: null,
    hosts: buildHostPlans(runs, findings),
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

// Recorded the same way, with a workspace at /tmp/i9exp/tree whose `roles`
// links into the snapshot /tmp/i9exp/snap, as in a Plumbline run; the
// inventory also has a `db` group whose host nobody listens for.
const ROOTS = ['/tmp/i9exp/tree', '/tmp/i9exp/snap'];

test('an empty loop and a false when are skipped; command, shell and raw are unknown, never changes', () => {
  const runs = normalizeRun(fixture('check-skipped-uncertain.json'), { roots: ROOTS });
  const host = runs.get('host-1')!;
  assert.deepEqual(
    host.tasks.map((t) => [t.task, t.status, t.path]),
    [
      ['webserver : index page', 'changed', 'roles/webserver/tasks/main.yml:1'],
      ['webserver : reload the web server', 'unknown', 'roles/webserver/tasks/main.yml:5'],
      ['motd', 'changed', 'site.yml:9'],
      ['rebuild the search index', 'unknown', 'site.yml:18'],
      ['ping the load balancer', 'unknown', 'site.yml:20'],
    ],
    'the empty loop (extra pages) and the false when (optional settings) are not listed',
  );
  assert.deepEqual(host.counts, { ok: 0, changed: 2, unknown: 3, failed: 0, unreachable: 0, skipped: 2 });
  assert.equal(host.state, 'changed');
  assert.equal(host.message, 'changes: webserver : index page, motd; cannot be checked in check mode: webserver : reload the web server, rebuild the search index, ping the load balancer');

  const document = documentOf(runs);
  assert.deepEqual(summaryOf(document), { add: 0, change: 6, destroy: 0, replace: 0 }, 'only the 2 changing tasks on 3 hosts count');
  assert.deepEqual(changeNames(document).slice(0, 2), ['host-1 => webserver : index page', 'host-1 => motd']);
  assert.equal(uncertainNames(document).length, 9);
  assert.deepEqual(uncertainNames(document).slice(0, 3), [
    'host-1 => webserver : reload the web server',
    'host-1 => rebuild the search index',
    'host-1 => ping the load balancer',
  ]);
  assert.deepEqual(
    document.uncertain.map((u) => [u.task, u.hosts.join(',')]),
    [
      ['webserver : reload the web server', 'host-1,host-2,host-3'],
      ['rebuild the search index', 'host-1,host-2,host-3'],
      ['ping the load balancer', 'host-1,host-2,host-3'],
    ],
  );
  assert.ok(document.hosts.every((h) => h.tasks.every((t) => t.status !== 'unknown')), 'unknown tasks are listed apart, not under the hosts');
  const text = renderPlan(document);
  assert.match(text, /Cannot be predicted in check mode; they run when the change is applied:\n {2}\? webserver : reload the web server \[ansible\.builtin\.command\] at roles\/webserver\/tasks\/main\.yml:5\n {6}on: host-1, host-2, host-3\n {6}why: Command would have run if not in check mode/);
  assert.match(text, /\? ping the load balancer \[ansible\.builtin\.raw\] at site\.yml:20/);
  assert.doesNotMatch(text, /\/tmp\/i9exp/, 'every path is repository-relative, the snapshot\'s too');
  assert.match(text, /Tasks: 6 would change \(0 removing something\), 9 cannot be predicted in check mode\./);
});

test('a converged inventory whose playbook has commands: every host ok, no changes, the commands listed apart', () => {
  const runs = normalizeRun(fixture('check-converged-uncertain.json'), { roots: ROOTS });
  assert.deepEqual([...runs.values()].map((r) => r.state), ['ok', 'ok', 'ok']);
  assert.equal(runs.get('host-2')!.message, 'cannot be checked in check mode: webserver : reload the web server, rebuild the search index, ping the load balancer');
  const document = documentOf(runs);
  assert.equal(document.hasChanges, false);
  assert.deepEqual(summaryOf(document), { add: 0, change: 0, destroy: 0, replace: 0 });
  assert.deepEqual(changeNames(document), []);
  assert.equal(uncertainNames(document).length, 9);
  assert.deepEqual(hostStatuses(document.hosts).map((h) => h.state), ['ok', 'ok', 'ok']);
  const text = renderPlan(document);
  assert.match(text, /No changes\. The hosts match the repository, as far as check mode can tell\./);
  assert.match(text, /Hosts: 0 changed, 3 ok, 0 failed, 0 unreachable\./);
});

test('only the hosts a play targets are listed: the db group of the inventory is not', () => {
  const runs = normalizeRun(fixture('check-skipped-uncertain.json'), { roots: ROOTS });
  assert.deepEqual([...runs.keys()].sort(), ['host-1', 'host-2', 'host-3']);
  const document = documentOf(runs);
  assert.deepEqual(document.hosts.map((h) => h.name), ['host-1', 'host-2', 'host-3']);
  assert.equal(document.totals.hosts, 3);
  assert.deepEqual(document.unreachable, []);
  assert.match(renderPlan(document), /\(3 hosts targeted\)/);
});

test('a run_once assert that aborts the play: the hosts that never ran the rest say so', () => {
  const runs = normalizeRun(fixture('check-run-once-abort.json'));
  assert.deepEqual(
    [...runs.values()].map((r) => [r.name, r.state]),
    [
      ['host-1', 'failed'],
      ['host-2', 'failed'],
      ['host-3', 'failed'],
    ],
  );
  assert.equal(runs.get('host-1')!.message, 'the release is set: release must be set');
  for (const name of ['host-2', 'host-3']) {
    assert.equal(runs.get(name)!.message, 'did not run to the end: the play stopped when "the release is set" failed on host-1 (run once for all hosts)');
  }
  const document = documentOf(runs);
  assert.equal(document.hasChanges, true);
  assert.equal(document.totals.failed, 3);
  assert.match(renderPlan(document), /== host-2: failed[^\n]*\n {3}did not run to the end: the play stopped when "the release is set" failed on host-1/);
});

test('a run_once task that fails only under ignore_errors, or a failure other hosts also ran, stops nobody else', () => {
  const raw = JSON.parse(readFileSync(new URL('./fixtures/check-run-once-abort.json', import.meta.url), 'utf8'));
  raw.stats['host-1'].failures = 0;
  raw.stats['host-1'].ignored = 1;
  const ignored = normalizeRun(parsePlaybookOutput(JSON.stringify(raw)));
  assert.deepEqual([...ignored.values()].map((r) => r.state), ['changed', 'changed', 'changed']);
  // check-mixed: "refuse on web-2" fails on web-2 only, the others skip it and go on.
  const mixed = normalizeRun(fixture('check-mixed.json'));
  assert.deepEqual([...mixed.values()].map((r) => [r.name, r.state]), [
    ['web-1', 'changed'],
    ['web-2', 'failed'],
    ['web-3', 'changed'],
    ['web-9', 'unreachable'],
  ]);
});

test('hosts Ansible could not reach: the preflight\'s finding says why (a changed host key, by fingerprint)', () => {
  // hosts: all, with db-1 down and host-3 offering a key known_hosts does not hold.
  const runs = normalizeRun(fixture('check-unreachable.json'));
  assert.deepEqual([...runs.values()].map((r) => [r.name, r.state]).sort(), [
    ['db-1', 'unreachable'],
    ['host-1', 'changed'],
    ['host-2', 'changed'],
    ['host-3', 'unreachable'],
  ]);
  assert.match(runs.get('db-1')!.message ?? '', /Connection refused/);
  const finding: PreflightFinding = {
    host: 'host-3',
    address: '127.0.0.62',
    port: 2260,
    reachable: false,
    hostKey: 'changed',
    fingerprint: 'SHA256:NOhP5ow6XOVBZAmdtMBciedpjCOCTiJNyqO7HsgpDhs',
    keyType: 'ssh-ed25519',
    message: 'host-3: host key verification failed: [127.0.0.62]:2260 offers ssh-ed25519 SHA256:NOhP5ow6XOVBZAmdtMBciedpjCOCTiJNyqO7HsgpDhs',
    durationMs: 12,
  };
  const document = documentOf(runs, [finding]);
  assert.deepEqual(document.unreachable, ['db-1', 'host-3']);
  assert.equal(document.hasChanges, true);
  const third = document.hosts.find((h) => h.name === 'host-3')!;
  assert.equal(third.message, finding.message);
  assert.equal(third.preflight?.fingerprint, finding.fingerprint);
  assert.match(document.hosts.find((h) => h.name === 'db-1')!.message ?? '', /Connection refused/, 'without a finding, Ansible\'s own word');
});
