import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { secrets } from '../secrets.ts';
import { main } from './main.ts';
import { captureIO, createFakeEngine, REV_B, startFakeServer, TEST_TOKEN, type FakeEngine } from '../../testkit/fake-engine.ts';

const SECRET = 'hunter2-secret';

describe('plumbline CLI against the API', () => {
  let engine: FakeEngine;
  let server: { url: string; port: number; close(): Promise<void> };
  let dir: string;
  const cwd = process.cwd();

  before(async () => {
    secrets.add(SECRET);
    delete process.env.PLUMBLINE_SERVER;
    delete process.env.PLUMBLINE_TOKEN;
    dir = await mkdtemp(join(tmpdir(), 'plumbline-cli-'));
    process.chdir(dir); // no ./plumbline.yaml to pick up
    engine = createFakeEngine();
    server = await startFakeServer(engine);
  });
  after(async () => {
    process.chdir(cwd);
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    engine.undecide('web-2');
  });

  async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    return runIn(undefined, ...args);
  }

  /** As run, in a terminal `columns` wide (undefined: stdout is a pipe). */
  async function runIn(columns: number | undefined, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const io = captureIO(columns);
    const code = await main(['node', 'plumbline', ...args, '--server', server.url, '--token', TEST_TOKEN], io);
    return { code, out: io.out, err: io.err };
  }

  it('show and approve take a change set id, or any unique prefix of it such as the 8 characters status prints', async () => {
    for (const [ref, id] of [['cs-bbbbbbbbbbbb', 'cs-bbbbbbbbbbbb'], ['cs-bbbbbbbb', 'cs-bbbbbbbbbbbb'], ['cs-bbbbc', 'cs-bbbbcccc0000']] as const) {
      const shown = await run('show', ref);
      assert.equal(shown.code, 0, shown.err);
      assert.match(shown.out, new RegExp(`Change set ${id}`));
      const approved = await run('approve', ref);
      assert.equal(approved.code, 0, approved.err);
      assert.deepEqual(engine.calls.at(-1), { method: 'approveChangeSet', args: [id, 'bootstrap'] });
    }
    const missing = await run('show', 'cs-000000000000');
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no change set/);
    const ambiguous = await run('show', 'cs-bbbb');
    assert.equal(ambiguous.code, 1);
    assert.match(ambiguous.err, /^error: cs-bbbb names 2 change sets: cs-bbbbbbbbbbbb, cs-bbbbcccc0000$/m);
    assert.match(ambiguous.err, /^hint: give more characters of the commit \(plumbline changesets lists them\)$/m);
  });

  it('changesets lists change sets: id, revision, created, approved by, units', async () => {
    const { code, out, err } = await run('changesets');
    assert.equal(code, 0, err);
    const lines = out.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID\s+REVISION\s+CREATED\s+APPROVED BY\s+UNITS$/);
    assert.match(lines[1]!, /^cs-bbbbbbbbbbbb\s+b2c3d4e5\s+2024-05-01 10:00:00Z\s+-\s+web$/);
    assert.match(lines[2]!, /^cs-bbbbcccc0000\s+bbbbcccc\s+2024-05-01 09:00:00Z\s+carol\s+db, web$/);
    const json = await run('changesets', '--json');
    assert.deepEqual(
      (JSON.parse(json.out) as Array<{ id: string }>).map((c) => c.id),
      ['cs-bbbbbbbbbbbb', 'cs-bbbbcccc0000'],
    );
  });

  it('status --json prints {units, source}', async () => {
    const { code, out, err } = await run('status', '--json');
    assert.equal(code, 0, err);
    const parsed = JSON.parse(out);
    assert.deepEqual(Object.keys(parsed), ['units', 'source']);
    assert.equal(parsed.units.length, 2);
    assert.deepEqual(
      parsed.units.map((u: { name: string }) => u.name),
      ['web', 'db'],
    );
    assert.equal(parsed.units[0].phase, 'AwaitingApproval');
    assert.equal(parsed.source.branch, 'main');
    assert.ok(!out.includes(SECRET), 'the server masks secrets');
  });

  it('status prints an aligned table', async () => {
    const { code, out } = await run('status');
    assert.equal(code, 0);
    const lines = out.trimEnd().split('\n');
    const header = lines.find((l) => l.startsWith('NAME'))!;
    assert.match(header, /^NAME\s+KIND\s+PHASE\s+REVISION\s+PLAN\s+MESSAGE$/);
    const web = lines.find((l) => l.startsWith('web '))!;
    assert.match(web, /^web\s+terraform\s+AwaitingApproval\s+b2c3d4e5\s+web-2\s+plan web-2 waits/);
    assert.equal(web.indexOf('AwaitingApproval'), header.indexOf('PHASE'));
    assert.match(lines[0]!, /^source\s+file:\/\/\/srv\/infra.git \(main\)\s+Ready/);
  });

  it('plans lists plans as JSON or as a table, filtered by unit', async () => {
    const json = await run('plans', '--json', '--unit', 'web');
    assert.equal(json.code, 0);
    const plans = JSON.parse(json.out);
    assert.ok(Array.isArray(plans));
    assert.deepEqual(
      plans.map((p: { id: string }) => p.id),
      ['web-1', 'web-2'],
    );

    const { code, out } = await run('plans');
    assert.equal(code, 0);
    const [header, ...rows] = out.trimEnd().split('\n');
    assert.match(header!, /^ID\s+UNIT\s+REVISION\s+STATUS\s+\+ADD\s+~CHANGE\s+-DESTROY\s+±REPLACE\s+CREATED$/);
    assert.equal(rows.length, 3);
    assert.match(rows.find((r) => r.startsWith('web-2'))!, /^web-2\s+web\s+b2c3d4e5\s+Pending\s+2\s+1\s+0\s+0\s+2024-05-01 10:00:00Z$/);
  });

  it('show prints the plan header and the rendered text', async () => {
    const { code, out } = await run('show', 'web-2');
    assert.equal(code, 0);
    assert.match(out, /^plan\s+web-2$/m);
    assert.match(out, /^unit\s+web \(terraform\)$/m);
    assert.match(out, new RegExp(`^revision\\s+${REV_B}$`, 'm'));
    assert.match(out, /^status\s+Pending$/m);
    assert.match(out, /^summary\s+\+2 ~1 -0 ±0$/m);
    assert.match(out, /^approval\s+manual$/m);
    assert.match(out, /^apply at\s+- \(waits for approval: plumbline approve web-2\)$/m);
    assert.match(out, /\+ aws_instance\.web/);
    assert.ok(!out.includes(SECRET));

    const json = await run('show', 'web-2', '--json');
    assert.equal(JSON.parse(json.out).plan.id, 'web-2');
  });

  it('show of a drift plan states the action that follows, consistently with the policy line', async () => {
    const base = engine.plans.get('web-2')!;
    engine.plans.set('web-drift', { ...base, id: 'web-drift', approval: 'auto', purpose: 'drift', driftAction: 'report', warnings: ['Value for undeclared variable'] });
    engine.plans.set('web-heal', { ...base, id: 'web-heal', approval: 'auto', purpose: 'drift', driftAction: 'remediate' });
    try {
      const report = await run('show', 'web-drift');
      assert.equal(report.code, 0, report.err);
      assert.match(report.out, /^purpose\s+drift found by a check; action report: it waits for approval/m);
      assert.match(report.out, /^approval\s+auto, but drift action report: waits for approval$/m);
      assert.match(report.out, /^warning\s+Value for undeclared variable$/m);
      const heal = await run('show', 'web-heal');
      assert.match(heal.out, /^purpose\s+drift found by a check; action remediate/m);
      assert.match(heal.out, /^approval\s+auto$/m);
    } finally {
      engine.plans.delete('web-drift');
      engine.plans.delete('web-heal');
    }
  });

  it('status names a damaged store record that was moved aside', async () => {
    const status = engine.status;
    engine.status = async () => ({ ...(await status()), damaged: [{ file: 'store/units/web.json', movedTo: 'store/damaged/units-web-1.json', error: 'Unexpected end of JSON input' }] });
    try {
      const { code, out } = await run('status');
      assert.equal(code, 0);
      assert.match(out, /^damaged store record store\/units\/web\.json \(Unexpected end of JSON input\) was moved aside to store\/damaged\/units-web-1\.json; what it held was planned again$/m);
    } finally {
      engine.status = status;
    }
  });

  it('show of an unknown plan prints error and hint, exit 1', async () => {
    const { code, out, err } = await run('show', 'nope');
    assert.equal(code, 1);
    assert.equal(out, '');
    assert.match(err, /^error: no plan nope$/m);
    assert.match(err, /^hint: list plans with `plumbline plans`$/m);
  });

  it('approve of a superseded plan prints the server 409 message, exit 1', async () => {
    const { code, err } = await run('approve', 'web-1');
    assert.equal(code, 1);
    assert.match(err, /^error: plan web-1 is Superseded, only a Pending plan can be decided$/m);
    assert.match(err, /^hint: look for the newer plan/m);
  });

  it('approve and reject a pending plan, as the token’s name; --by is still accepted, and said to be ignored', async () => {
    const approved = await run('approve', 'web-2', '--by', 'alice');
    assert.equal(approved.code, 0, approved.err);
    assert.match(approved.out, /^plan web-2 \(web at b2c3d4e5\) approved by bootstrap; status Approved$/m);
    assert.match(approved.err, /^note: --by is ignored: the daemon records the name of the token used$/m);
    assert.deepEqual(engine.calls.at(-1), { method: 'approve', args: ['web-2', 'bootstrap'] });

    engine.undecide('web-2');
    const rejected = await run('reject', 'web-2', '--reason', 'wrong window', '--json');
    assert.equal(rejected.code, 0, rejected.err);
    assert.equal(JSON.parse(rejected.out).status, 'Rejected');
    const call = engine.calls.at(-1)!;
    assert.equal(call.method, 'reject');
    assert.equal(call.args[2], 'wrong window');
    assert.equal(call.args[1], 'bootstrap');
    assert.equal(rejected.err, '', 'no note without --by');
  });

  it('approving a plan already approved or applied, or rejecting one already rejected, decides nothing: exit 1', async () => {
    assert.equal((await run('approve', 'web-2')).code, 0);
    const again = await run('approve', 'web-2');
    assert.equal(again.code, 1);
    assert.equal(again.out, '');
    assert.match(again.err, /^error: plan web-2 is Approved, only a Pending plan can be decided$/m);

    const applied = await run('approve', 'db-1');
    assert.equal(applied.code, 1);
    assert.match(applied.err, /^error: plan db-1 is Applied/m);

    // An approved plan can still be rejected (before it applies); a rejected one only once.
    const rejected = await run('reject', 'web-2');
    assert.equal(rejected.code, 0, rejected.err);
    assert.match(rejected.out, /^plan web-2 \(web at b2c3d4e5\) rejected by bootstrap; status Rejected$/m);
    const twice = await run('reject', 'web-2', '--json');
    assert.equal(twice.code, 1);
    const error = JSON.parse(twice.out).error;
    assert.equal(error.code, 'E_PLAN_NOT_PENDING');
    assert.ok(!('retry' in error), 'trying again cannot change this answer');
  });

  it('status never cuts a message: wrapped to the terminal, whole in a pipe', async () => {
    const instruction = 'fix the definition (plumbline validate lists every problem) and push a commit';
    const long = `plan of b2c3d4e5 failed because the variable environment is not declared by the stack; ${instruction}`;
    const multi = `terraform plan failed:\nError: Unsupported argument\n  on main.tf line 3\n(hint: ${instruction})`;
    const status = engine.status;
    engine.status = async () => {
      const answer = await status();
      answer.units[0]!.message = long;
      answer.units[1]!.message = multi;
      return answer;
    };
    try {
      const piped = await runIn(undefined, 'status');
      assert.equal(piped.code, 0, piped.err);
      const web = piped.out.split('\n').find((l) => l.startsWith('web '))!;
      assert.ok(web.endsWith(long), web);
      const db = piped.out.split('\n').find((l) => l.startsWith('db '))!;
      assert.ok(db.endsWith(`terraform plan failed: … (hint: ${instruction})`), db);

      const terminal = await runIn(80, 'status');
      const lines = terminal.out.trimEnd().split('\n');
      const table = lines.slice(lines.findIndex((l) => l.startsWith('NAME')));
      assert.ok(table.every((l) => l.length <= 80), table.join('\n'));
      const column = table[0]!.indexOf('MESSAGE');
      const message = (name: string): string => {
        const start = table.findIndex((l) => l.startsWith(`${name} `));
        const rest = table.slice(start + 1);
        const end = rest.findIndex((l) => !l.startsWith(' '.repeat(column)));
        const more = end === -1 ? rest : rest.slice(0, end);
        return [table[start]!, ...more].map((l) => l.slice(column).trim()).join(' ');
      };
      assert.equal(message('web'), long);
      assert.ok(message('db').endsWith(instruction + ')'), message('db'));
    } finally {
      engine.status = status;
    }
  });

  it('history filters by unit and limit', async () => {
    const { code, out } = await run('history', 'web', '--limit', '1', '--json');
    assert.equal(code, 0);
    const events = JSON.parse(out);
    assert.equal(events.length, 1);
    assert.deepEqual(engine.calls.at(-1), { method: 'history', args: [{ unit: 'web', limit: 1 }] });

    const table = await run('history');
    assert.match(table.out, /^SEQ\s+AT\s+TYPE\s+UNIT\s+REVISION\s+PLAN\s+MESSAGE$/m);
    assert.match(table.out, /^\s*4\s+2024-05-01 10:04:00Z\s+planned\s+db\s+b2c3d4e5\s+-\s+event 4$/m);

    const bad = await run('history', '--limit', 'x');
    assert.equal(bad.code, 1);
    assert.match(bad.err, /--limit/);
  });

  it('plans and history page with --limit and --before, through the API', async () => {
    assert.equal((await run('plans', '--unit', 'web', '--limit', '5', '--before', 'web-2')).code, 0);
    assert.deepEqual(engine.calls.at(-2), { method: 'listPlans', args: [{ unit: 'web', limit: 5, before: 'web-2' }] });
    assert.equal((await run('history', '--limit', '2', '--before', '40')).code, 0);
    assert.deepEqual(engine.calls.at(-1), { method: 'history', args: [{ limit: 2, before: 40 }] });
    const tooMany = await run('plans', '--limit', '20000');
    assert.equal(tooMany.code, 1);
  });

  it('cluster lists the members, the leader, heartbeats and the runs each holds', async () => {
    const text = await run('cluster');
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /^MEMBER\s+ROLE\s+HEARTBEAT\s+RUNS$/m);
    assert.match(text.out, /^ctl-1\s+leader\s+2024-05-01 10:05:00Z\s+apply web$/m);
    assert.match(text.out, /^ctl-2\s+lapsed\s+2024-05-01 10:04:10Z\s+-$/m);
    const json = JSON.parse((await run('cluster', '--json')).out) as { members: Array<{ name: string; leader: boolean }> };
    assert.deepEqual(json.members.map((m) => [m.name, m.leader]), [['ctl-1', true], ['ctl-2', false]]);
  });

  it('why lists what a unit reads, as a table or JSON; an unknown unit is exit 1', async () => {
    const text = await run('why', 'web');
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /^web reads \(at aaaaaaaa\):$/m);
    assert.match(text.out, /^roles\/nginx\s+role "nginx" of site\.yml$/m);
    assert.match(text.out, /^watch: shared\/\*\.json$/m);
    assert.match(text.out, /^note: include_tasks/m);
    const json = await run('why', 'web', '--json');
    assert.deepEqual((JSON.parse(json.out) as { entries: Array<{ path: string }> }).entries.map((e) => e.path), ['inventories/web', 'roles/nginx']);
    const unknown = await run('why', 'nope');
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /no unit nope/);
  });

  it('sync passes --allow-rewrite', async () => {
    const { code, out } = await run('sync', '--allow-rewrite');
    assert.equal(code, 0);
    assert.equal(out, 'synced to b2c3d4e5; scheduled 2 units: web, db\n');
    assert.deepEqual(engine.calls.at(-1), { method: 'sync', args: [{ allowRewrite: true }, 'bootstrap'] });
    const json = await run('sync', '--json');
    assert.deepEqual(JSON.parse(json.out), { revision: REV_B, scheduled: ['web'] });
  });

  /** As run, with another token than the bootstrap one. */
  async function runAs(token: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const io = captureIO();
    const code = await main(['node', 'plumbline', ...args, '--server', server.url, '--token', token], io);
    return { code, out: io.out, err: io.err };
  }

  it('token create prints the new token alone on standard output, once; list never shows it; revoke stops it at once', async () => {
    const created = await run('token', 'create', 'ci', '--role', 'approver', '--units', 'prod/*', '--units', 'shared', '--expires', '30d');
    assert.equal(created.code, 0, created.err);
    assert.match(created.out, /^plb_[A-Za-z0-9_-]{43}\n$/);
    assert.match(created.err, /^token ci created: approver on prod\/\*, shared, expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\. It is shown only this once: store it now\.$/m);
    const token = created.out.trim();
    assert.equal((await runAs(token, 'status')).code, 0);

    const json = await run('token', 'create', 'dana', '--role', 'viewer', '--json');
    assert.equal(json.code, 0, json.err);
    const answer = JSON.parse(json.out);
    assert.deepEqual(Object.keys(answer), ['name', 'role', 'units', 'expiresAt', 'token']);
    assert.deepEqual({ ...answer, token: undefined }, { name: 'dana', role: 'viewer', units: null, expiresAt: null, token: undefined });

    const list = await run('token', 'list');
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /^NAME +ROLE +UNITS +STATE +EXPIRES +CREATED +BY$/m);
    assert.match(list.out, /^ci +approver +prod\/\* shared +active +\d{4}-/m);
    assert.match(list.out, /^dana +viewer +\*all\* +active +- +/m);
    assert.ok(!list.out.includes(token) && !list.out.includes(answer.token));
    const listed = JSON.parse((await run('token', 'list', '--json')).out) as Array<Record<string, unknown>>;
    assert.deepEqual(listed.map((t) => t.name), ['ci', 'dana']);
    assert.ok(listed.every((t) => !('token' in t) && !('hash' in t)));

    const viewer = await runAs(answer.token, 'token', 'list');
    assert.equal(viewer.code, 1);
    assert.match(viewer.err, /^error: token dana \(viewer\) may not list tokens: that needs the admin role$/m);

    const revoked = await run('token', 'revoke', 'ci');
    assert.equal(revoked.code, 0, revoked.err);
    assert.match(revoked.out, /^token ci revoked at \S+ \S+ by bootstrap$/m);
    const refused = await runAs(token, 'status');
    assert.equal(refused.code, 1);
    assert.match(refused.err, /^error: token ci was revoked at .* by bootstrap$/m);
    assert.equal((await run('token', 'revoke', 'ci')).code, 1);

    const bad = await run('token', 'create', 'x', '--role', 'owner');
    assert.equal(bad.code, 1);
    assert.match(bad.err, /argument 'owner' is invalid\. Allowed choices are viewer, approver, admin/);
  });

  it('audit lists the decisions, each with the token that took it and where from', async () => {
    await run('token', 'create', 'audited', '--role', 'viewer');
    const { code, out } = await run('audit', '--limit', '2');
    assert.equal(code, 0);
    assert.match(out, /^SEQ +AT +ACTOR +FROM +TYPE +UNIT +MESSAGE$/m);
    assert.match(out, /^ +\d+ +\S+ \S+ +bootstrap +127\.0\.0\.1 +token-created +- +token audited created by bootstrap from 127\.0\.0\.1: viewer, never expires$/m);
    const events = JSON.parse((await run('audit', '--json')).out) as Array<{ type: string; actor: string }>;
    assert.ok(events.length >= 2);
    assert.ok(events.every((e) => typeof e.actor === 'string'));
  });

  it('a wrong token is an error with a hint', async () => {
    const io = captureIO();
    const code = await main(['node', 'plumbline', 'status', '--server', server.url, '--token', 'wrong'], io);
    assert.equal(code, 1);
    assert.match(io.err, /^error: missing or invalid bearer token$/m);
    assert.match(io.err, /^hint: /m);
  });

  it('an unreachable daemon is an error with a hint, worth trying again', async () => {
    const other = await startFakeServer(createFakeEngine());
    await other.close();
    const io = captureIO();
    const code = await main(['node', 'plumbline', 'status', '--server', other.url, '--token', TEST_TOKEN], io);
    assert.equal(code, 1);
    assert.match(io.err, /^error: cannot reach the Plumbline daemon at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/m);
    assert.match(io.err, /^hint: start it with `plumbline daemon --config FILE`, or check --server/m);
    assert.match(io.err, /^retry: transient \(the same command may work in a moment\)$/m);
    const json = captureIO();
    assert.equal(await main(['node', 'plumbline', 'status', '--json', '--server', other.url, '--token', TEST_TOKEN], json), 1);
    assert.equal(JSON.parse(json.out).error.retry, 'transient');
  });

  it('an answer about the request itself (404, 409, 400, 401) carries no retry, as text or JSON', async () => {
    for (const args of [['show', 'nope'], ['approve', 'web-1'], ['history', 'invalid'], ['why', 'nope']]) {
      const text = await run(...args);
      assert.equal(text.code, 1, args.join(' '));
      assert.match(text.err, /^error: /m);
      assert.doesNotMatch(text.err, /retry/, args.join(' '));
      const json = await run(...args, '--json');
      assert.equal(json.code, 1);
      const error = JSON.parse(json.out).error;
      assert.ok(error.code && error.message, json.out);
      assert.ok(!('retry' in error), `${args.join(' ')}: ${json.out}`);
    }
    const io = captureIO();
    assert.equal(await main(['node', 'plumbline', 'status', '--json', '--server', server.url, '--token', 'wrong'], io), 1);
    assert.deepEqual(Object.keys(JSON.parse(io.out).error), ['code', 'message', 'hint']);
    // A failure of the daemon itself says whether trying again helps.
    const stuck = await run('history', 'stuck', '--json');
    assert.equal(JSON.parse(stuck.out).error.retry, 'stalled');
  });

  it('no daemon named anywhere is an error', async () => {
    const io = captureIO();
    assert.equal(await main(['node', 'plumbline', 'status'], io), 1);
    assert.match(io.err, /^error: no daemon server and token given$/m);
    assert.match(io.err, /^hint: pass --server URL/m);
  });

  it('takes the daemon from PLUMBLINE_SERVER and PLUMBLINE_TOKEN', async () => {
    process.env.PLUMBLINE_SERVER = server.url;
    process.env.PLUMBLINE_TOKEN = TEST_TOKEN;
    try {
      const io = captureIO();
      assert.equal(await main(['node', 'plumbline', 'plans', '--json'], io), 0, io.err);
      assert.equal(JSON.parse(io.out).length, 3);
    } finally {
      delete process.env.PLUMBLINE_SERVER;
      delete process.env.PLUMBLINE_TOKEN;
    }
  });
});

describe('plumbline CLI usage', () => {
  it('--help and --version exit 0 and print to stdout', async () => {
    const help = captureIO();
    assert.equal(await main(['node', 'plumbline', '--help'], help), 0);
    for (const command of ['validate', 'plan', 'daemon', 'demo', 'status', 'plans', 'show', 'changesets', 'approve', 'reject', 'history', 'sync']) {
      assert.match(help.out, new RegExp(`^\\s+${command}\\b`, 'm'), command);
    }
    const version = captureIO();
    assert.equal(await main(['node', 'plumbline', '--version'], version), 0);
    assert.match(version.out, /^\d+\.\d+\.\d+/);
  });

  it('usage errors exit 1 with a message on stderr', async () => {
    const unknown = captureIO();
    assert.equal(await main(['node', 'plumbline', 'frobnicate'], unknown), 1);
    assert.match(unknown.err, /unknown command 'frobnicate'/);

    const missing = captureIO();
    assert.equal(await main(['node', 'plumbline', 'daemon'], missing), 1);
    assert.match(missing.err, /--config <file>/);

    const port = captureIO();
    assert.equal(await main(['node', 'plumbline', 'demo', '--port', '70000'], port), 1);
    assert.match(port.err, /between 0 and 65535/);

    const noArg = captureIO();
    assert.equal(await main(['node', 'plumbline', 'show'], noArg), 1);
    assert.match(noArg.err, /missing required argument 'plan'/);
  });
});
