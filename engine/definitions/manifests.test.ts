import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { z } from 'zod';
import { removeTempTrees, tempTree } from '../../testkit/files.ts';
import { normalizeConfig } from '../config/load.ts';
import { formatProblem } from '../errors.ts';
import type { ManifestFile, ProviderModule } from '../provider.ts';
import { builtinProviders } from '../providers.ts';
import { loadDefinitions } from './load.ts';
import { manifestsOf } from './manifests.ts';
import { resolveInUnit } from './unit-paths.ts';

/**
 * The loaders know no tool: a provider brings its manifest, its kind, its
 * fields and its settings. Here, one the engine has never heard of: shell
 * jobs, written in `jobs/<name>/job.yaml`.
 */

after(removeTempTrees);

const DEFAULTS = { approval: 'manual', applyAfterMs: null } as const;

const JOB_MANIFEST: ManifestFile = {
  type: 'job',
  folder: 'jobs',
  fileName: 'job.yaml',
  defaultKind: 'shell',
  variableNames: { pattern: /^[A-Z_][A-Z0-9_]*$/, rule: 'capital letters, digits and "_"' },
  secretVars: true,
};

const shell: ProviderModule<{ script: string; input: unknown }, { shell: string }> = {
  kind: 'shell',
  manifest: {
    file: JOB_MANIFEST,
    fields: { script: z.string().min(1), input: z.unknown().optional() },
    async read({ raw, parsed, folder, report }) {
      const script = typeof raw.script === 'string' ? await resolveInUnit(folder, raw.script, { mustExist: true }) : undefined;
      if (script && !script.ok) report.at(['script'], script.message);
      if (!parsed || !script?.ok) return undefined;
      return { script: script.path, input: parsed.input ?? null };
    },
  },
  settings: {
    key: 'shell',
    fields: { binary: z.string().min(1).optional(), timeout: z.string().optional() },
    minimums: { timeout: 5_000 },
    defaults: { shell: '/bin/sh' },
    normalize: (section) => ({ shell: (section.binary as string | undefined) ?? '/bin/sh' }),
  },
  create: () => Promise.reject(new Error('not built in this test')),
};

const modules = [...builtinProviders, shell];

test('a provider brings its manifest: found where it says, its fields read by it, its kind the default there', async () => {
  const root = tempTree({
    'jobs/nightly/job.yaml': 'script: run.sh\ninput: {fromOutput: net.id}\ndependsOn: [net]\nvars:\n  REGION: eu\n',
    'jobs/nightly/run.sh': 'echo',
    'stacks/net/stack.yaml': 'kind: terraform\n',
    'stacks/net/main.tf': '',
  });
  const { units, problems } = await loadDefinitions(root, DEFAULTS, undefined, modules);
  assert.deepEqual(problems, []);
  const job = units.find((u) => u.name === 'nightly')!;
  assert.deepEqual(
    { type: job.type, kind: job.kind, path: job.path, file: job.file, vars: job.vars, spec: job.spec },
    { type: 'job', kind: 'shell', path: 'jobs/nightly', file: 'jobs/nightly/job.yaml', vars: { REGION: 'eu' }, spec: { script: 'jobs/nightly/run.sh', input: { fromOutput: 'net.id' } } },
  );
});

test('its fields are checked with the engine\'s: unknown fields, its own checks, its variable names, references in its fields', async () => {
  const root = tempTree({
    'jobs/a/job.yaml': 'script: gone.sh\nscirpt: x\nvars:\n  region: eu\n',
    'jobs/b/job.yaml': 'script: run.sh\ninput:\n  hosts: {fromOutput: net.hosts}\n',
    'jobs/b/run.sh': '',
    'jobs/c/job.yaml': 'kind: terraform\nscript: run.sh\n',
    'jobs/c/run.sh': '',
  });
  const { units, problems } = await loadDefinitions(root, DEFAULTS, undefined, modules);
  assert.deepEqual(units, []);
  assert.deepEqual(problems.map(formatProblem), [
    'jobs/a/job.yaml:1:1: script: "gone.sh" does not exist (looked for jobs/a/gone.sh in the repository)',
    'jobs/a/job.yaml:2:1: scirpt: unknown field (allowed: name, kind, script, input, vars, secretVars, approval, applyAfter, dependsOn, drift, watch, prune, guard)',
    'jobs/a/job.yaml:4:3: vars.region: invalid variable name (use capital letters, digits and "_", not starting with a digit)',
    'jobs/b/job.yaml:3:11: input.hosts.fromOutput: "net.hosts" uses an output of net, which is not in dependsOn (add it, so net is applied first)',
    'jobs/c/job.yaml:1:1: kind: must be one of shell (got "terraform")',
  ]);
});

test('a provider brings its settings: a section of plumbline.yaml, checked with the engine\'s, kept for it', () => {
  const ok = normalizeConfig({ source: { url: '/srv/infra' }, shell: { binary: '/bin/bash' } }, null, undefined, modules);
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.config?.providers?.shell, { shell: '/bin/bash' });
  assert.deepEqual(normalizeConfig({ source: { url: '/srv/infra' } }, null, undefined, modules).config?.providers?.shell, { shell: '/bin/sh' });

  const bad = normalizeConfig({ source: { url: '/srv/infra' }, shell: { timeout: '1s', bin: 'x' }, workers: 2 }, null, undefined, modules);
  assert.deepEqual(bad.problems.map((p) => p.message), [
    'shell.bin: unknown field (allowed: binary, timeout)',
    'workers: unknown field (allowed: source, stateDir, api, concurrency, terraform, ansible, shell, defaults, notifications, log, limits, cluster, store, metrics, auth, sandbox, forge)',
    'shell.timeout: must be at least 5s (got "1s")',
  ]);
});

test('providers that would make a manifest ambiguous are refused when the registry is read', () => {
  assert.throws(() => manifestsOf([...modules, { ...shell }]), /two providers handle kind shell/);
  const vars = { ...shell, kind: 'other', manifest: { ...shell.manifest, fields: { vars: z.string() } } };
  assert.throws(() => manifestsOf([shell, vars]), /other declares vars, a field every manifest has/);
  const elsewhere = { ...shell, kind: 'other', manifest: { ...shell.manifest, file: { ...JOB_MANIFEST } } };
  assert.throws(() => manifestsOf([shell, elsewhere]), /share a type, folder or file name/);
});
