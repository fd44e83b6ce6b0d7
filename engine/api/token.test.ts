import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureToken, readToken } from './token.ts';

describe('api token file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plumbline-token-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('generates 32 random bytes as hex, mode 0600, parent folders 0700', async () => {
    const file = join(dir, 'state', 'api', 'token');
    const token = await ensureToken(file);
    assert.match(token, /^[0-9a-f]{64}$/);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'state', 'api'))).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, 'state'))).mode & 0o777, 0o700);
    assert.equal((await readFile(file, 'utf8')).trim(), token);
    assert.equal(await ensureToken(file), token);
    assert.equal(await readToken(file), token);
  });

  it('keeps an existing token, trimmed', async () => {
    const file = join(dir, 'given');
    await writeFile(file, '  my-token \n');
    assert.equal(await ensureToken(file), 'my-token');
  });

  it('gives every concurrent caller the same token', async () => {
    const file = join(dir, 'race', 'token');
    const tokens = await Promise.all(Array.from({ length: 8 }, () => ensureToken(file)));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(await readToken(file), tokens[0]);
  });

  it('reports a missing or empty file with a code and a hint', async () => {
    await assert.rejects(readToken(join(dir, 'absent')), (e: { code?: string; hint?: string }) => {
      return e.code === 'E_TOKEN_MISSING' && /plumbline daemon/.test(e.hint ?? '');
    });
    const empty = join(dir, 'empty');
    await writeFile(empty, '\n');
    await assert.rejects(ensureToken(empty), { code: 'E_TOKEN_EMPTY' });
  });
});
