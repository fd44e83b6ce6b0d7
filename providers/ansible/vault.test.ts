import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { secrets } from '../../engine/provider-kit.ts';
import { silentLogger } from '../../testkit/providers.ts';
import { readTexts } from './repo-texts.ts';
import { findVaulted, inlineVaults, registerVaultSecrets } from './vault.ts';

// vaulted-vars.yml: the real output of `ansible-vault encrypt_string` with the
// password in fixtures/vault-password; its plaintext is TopSecretValue42.
const fixtures = new URL('./fixtures/', import.meta.url);
const scratch = await mkdtemp(join(tmpdir(), 'plumbline-vault-'));
after(() => rm(scratch, { recursive: true, force: true }));

test('inline !vault values are found in YAML', async () => {
  const text = await readFile(new URL('vaulted-vars.yml', fixtures), 'utf8');
  const found = inlineVaults(`other: 1\n${text}\nafter: 2\n`);
  assert.equal(found.length, 1);
  assert.match(found[0]!, /^\$ANSIBLE_VAULT;1\.1;AES256\n[0-9a-f]+\n/);
});

test('vaulted values are decrypted with ansible-vault and registered for masking, with the password', async () => {
  const dir = join(scratch, 'inv');
  await mkdir(join(dir, 'group_vars', 'web'), { recursive: true });
  await copyFile(new URL('vaulted-vars.yml', fixtures), join(dir, 'group_vars', 'web', 'vault.yml'));
  await writeFile(join(dir, 'site.yml'), '- hosts: all\n');
  assert.equal(findVaulted(await readTexts(dir)).length, 1);
  assert.equal(secrets.maskText('password=TopSecretValue42'), 'password=TopSecretValue42');
  const count = await registerVaultSecrets(await readTexts(dir), {
    vaultBinary: 'ansible-vault',
    vaultPasswordFile: new URL('vault-password', fixtures).pathname,
    log: silentLogger,
  });
  assert.equal(count, 1);
  assert.equal(secrets.maskText('password=TopSecretValue42'), 'password=(sensitive)');
  assert.equal(secrets.maskText('the vault password is vault-pass-123'), 'the vault password is (sensitive)');
});

test('vaulted data without ansible.vaultPasswordFile is a stalled error naming the file', async () => {
  const dir = join(scratch, 'nopass');
  await mkdir(dir, { recursive: true });
  await copyFile(new URL('vaulted-vars.yml', fixtures), join(dir, 'secrets.yml'));
  await assert.rejects(registerVaultSecrets(await readTexts(dir), { vaultBinary: 'ansible-vault', vaultPasswordFile: null, log: silentLogger, roots: [scratch] }), (error: Error & { code?: string; retry?: string }) => {
    assert.equal(error.code, 'E_VAULT_PASSWORD_MISSING');
    assert.equal(error.retry, 'stalled');
    assert.match(error.message, /^nopass\/secrets\.yml holds Ansible Vault data/);
    return true;
  });
});
