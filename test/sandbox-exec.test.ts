import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { run } from '../engine/exec.ts';
import { isPlumblineError } from '../engine/errors.ts';
import type { SandboxSpec } from '../engine/sandbox/types.ts';
import { waitFor } from '../testkit/wait.ts';

// engine/exec.ts run() with a sandbox, under the real bubblewrap: what a
// process sees, how it is stopped, what it leaves behind.

let dir: string;
let shown: string;
let writable: string;
let hidden: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'plumbline-sandbox-exec-'));
  shown = join(dir, 'shown');
  writable = join(dir, 'writable');
  hidden = join(dir, 'hidden');
  for (const folder of [shown, writable, hidden]) mkdirSync(folder);
  writeFileSync(join(shown, 'file'), 'readable\n');
  writeFileSync(join(hidden, 'secret'), 'hidden\n');
});

after(() => rmSync(dir, { recursive: true, force: true }));

const spec = (over: Partial<SandboxSpec> = {}): SandboxSpec => ({ mode: 'bwrap', readOnly: [shown], readWrite: [writable], ...over });
const sh = (script: string, over: Partial<SandboxSpec> = {}, options: Parameters<typeof run>[2] = {}) =>
  run('/bin/sh', ['-c', script], { okExitCodes: [0, 1, 2], ...options, sandbox: spec(over) });

/** Host processes whose command line holds `marker`. */
function processesWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('a sandboxed process sees what its spec names, read-only or writable, and nothing else of the host', async () => {
  writeFileSync(join(tmpdir(), 'plumbline-host-tmp-file'), 'host /tmp\n');
  try {
    const result = await sh(
      [
        `cat ${shown}/file`,
        `echo x > ${shown}/new 2>/dev/null || echo shown-is-read-only`,
        `echo y > ${writable}/new && echo writable-written`,
        `cat ${hidden}/secret 2>/dev/null || echo hidden-is-not-there`,
        `cat ${tmpdir()}/plumbline-host-tmp-file 2>/dev/null || echo tmp-is-private`,
        'ls -A "$HOME" | wc -l',
        'echo "tmpdir=$TMPDIR token=${PLUMBLINE_TOKEN:-none}"',
        'ls /etc | grep -c plumbline || true',
      ].join('\n'),
      {},
      { env: { TMPDIR: '/var/elsewhere' } },
    );
    assert.deepEqual(result.stdout.trim().split('\n'), ['readable', 'shown-is-read-only', 'writable-written', 'hidden-is-not-there', 'tmp-is-private', '0', 'tmpdir=/tmp token=none', '0']);
    assert.equal(readFileSync(join(writable, 'new'), 'utf8'), 'y\n');
  } finally {
    rmSync(join(tmpdir(), 'plumbline-host-tmp-file'), { force: true });
  }
});

test('the daemon\'s PLUMBLINE_ variables stay out, unless the run sets them', async () => {
  process.env.PLUMBLINE_TOKEN = 'daemon-shell-token';
  try {
    const result = await sh('echo "${PLUMBLINE_TOKEN:-none} ${PLUMBLINE_RUN_OWN:-none}"', {}, { env: { PLUMBLINE_RUN_OWN: 'set-by-the-run' } });
    assert.equal(result.stdout.trim(), 'none set-by-the-run');
  } finally {
    delete process.env.PLUMBLINE_TOKEN;
  }
});

test('what a tool leaves running ends with it', async () => {
  const marker = '4242.125';
  const result = await sh(`sleep ${marker} &\necho started`);
  assert.equal(result.stdout.trim(), 'started');
  await waitFor(() => processesWith(marker).length === 0, { what: 'the background sleep gone', timeoutMs: 10_000 });
});

test('cancelling stops the tool inside with SIGTERM, then answers E_CANCELLED', async () => {
  const controller = new AbortController();
  const running = sh(`trap 'echo stopped > ${writable}/term; exit 3' TERM\necho ready > ${writable}/ready\nwhile :; do sleep 0.1; done`, {}, { signal: controller.signal });
  await waitFor(() => existsSync(join(writable, 'ready')), { what: 'the tool started', timeoutMs: 10_000 });
  controller.abort();
  await assert.rejects(running, (e: unknown) => isPlumblineError(e) && e.code === 'E_CANCELLED');
  assert.equal(readFileSync(join(writable, 'term'), 'utf8'), 'stopped\n');
});

test('a timeout stops the tool inside too, and is E_TOOL_TIMEOUT', async () => {
  await assert.rejects(
    sh(`trap 'echo timed-out > ${writable}/timeout; exit 3' TERM\nwhile :; do sleep 0.1; done`, {}, { timeoutMs: 1_500 }),
    (e: unknown) => isPlumblineError(e) && e.code === 'E_TOOL_TIMEOUT',
  );
  assert.equal(readFileSync(join(writable, 'timeout'), 'utf8'), 'timed-out\n');
});

test('outlive: a server started in the background stays; there is no /proc, and tracing another process is refused', async () => {
  const marker = '4242.375';
  writeFileSync(
    join(shown, 'trace.py'),
    'import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nrc = libc.ptrace(16, os.getppid(), 0, 0)\nprint("attached" if rc == 0 else os.strerror(ctypes.get_errno()))\n',
  );
  const result = await sh(`setsid sleep ${marker} </dev/null >/dev/null 2>&1 &\nls /proc 2>/dev/null | wc -l\npython3 ${shown}/trace.py`, { outlive: true });
  try {
    assert.deepEqual(result.stdout.trim().split('\n'), ['0', 'Operation not permitted']);
    await waitFor(() => processesWith(marker).length === 1, { what: 'the background sleep still running', timeoutMs: 10_000 });
  } finally {
    for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
  }
});
