import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createFakeEngine, startFakeServer, TEST_TOKEN } from '../testkit/fake-engine.ts';
import { repoRoot } from '../testkit/files.ts';

// `plumbline status | head -1`: the reader goes away before the command has
// printed everything. The real `plumbline` process, its stdout (or stderr) a
// pipe whose reading end is already closed, so every write meets EPIPE.

let server: { url: string; close(): Promise<void> };
before(async () => {
  server = await startFakeServer(createFakeEngine());
});
after(async () => {
  await server.close();
});

function plumblineIntoClosedPipe(args: string[], closed: 'stdout' | 'stderr'): Promise<{ code: number | null; signal: string | null; other: string }> {
  const connection = args[0] === 'validate' || args[0] === '--help' ? [] : ['--server', server.url, '--token', TEST_TOKEN];
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'plumbline.mjs'), ...args, ...connection], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PLUMBLINE_SERVER: '', PLUMBLINE_TOKEN: '' },
  });
  child[closed].destroy();
  let other = '';
  child[closed === 'stdout' ? 'stderr' : 'stdout'].on('data', (chunk: Buffer) => (other += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, other })));
}

test('a command whose reader closed stdout stops writing quietly and keeps its exit code', async () => {
  for (const args of [['status'], ['plans'], ['history'], ['show', 'web-2'], ['--help']]) {
    const r = await plumblineIntoClosedPipe(args, 'stdout');
    assert.equal(r.signal, null, args.join(' '));
    assert.equal(r.other, '', `${args.join(' ')} printed on stderr:\n${r.other}`);
    assert.equal(r.code, 0, args.join(' '));
  }
});

test('a command whose stderr reader is gone stops writing there quietly and keeps its exit code', async () => {
  // `validate` of a folder without units says so on stderr and exits 0.
  const empty = mkdtempSync(join(tmpdir(), 'plumbline-pipe-'));
  try {
    const r = await plumblineIntoClosedPipe(['validate', empty], 'stderr');
    assert.equal(r.signal, null);
    assert.equal(r.other, '');
    assert.equal(r.code, 0);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
  const failing = await plumblineIntoClosedPipe(['show', 'no-such-plan'], 'stderr');
  assert.equal(failing.code, 1);
});
