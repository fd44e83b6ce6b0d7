import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { RunRequest } from '../../engine/provider-kit.ts';
import { providerContext, silentLogger, testConfig } from '../../testkit/providers.ts';
import { createAnsibleProvider } from './index.ts';
import { inventorySpec, inventoryUnit } from '../../testkit/ansible-units.ts';

// The real ansible-playbook on the local connection (no SSH), behind a wrapper
// that records its command line and the mode of the extra-vars file it gets.
// Both write on the control host, which the sandbox allows only where the
// config grants it.
const scratch = await mkdtemp(join(tmpdir(), 'plumbline-ansible-vars-'));
after(() => rm(scratch, { recursive: true, force: true }));

const TOKEN = 'tok-9f2c81d0-not-for-logs';
const tree = join(scratch, 'tree');
const unitDir = join(tree, 'inventories/local');
const out = join(scratch, 'host');
const argvLog = join(scratch, 'argv.log');
const wrapper = join(scratch, 'ansible-playbook');

await mkdir(unitDir, { recursive: true });
await mkdir(out);
await writeFile(
  join(unitDir, 'hosts.yml'),
  `all:\n  hosts:\n    box:\n      ansible_connection: local\n      ansible_python_interpreter: /usr/bin/python3\n      out_dir: ${out}\n`,
);
await writeFile(join(unitDir, 'known_hosts'), '');
await writeFile(
  join(unitDir, 'site.yml'),
  `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: settings\n      ansible.builtin.copy:\n        dest: "{{ out_dir }}/settings.json"\n        content: "{{ {'domain': domain, 'token': deploy_token, 'sizes': sizes} | to_json }}\\n"\n`,
);
await writeFile(
  wrapper,
  `#!/bin/sh\nprintf '%s\\n' "$@" >> ${argvLog}\nfor a in "$@"; do case "$a" in @*extra-vars*) stat -c 'mode %a' "\${a#@}" >> ${argvLog};; esac; done\nexec ansible-playbook "$@"\n`,
);
await chmod(wrapper, 0o755);
await writeFile(argvLog, '');

const unit = inventoryUnit('inventories/local', inventorySpec('inventories/local'), { dependsOn: ['machines'] });
const provider = createAnsibleProvider(
  providerContext(
    testConfig({
      source: { url: scratch },
      stateDir: join(scratch, 'state'),
      ansible: { playbookBinary: wrapper },
      sandbox: { grants: [{ units: ['local'], writable: [out, argvLog] }] },
    }),
  ),
);
const runDir = join(scratch, 'run');
const request: RunRequest = {
  unit,
  revision: 'r1',
  workdir: unitDir,
  repoDir: scratch,
  artifactsDir: join(runDir, 'artifacts'),
  unitStateDir: join(scratch, 'unit'),
  // As resolveInputs gives them: `domain` and `deploy_token` from upstream outputs, the token a sensitive one.
  vars: { domain: 'chain.test', deploy_token: TOKEN, sizes: [1, 2] },
  sensitiveVars: ['deploy_token'],
  resolvedSpec: unit.spec,
  signal: new AbortController().signal,
  log: silentLogger,
};
await mkdir(request.artifactsDir, { recursive: true });

test('vars reach the play as extra variables from a 0600 file, never on a command line; sensitive ones are masked', async () => {
  const plan = await provider.plan(request);
  assert.equal(plan.hasChanges, true);
  const shown = JSON.stringify(plan.document) + plan.rendered;
  assert.match(shown, /chain\.test/);
  assert.doesNotMatch(shown, new RegExp(TOKEN));
  assert.match(shown, /\(sensitive\)/);

  const applied = await provider.apply(request);
  assert.equal(applied.reason, 'Converged', applied.message);
  assert.deepEqual(JSON.parse(await readFile(join(out, 'settings.json'), 'utf8')), { domain: 'chain.test', token: TOKEN, sizes: [1, 2] });

  // Three runs (check, apply, convergence check), each with -e @file, mode 0600.
  const argv = await readFile(argvLog, 'utf8');
  assert.doesNotMatch(argv, new RegExp(TOKEN));
  assert.equal(argv.match(/^@.*extra-vars-[^/]*\.json$/gm)?.length, 3, argv);
  assert.deepEqual(argv.match(/^mode \d+$/gm), ['mode 600', 'mode 600', 'mode 600']);
  // Deleted after each run.
  assert.deepEqual((await readdir(runDir)).filter((f) => f.startsWith('extra-vars')), []);
});
