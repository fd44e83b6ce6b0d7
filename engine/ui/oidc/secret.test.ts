import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { secrets } from '../../secrets.ts';
import { readClientSecret } from './secret.ts';

const dir = await mkdtemp(join(tmpdir(), 'plumbline-oidc-secret-'));
after(() => rm(dir, { recursive: true, force: true }));

test('the client secret: its first line, registered for masking', async () => {
  const file = join(dir, 'secret');
  await writeFile(file, 'oidc-client-secret-value\nignored\n', { mode: 0o600 });
  assert.equal(await readClientSecret(file), 'oidc-client-secret-value');
  assert.equal(secrets.maskText('secret=oidc-client-secret-value'), 'secret=(sensitive)');
});

test('a secret file that is missing, open to others or empty stops the start, naming the file and the fix', async () => {
  const missing = join(dir, 'missing');
  await assert.rejects(readClientSecret(missing), { code: 'E_OIDC_SECRET', message: `auth.oidc.clientSecretFile ${missing} cannot be read (ENOENT)` });
  const open = join(dir, 'open');
  await writeFile(open, 'another-secret\n');
  await chmod(open, 0o644);
  await assert.rejects(readClientSecret(open), (error: { code: string; message: string; hint: string }) => {
    assert.equal(error.code, 'E_OIDC_SECRET');
    assert.equal(error.message, `auth.oidc.clientSecretFile ${open} is open to other users (mode 0644)`);
    assert.match(error.hint, /chmod 600/);
    return true;
  });
  const empty = join(dir, 'empty');
  await writeFile(empty, '\n', { mode: 0o600 });
  await assert.rejects(readClientSecret(empty), { code: 'E_OIDC_SECRET', message: /is empty$/ });
});
