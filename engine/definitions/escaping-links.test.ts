import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { findEscapingLinks } from './escaping-links.ts';

const scratch = await mkdtemp(join(tmpdir(), 'plumbline-links-'));
after(() => rm(scratch, { recursive: true, force: true }));

test('links leading outside the repository are found in what a unit reads, links inside it are fine', async () => {
  const repo = join(scratch, 'repo');
  await mkdir(join(repo, 'stacks/app'), { recursive: true });
  await mkdir(join(repo, 'modules/net'), { recursive: true });
  await mkdir(join(repo, 'elsewhere'), { recursive: true });
  await writeFile(join(repo, 'modules/net/main.tf'), '');
  await writeFile(join(scratch, 'secret'), 'token');
  await symlink(join(scratch, 'secret'), join(repo, 'stacks/app/secret.tf'));
  await symlink('../../../secret', join(repo, 'modules/net/vars.tf'));
  await symlink('../../modules/net/main.tf', join(repo, 'stacks/app/shared.tf'));
  await symlink('/nonexistent/place', join(repo, 'stacks/app/dangling.tf'));
  await symlink('/etc', join(repo, 'elsewhere/etc'));
  const found = await findEscapingLinks(repo, ['stacks/app', 'modules/net']);
  assert.deepEqual(found, [
    { path: 'modules/net/vars.tf', target: '../../../secret' },
    { path: 'stacks/app/dangling.tf', target: '/nonexistent/place' },
    { path: 'stacks/app/secret.tf', target: join(scratch, 'secret') },
  ]);
});
