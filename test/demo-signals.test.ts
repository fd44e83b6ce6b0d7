import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot } from '../testkit/files.ts';
import { freePort } from '../testkit/ports.ts';
import { writeTerraformRc } from '../testkit/terraform.ts';
import { waitFor } from '../testkit/wait.ts';

// `plumbline demo` (what `npm start` runs), the real one: its machines stack
// starts SSH servers (127.0.0.2-4, port 2222, as the example says), and a
// SIGINT or SIGTERM sent to its own process, at any moment, must stop the
// daemon and every one of those servers. One state folder for the file: each
// test starts the demo again on the machines the first one created.

let root: string;
let env: NodeJS.ProcessEnv;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'plumbline-demo-'));
  env = { ...process.env, TF_CLI_CONFIG_FILE: writeTerraformRc(root), PLUMBLINE_SERVER: '', PLUMBLINE_TOKEN: '' };
});

after(async () => {
  // Whatever a failing test left: only processes of this test's folder.
  for (const pid of [...demoPids(), ...machineServers()]) signal(pid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

interface Proc {
  pid: number;
  ppid: number;
  cmdline: string;
}

function processes(): Proc[] {
  const list: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      list.push({ pid: Number(entry), ppid: Number(fields[1]), cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ') });
    } catch {
      // gone meanwhile
    }
  }
  return list;
}

/** The machines' SSH servers of this test's folder, and their connections (children of a server). */
function machineServers(): number[] {
  const all = processes();
  const servers = all.filter((p) => p.cmdline.includes('sshd') && p.cmdline.includes(join(root, 'machines')));
  const ids = new Set(servers.map((p) => p.pid));
  return [...ids, ...all.filter((p) => ids.has(p.ppid)).map((p) => p.pid)];
}

/** The demo processes of this test's folder: node running it, whatever started it (not a shell around it). */
function demoPids(): number[] {
  return processes()
    .filter((p) => basename(p.cmdline.split(' ')[0]!) === basename(process.execPath) && p.cmdline.includes('plumbline.mjs demo') && p.cmdline.includes(root))
    .map((p) => p.pid);
}

function alive(pid: number): boolean {
  return processes().some((p) => p.pid === pid);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function start(command: string, args: string[]): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exit };
}

function demo(port: number) {
  return start(process.execPath, [join(repoRoot, 'bin', 'plumbline.mjs'), 'demo', '--port', String(port), '--state-dir', root]);
}

async function api<T>(port: number, path: string): Promise<T> {
  const token = readFileSync(join(root, 'state', 'api-token'), 'utf8').trim();
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${token}`, connection: 'close' } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/** Every process in `pids` is gone before the deadline. */
async function allGone(pids: number[], what: string): Promise<void> {
  await waitFor(() => pids.every((pid) => !alive(pid)), { what, timeoutMs: 15_000 });
}

test('a converged demo stops, daemon and machines, on SIGTERM sent to its own process', async () => {
  const port = await freePort();
  const run = demo(port);
  try {
    await waitFor(
      async () => {
        const { units } = await api<{ units: Array<{ name: string; phase: string }> }>(port, '/api/v1/status');
        return units.find((u) => u.name === 'web')?.phase === 'InSync';
      },
      { what: 'the web inventory applied on the machines', timeoutMs: 240_000 },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${run.output().slice(-3000)}`);
  }
  const servers = machineServers();
  assert.ok(servers.length >= 3, `the three machines run: ${servers.join(', ')}`);
  run.child.kill('SIGTERM');
  assert.equal(await run.exit, 0, run.output().slice(-3000));
  await allGone(servers, 'the machines\u2019 SSH servers to stop');
  assert.deepEqual(machineServers(), []);
});

test('a SIGINT that arrives while the demo starts its machines again stops them too', async () => {
  const run = demo(await freePort());
  // The previous test's machines are started again at startup, before the daemon runs.
  await waitFor(() => machineServers().length > 0, { what: 'a machine started again', timeoutMs: 60_000, intervalMs: 20 });
  run.child.kill('SIGINT');
  assert.equal(await run.exit, 0, run.output().slice(-3000));
  await allGone(machineServers(), 'the machines\u2019 SSH servers to stop');
  assert.deepEqual(machineServers(), [], run.output().slice(-3000));
  assert.doesNotMatch(run.output(), /api listening/, 'the daemon never started');
});

test('npm start passes a SIGTERM sent to npm on to the demo, which stops its machines', async () => {
  const port = await freePort();
  const run = start('npm', ['start', '--', '--port', String(port), '--state-dir', root]);
  await waitFor(async () => (await api<{ ok: boolean }>(port, '/api/v1/healthz')).ok, { what: 'the demo API', timeoutMs: 60_000 });
  const servers = machineServers();
  const demos = demoPids();
  assert.ok(servers.length >= 3, `the three machines run: ${servers.join(', ')}`);
  assert.equal(demos.length, 1);
  run.child.kill('SIGTERM');
  await run.exit;
  await allGone([...demos, ...servers], 'the demo and its machines to stop');
  assert.deepEqual(machineServers(), []);
});
