import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureToken, MIN_TOKEN_LENGTH, readToken } from './token.ts';

const GIVEN = 'a-token-written-by-hand-0123456789abcdef';

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

  it('keeps an existing private token, trimmed', async () => {
    const file = join(dir, 'given');
    await writeFile(file, `  ${GIVEN} \n`, { mode: 0o600 });
    assert.equal(await ensureToken(file), GIVEN);
  });

  it('refuses a token file group or others may open, naming the file, its mode and the fix', async () => {
    for (const mode of [0o644, 0o640, 0o604, 0o620]) {
      const file = join(dir, `shared-${mode.toString(8)}`);
      await writeFile(file, `${GIVEN}\n`);
      await chmod(file, mode);
      for (const read of [ensureToken, readToken]) {
        await assert.rejects(read(file), (e: { code?: string; message?: string; hint?: string }) => {
          assert.equal(e.code, 'E_TOKEN_INSECURE');
          assert.ok(e.message?.includes(file), e.message);
          assert.ok(e.message?.includes(`mode 0${mode.toString(8)}`), e.message);
          assert.ok(e.hint?.includes(`chmod 600 ${file}`), e.hint);
          assert.match(e.hint ?? '', /delete it/);
          return true;
        });
      }
      // The daemon never replaces a refused file: the person decides.
      assert.equal((await readFile(file, 'utf8')).trim(), GIVEN);
    }
  });

  it('refuses a token shorter than 32 characters, even a private one', async () => {
    const file = join(dir, 'short');
    await writeFile(file, 'abc\n', { mode: 0o600 });
    await assert.rejects(ensureToken(file), (e: { code?: string; message?: string; hint?: string }) => {
      assert.equal(e.code, 'E_TOKEN_TOO_SHORT');
      assert.ok(e.message?.includes(file));
      assert.match(e.message ?? '', /3 characters; a token needs at least 32/);
      assert.match(e.hint ?? '', /delete the file and restart the daemon/);
      return true;
    });
    await writeFile(file, `${'x'.repeat(MIN_TOKEN_LENGTH)}\n`, { mode: 0o600 });
    assert.equal(await readToken(file), 'x'.repeat(MIN_TOKEN_LENGTH));
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
    await writeFile(empty, '\n', { mode: 0o600 });
    await assert.rejects(ensureToken(empty), { code: 'E_TOKEN_EMPTY' });
  });
});
