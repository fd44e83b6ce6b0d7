import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TestDaemon } from '../testkit/daemon.ts';
import { TestRepo } from '../testkit/git-repo.ts';
import { waitFor } from '../testkit/wait.ts';

const SECRET = 'drift-secret-token-5d1e';
const MAIN_TF = [
  'variable "greeting" {',
  '  type = string',
  '}',
  'variable "token" {',
  '  type      = string',
  '  sensitive = true',
  '}',
  'resource "terraform_data" "greeting" {',
  '  input = var.greeting',
  '}',
  'resource "terraform_data" "token" {',
  '  input = sha256(var.token)',
  '}',
  '',
].join('\n');

function stack(name: string, action: 'report' | 'remediate'): Record<string, string> {
  return {
    [`stacks/${name}/stack.yaml`]: `kind: terraform\napproval: auto\nvars:\n  greeting: hello\nsecretVars:\n  token: {env: DRIFT_TEST_TOKEN}\ndrift:\n  interval: 2s\n  action: ${action}\n`,
    [`stacks/${name}/main.tf`]: MAIN_TF,
  };
}

// A webhook receiver that answers 500 to the first delivery of each event type.
let hook: Server;
let hookUrl: string;
const deliveries: Array<{ status: number; body: Record<string, unknown>; raw: string }> = [];
const failedOnce = new Set<string>();

let repo: TestRepo;
let daemon: TestDaemon;
let scratch: string;

before(async () => {
  hook = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      const first = !failedOnce.has(String(body.event));
      failedOnce.add(String(body.event));
      deliveries.push({ status: first ? 500 : 200, body, raw });
      res.writeHead(first ? 500 : 200).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`;

  scratch = mkdtempSync(join(tmpdir(), 'plumbline-drift-'));
  repo = new TestRepo();
  repo.commit({ ...stack('reported', 'report'), ...stack('healed', 'remediate') });
  daemon = await TestDaemon.start({
    sourceUrl: repo.url,
    env: { DRIFT_TEST_TOKEN: SECRET },
    extraConfig: ['notifications:', `  - url: ${hookUrl}`, '    events: [drift-detected, remediated, failed]'].join('\n'),
  });
  await daemon.waitForUnit('reported', 'InSync');
  await daemon.waitForUnit('healed', 'InSync');
});

after(async () => {
  await daemon?.dispose();
  repo?.dispose();
  hook?.close();
  rmSync(scratch, { recursive: true, force: true });
});

function stateGreeting(name: string): string {
  const state = JSON.parse(readFileSync(join(daemon.stateDir, 'units', name, 'terraform.tfstate'), 'utf8'));
  return state.resources.find((r: { name: string }) => r.name === 'greeting').instances[0].attributes.input.value;
}

/** A change made outside Plumbline: terraform apply on the stack's own state with another value. */
function applyOutOfBand(name: string, greeting: string): void {
  const dir = join(scratch, name);
  execFileSync('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'main.tf'), MAIN_TF);
  writeFileSync(join(dir, 'backend.tf'), `terraform {\n  backend "local" {\n    path = "${join(daemon.stateDir, 'units', name, 'terraform.tfstate')}"\n  }\n}\n`);
  const env = { ...process.env, TF_IN_AUTOMATION: '1', TF_CLI_CONFIG_FILE: join(daemon.dir, 'terraformrc') };
  execFileSync('terraform', ['init', '-input=false', '-no-color'], { cwd: dir, env, stdio: 'pipe' });
  execFileSync('terraform', ['apply', '-input=false', '-no-color', '-auto-approve', `-var=greeting=${greeting}`, `-var=token=${SECRET}`], { cwd: dir, env, stdio: 'pipe' });
}

test('report: an out-of-band change is found, shown, and left alone', async () => {
  applyOutOfBand('reported', 'changed by hand');
  const drifted = await daemon.waitForUnit('reported', 'Drifted', { timeoutMs: 60_000 });
  assert.equal(drifted.reason, 'DriftDetected');
  assert.match(drifted.message, /1 to change/);
  const plan = (await daemon.plans('reported')).find((p) => p.id === drifted.planId)!;
  assert.equal(plan.purpose, 'drift');
  assert.equal(plan.status, 'Pending');
  const detail = await daemon.api<{ rendered: string }>(`/api/v1/plans/${plan.id}`);
  assert.match(detail.body.rendered, /changed by hand/);
  assert.match(detail.body.rendered, /hello/);

  // Several more intervals later: still drifted, nothing changed, one drift event only.
  await waitFor(async () => (await daemon.unit('reported'))!.lastDriftCheckAt! > plan.createdAt && Date.now() - Date.parse(plan.createdAt) > 5000, {
    what: 'later drift checks',
    timeoutMs: 30_000,
  });
  assert.equal(stateGreeting('reported'), 'changed by hand', 'report never changes anything');
  assert.equal((await daemon.history('reported')).filter((e) => e.type === 'drift-detected').length, 1);
  assert.equal((await daemon.unit('reported'))!.phase, 'Drifted');
});

test('remediate: the drift is reverted to what Git says, and the next check is clean', async () => {
  applyOutOfBand('healed', 'changed by hand');
  await waitFor(async () => (await daemon.history('healed')).find((e) => e.type === 'remediated'), { what: 'a remediation', timeoutMs: 60_000 });
  assert.equal(stateGreeting('healed'), 'hello');
  const remediatedAt = Date.now();
  const clean = await waitFor(
    async () => {
      const unit = await daemon.unit('healed');
      return unit && unit.phase === 'InSync' && unit.lastDriftCheckAt && Date.parse(unit.lastDriftCheckAt) > remediatedAt ? unit : undefined;
    },
    { what: 'a clean drift check after the remediation', timeoutMs: 30_000 },
  );
  assert.equal(clean.phase, 'InSync');
  assert.ok((await daemon.history('healed')).some((e) => e.type === 'drift-detected'));
});

test('plumbline drift NAME runs a check now', async () => {
  const run = daemon.cli(['drift', 'healed', '--json']);
  const answer = JSON.parse(run.stdout) as { scheduled: string[]; skipped: Array<{ unit: string; why: string }> };
  if (answer.scheduled.includes('healed')) {
    assert.equal(run.code, 0, run.stderr);
  } else {
    // The 2 s schedule may have a check of this unit running already: then it says so, and exits 1.
    assert.equal(run.code, 1);
    assert.match(answer.skipped.find((s) => s.unit === 'healed')?.why ?? '', /in progress/);
  }
  const missing = daemon.cli(['drift', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no unit nope/);
});

test('notifications reach the webhook, retried after a 500, and carry no secret', async () => {
  const delivered = await waitFor(
    () => {
      const ok = deliveries.filter((d) => d.status === 200).map((d) => `${d.body.event}:${d.body.unit}`);
      return ok.includes('drift-detected:reported') && ok.includes('remediated:healed') ? ok : undefined;
    },
    { what: 'drift and remediation notifications', timeoutMs: 60_000 },
  );
  assert.ok(delivered.length >= 2);
  assert.ok(deliveries.some((d) => d.status === 500), 'the first delivery failed and was retried');
  for (const d of deliveries) {
    assert.ok(!d.raw.includes(SECRET), 'no secret in a notification');
    assert.equal(typeof d.body.text, 'string');
  }
  assert.ok(!daemon.logs.includes(SECRET));
});
