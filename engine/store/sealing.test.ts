import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadSealingKey, openText, sealerOf, sealText } from './sealing.ts';

const dir = mkdtempSync(join(tmpdir(), 'plumbline-sealing-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a sealed value opens with its key, never shows its clear text, and differs each time', () => {
  const sealer = sealerOf(randomBytes(32));
  const first = sealText(sealer, 'db-password-123');
  assert.match(first, /^sealed:/);
  assert.ok(!first.includes('db-password-123'));
  assert.notEqual(first, sealText(sealer, 'db-password-123'), 'a fresh nonce per value');
  assert.equal(openText(sealer, first), 'db-password-123');
});

test('another key, a changed byte or a value never sealed is E_STORE_SEALED_DAMAGED, not garbage', () => {
  const sealer = sealerOf(randomBytes(32));
  const sealed = sealer.seal(Buffer.from('secret'));
  assert.throws(() => sealerOf(randomBytes(32)).open(sealed), { code: 'E_STORE_SEALED_DAMAGED' });
  const changed = Buffer.from(sealed);
  changed.writeUInt8(changed.readUInt8(changed.length - 1) ^ 1, changed.length - 1);
  assert.throws(() => sealer.open(changed), { code: 'E_STORE_SEALED_DAMAGED' });
  assert.throws(() => openText(sealer, '{"clear":"text"}'), { code: 'E_STORE_SEALED_DAMAGED' });
});

test('the key file is created private once, read back the same, and refused when open to others, missing or malformed', async () => {
  const file = join(dir, 'sealing.key');
  await assert.rejects(loadSealingKey(file, false), { code: 'E_SEALING_KEY_MISSING' });
  const made = await loadSealingKey(file, true);
  assert.equal(made.created, true);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.match(readFileSync(file, 'utf8'), /^[0-9a-f]{64}\n$/);
  const again = await loadSealingKey(file, true);
  assert.equal(again.created, false);
  assert.deepEqual(again.key, made.key);
  chmodSync(file, 0o644);
  await assert.rejects(loadSealingKey(file, true), { code: 'E_SEALING_KEY_OPEN' });
  const bad = join(dir, 'bad.key');
  writeFileSync(bad, 'not a key\n', { mode: 0o600 });
  await assert.rejects(loadSealingKey(bad, false), { code: 'E_SEALING_KEY_INVALID' });
});
