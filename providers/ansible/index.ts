import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type ApplyOutcome,
  type ApplyReason,
  type ApplyRequest,
  type HostStatus,
  type PlanOutcome,
  type PlanRequest,
  type ProviderContext,
  type Provider,
  type ProviderFactory,
  repoRelativeText,
  type RunRequest,
  sandboxFor,
  sandboxSettings,
  secrets,
  ToolError,
} from '../../engine/provider-kit.ts';
import { ansibleSettings, forksFor, listInventory, runContext, runPlaybook, type RunContext, treeRootOf } from './cli.ts';
import {
  buildDocument,
  buildHostPlans,
  changeNames,
  DOCUMENT_FILE,
  fingerprintOf,
  hostStatuses,
  shorten,
  summaryOf,
  uncertainNames,
  uncertainTasks,
  type AnsiblePlanDocument,
  type HostPlan,
} from './document.ts';
import { hostTarget } from './inventory.ts';
import { parseKnownHosts } from './known-hosts.ts';
import type { ResolvedInventorySpec } from './manifest.ts';
import { normalizeRun, type HostRun } from './normalize.ts';
import { preflight, type PreflightFinding } from './preflight.ts';
import { isUnder } from './read-set.ts';
import { inventoryReads } from './reads.ts';
import { renderPlan } from './render.ts';
import { validateInventory } from './validate.ts';
import { registerVaultSecrets } from './vault.ts';
import { readTexts, type TextFile } from './repo-texts.ts';
import { findMitogenLimit } from './mitogen-limits.ts';
import { ansibleToolNeeds } from './sandbox.ts';
import { chooseStrategy, type MitogenPlugins } from './strategy.ts';
import { transientlyLost } from './transient.ts';

export type { AnsiblePlanDocument, HostPlan } from './document.ts';
export type { TaskChange } from './normalize.ts';

/**
 * Ansible inventories (`inventories/<name>/inventory.yaml`). A plan is the
 * real `ansible-playbook --check --diff` on the hosts its plays target; the
 * hosts Ansible could not reach are then checked over SSH to say why (a
 * changed host key, with its fingerprint). An apply is the real run at the
 * same commit on the hosts planned, then a second check that must find
 * nothing to change (`Converged`), or names every task that is not
 * idempotent (`NotIdempotent`). Every host's state is reported, whatever
 * happens to the others.
 */
export const createAnsibleProvider = (context: ProviderContext, mitogen?: MitogenPlugins | null): Provider => {
  // Not chosen by the caller: chosen at the first run, from the settings (`auto` looks once per process).
  const strategy = () => (mitogen !== undefined ? Promise.resolve(mitogen) : chooseStrategy(ansibleSettings(context.config), context.log));
  return {
    // Every check of an inventory is a process of Ansible's: none when the caller allows none.
    validate: async (unit, unitDir, options) => (options?.processes === false ? [] : validateInventory(unit, unitDir, context)),
    plan: async (request) => planInventory(request, context, await strategy()),
    apply: async (request) => applyInventory(request, context, await strategy()),
    reads: (request) => inventoryReads(request),
  };
};
createAnsibleProvider satisfies ProviderFactory;

/**
 * The provider the daemon and the command line build. The strategy is chosen
 * here, once: `auto` takes mitogen when it is found, else linear (said in the
 * log); an explicit `strategy: mitogen` without the package fails here
 * (E_ANSIBLE_MITOGEN_MISSING), at start or at `plumbline validate`, never in
 * the middle of a plan.
 */
export async function buildAnsibleProvider(context: ProviderContext): Promise<Provider> {
  const settings = ansibleSettings(context.config);
  const mitogen = await chooseStrategy(settings, context.log);
  if (mitogen && settings.strategy === 'mitogen') context.log.info({ strategyPlugins: mitogen.strategyPlugins }, 'ansible runs with the mitogen strategy');
  return createAnsibleProvider(context, mitogen);
}

async function prepare(request: RunRequest, context: ProviderContext, mitogen: MitogenPlugins | null): Promise<RunContext> {
  // Normally registered when the inputs were resolved; again here, so no caller can miss it.
  for (const name of request.sensitiveVars) secrets.add(request.vars[name]);
  const hostsFrom = (request.resolvedSpec as ResolvedInventorySpec).hostsFrom;
  // Read once: the vault scan and the strategy's check both look at them.
  const texts = await readTexts([request.workdir, ...(await readElsewhere(request))]);
  const ctx = await runContext({
    unit: request.unit,
    workdir: request.workdir,
    repoDir: request.repoDir,
    runDir: dirname(request.artifactsDir),
    artifactsDir: request.artifactsDir,
    unitStateDir: request.unitStateDir,
    config: context.config,
    mitogen: mitogen && !beyondMitogen(request, texts) ? mitogen : null,
    // Extra variables (-e @file, 0600, deleted after each ansible-playbook): never on a command line.
    vars: request.vars,
    ...(hostsFrom !== undefined ? { inventoryHosts: hostsFrom } : {}),
    log: request.log,
    signal: request.signal,
  });
  await registerVaultSecrets(texts, {
    vaultBinary: ctx.settings.vaultBinary,
    vaultPasswordFile: ctx.settings.vaultPasswordFile,
    log: request.log,
    signal: request.signal,
    roots: ctx.roots,
    // ansible-vault reads the ciphertext from its input: it needs the password file alone.
    sandbox: sandboxFor(sandboxSettings(context.config), request.unit.name, { readOnly: ansibleToolNeeds(ctx.settings) }),
  });
  return ctx;
}

/**
 * True, said in the run's log, when the inventory does something mitogen
 * cannot run (mitogen-limits.ts: a templated connection variable, the `raw`
 * module): the run then uses Ansible's own strategy.
 */
function beyondMitogen(request: RunRequest, texts: readonly TextFile[]): boolean {
  const limit = findMitogenLimit(texts, request.vars);
  if (!limit) return false;
  const where = limit.file ? `${repoRelativeText(limit.file, [treeRootOf(request.workdir, request.unit.path), request.repoDir])}:${limit.line}` : `the vars of ${request.unit.name}`;
  request.log.info({ reason: limit.reason, name: limit.name, where }, "mitogen cannot run this inventory: this run uses Ansible's own strategy");
  return true;
}

/** What the inventory reads outside its own folder (group_vars, roles...), in the read-only repository. */
async function readElsewhere(request: RunRequest): Promise<string[]> {
  const { entries } = await inventoryReads({ unit: request.unit, repoDir: request.repoDir, log: request.log });
  return entries.filter((e) => !isUnder(e.path, request.unit.path)).map((e) => join(request.repoDir, e.path));
}

/** Preflight the hosts; returns the findings. */
async function checkHosts(ctx: RunContext, names: readonly string[], hostvars: Record<string, Record<string, unknown>>): Promise<PreflightFinding[]> {
  const targets = names.map((n) =>
    hostTarget(n, hostvars[n] ?? {}, { user: ctx.spec.ssh.user, port: ctx.spec.ssh.port, privateKeyFile: ctx.privateKeyFile }),
  );
  const started = performance.now();
  const findings = await preflight(targets, {
    knownHosts: parseKnownHosts(await readFile(ctx.knownHostsFile, 'utf8')),
    knownHostsFile: ctx.knownHostsLabel,
    privateKeyFile: ctx.privateKeyFile,
    timeoutMs: ctx.settings.connectTimeoutMs,
    log: ctx.log,
    signal: ctx.signal,
  });
  const unreachable = findings.filter((f) => !f.reachable).map((f) => f.host);
  ctx.log.info({ hosts: names.length, unreachable, ms: Math.round(performance.now() - started) }, 'ansible preflight finished');
  return findings;
}

/**
 * Hosts whose SSH connection broke mid-check are checked once more, alone
 * (a check changes nothing, so running it again is safe); their new results
 * replace the lost ones in `runs`.
 */
async function checkLostHostsAgain(ctx: RunContext, runs: Map<string, HostRun>): Promise<void> {
  const lost = transientlyLost(runs);
  if (lost.length === 0) return;
  ctx.log.warn({ hosts: lost }, 'connections broke during the check (data could not be sent): checking those hosts again');
  const again = await runPlaybook(ctx, { check: true, limit: lost, forks: forksFor(lost.length, ctx.spec, ctx.settings) });
  const retried = normalizeRun(again.output, { roots: ctx.roots });
  for (const name of lost) {
    const run = retried.get(name);
    if (run) runs.set(name, run);
  }
  ctx.log.info({ hosts: lost.map((n) => `${n}=${runs.get(n)?.state}`), exitCode: again.exitCode, ms: again.durationMs }, 'ansible check of the lost hosts finished');
}

async function planInventory(request: PlanRequest, context: ProviderContext, mitogen: MitogenPlugins | null): Promise<PlanOutcome> {
  const ctx = await prepare(request, context, mitogen);
  const limit = request.targets ? [...request.targets] : undefined;
  let runs = new Map<string, HostRun>();
  if (!limit || limit.length > 0) {
    // No --limit: Ansible itself decides which hosts the plays target; the
    // others are neither contacted nor listed.
    const check = await runPlaybook(ctx, { check: true, limit, forks: forksFor(limit?.length ?? Infinity, ctx.spec, ctx.settings) });
    runs = normalizeRun(check.output, { roots: ctx.roots });
    const summary = [...runs.values()].map((r) => `${r.name}=${r.state}`);
    ctx.log.info({ hosts: summary, exitCode: check.exitCode, ms: check.durationMs }, 'ansible check finished');
    await checkLostHostsAgain(ctx, runs);
  }
  const lost = [...runs.values()].filter((r) => r.state === 'unreachable').map((r) => r.name);
  const findings = lost.length > 0 ? await checkHosts(ctx, lost, (await listInventory(ctx)).hostvars) : [];
  const document = secrets.maskDeep(
    buildDocument({
      inventory: ctx.inventoryLabel,
      playbook: ctx.spec.playbook,
      knownHostsFile: ctx.knownHostsLabel,
      config: ctx.configLabel,
      hosts: buildHostPlans(runs, findings),
      uncertain: uncertainTasks(runs),
      allowUnreachable: ctx.spec.allowUnreachable,
      ...(limit ? { limit } : {}),
    }),
  );
  const rendered = secrets.maskText(renderPlan(document));
  await writeFile(join(request.artifactsDir, DOCUMENT_FILE), `${JSON.stringify(document, null, 2)}\n`, { mode: 0o600 });
  return {
    summary: summaryOf(document),
    hasChanges: document.hasChanges,
    destructive: document.destructive,
    document,
    rendered,
    fingerprint: fingerprintOf(document),
    hosts: hostStatuses(document.hosts),
    changes: changeNames(document),
    uncertain: uncertainNames(document),
  };
}

/** Time since the plan's check run ended (its document was written then). */
async function planAge(artifactsDir: string): Promise<number> {
  const written = await stat(join(artifactsDir, DOCUMENT_FILE));
  return Date.now() - written.mtimeMs;
}

async function readPlanDocument(artifactsDir: string): Promise<AnsiblePlanDocument> {
  try {
    return JSON.parse(await readFile(join(artifactsDir, DOCUMENT_FILE), 'utf8')) as AnsiblePlanDocument;
  } catch (error) {
    throw new ToolError('E_PLAN_MISSING', `the plan ${join(artifactsDir, DOCUMENT_FILE)} cannot be read`, {
      retry: 'waiting',
      hint: 'the plan artifacts are gone; Plumbline must plan again before it can apply',
      cause: error,
    });
  }
}

function unreachableError(planned: readonly HostPlan[], unreachable: Map<string, string>, when: string): ToolError {
  const names = [...unreachable.keys()];
  const hosts: HostStatus[] = planned.map((h) => {
    const why = unreachable.get(h.name);
    if (why !== undefined) return { name: h.name, state: 'unreachable', message: shorten(why) };
    const base = h.message ? `${h.message}; ` : '';
    return { name: h.name, state: h.state, message: shorten(`${base}not applied: ${names.join(', ')} unreachable`) };
  });
  return new ToolError(
    'E_HOSTS_UNREACHABLE',
    secrets.maskText(`${when}: ${names.map((n) => `${n} (${shorten(unreachable.get(n) ?? 'unreachable', 200)})`).join(', ')}; the apply does not start while hosts are unreachable (allowUnreachable: false)`),
    {
      retry: 'transient',
      hint: 'bring the hosts back (or fix their host keys), remove them from the inventory, or set allowUnreachable: true in inventory.yaml to apply to the others',
      details: { hosts, unreachable: names },
    },
  );
}

async function applyInventory(request: ApplyRequest, context: ProviderContext, mitogen: MitogenPlugins | null): Promise<ApplyOutcome> {
  const planned = await readPlanDocument(request.artifactsDir);
  const ctx = await prepare(request, context, mitogen);
  const allow = ctx.spec.allowUnreachable;
  if (planned.unreachable.length > 0 && !allow) {
    const why = new Map(planned.hosts.filter((h) => h.state === 'unreachable').map((h) => [h.name, h.message ?? 'unreachable']));
    throw unreachableError(planned.hosts, why, 'the plan found hosts unreachable');
  }
  const limit = request.targets ?? planned.limit;
  const candidates = planned.hosts.map((h) => h.name).filter((n) => (limit ? limit.includes(n) : true) && !planned.unreachable.includes(n));

  // Hosts may have gone away since the plan: check again before changing anything,
  // unless the plan's check run reached them moments ago (an automatic apply).
  const lost = new Map<string, string>();
  const planAgeMs = await planAge(request.artifactsDir);
  const recheckAfter = ctx.settings.recheckHostsAfterMs;
  if (recheckAfter === null || planAgeMs > recheckAfter) {
    const inventory = await listInventory(ctx);
    const findings = await checkHosts(ctx, candidates, inventory.hostvars);
    for (const f of findings) if (!f.reachable) lost.set(f.host, f.message ?? 'unreachable');
  } else {
    ctx.log.debug({ planAgeMs: Math.round(planAgeMs), recheckHostsAfterMs: recheckAfter }, 'hosts reached by the plan moments ago: no second preflight');
  }
  if (lost.size > 0 && !allow) throw unreachableError(planned.hosts, lost, 'hosts became unreachable after the plan');
  const targets = candidates.filter((n) => !lost.has(n));

  const states = new Map<string, HostStatus>();
  for (const h of planned.hosts) {
    if (planned.unreachable.includes(h.name) || lost.has(h.name)) {
      states.set(h.name, { name: h.name, state: 'unreachable', message: shorten(lost.get(h.name) ?? h.message ?? 'unreachable') });
    } else if (!targets.includes(h.name)) {
      states.set(h.name, { name: h.name, state: 'skipped', message: 'not in this run' });
    }
  }
  if (targets.length === 0) {
    return { outputs: {}, message: 'no reachable host to apply to', reason: 'NoReachableHosts', hosts: [...states.values()] };
  }

  const forks = forksFor(targets.length, ctx.spec, ctx.settings);
  const applied = await runPlaybook(ctx, { check: false, limit: targets, forks });
  const runs = normalizeRun(applied.output, { roots: ctx.roots });
  ctx.log.info({ hosts: [...runs.values()].map((r) => `${r.name}=${r.state}`), exitCode: applied.exitCode, ms: applied.durationMs }, 'ansible apply finished');
  for (const name of targets) {
    const r = runs.get(name);
    if (!r) states.set(name, { name, state: 'ok', message: 'no play targets this host' });
    else {
      const changed = [...new Set(r.tasks.filter((t) => t.status === 'changed').map((t) => t.task))];
      const message = r.state === 'changed' ? `changed: ${changed.join(', ')}` : r.message;
      states.set(name, { name, state: r.state, ...(message ? { message: shorten(secrets.maskText(message)) } : {}) });
    }
  }
  const failedHosts = targets.filter((n) => states.get(n)?.state === 'failed');
  const unreachableHosts = targets.filter((n) => states.get(n)?.state === 'unreachable');
  if (failedHosts.length > 0 || (unreachableHosts.length > 0 && !allow)) {
    const problems = [...failedHosts, ...unreachableHosts].map((n) => `${n}: ${states.get(n)?.message ?? 'failed'}`);
    throw new ToolError('E_ANSIBLE_HOSTS_FAILED', secrets.maskText(`the apply failed on ${problems.length} host(s): ${problems.join('; ')}`), {
      retry: failedHosts.length > 0 ? 'stalled' : 'transient',
      hint: 'the other hosts\' results are in the unit\'s hosts; fix the failing tasks or hosts and commit, or run plumbline sync',
      details: { hosts: order(planned, states), failed: failedHosts, unreachable: unreachableHosts },
    });
  }

  // Convergence: the same play in check mode must now find nothing to change.
  // A host on which the apply itself changed nothing has just shown that: a
  // run with no change is the proof, and a second one would repeat it.
  const verifyTargets = targets.filter((n) => runs.get(n)?.tasks.some((t) => t.status === 'changed'));
  const nonIdempotent: string[] = [];
  const uncheckable: string[] = [];
  if (verifyTargets.length > 0) {
    // Only whether a task would change counts here: no diffs to read back from the hosts.
    const verify = await runPlaybook(ctx, { check: true, diff: false, limit: verifyTargets, forks: forksFor(verifyTargets.length, ctx.spec, ctx.settings) });
    const checks = normalizeRun(verify.output, { roots: ctx.roots });
    for (const [name, r] of checks) {
      for (const t of r.tasks) {
        if (t.status === 'changed' || (t.status === 'failed' && !t.ignored) || t.status === 'unreachable') {
          nonIdempotent.push(`${name} => ${t.task}${t.status === 'changed' ? '' : ` (${t.status} in the check)`}`);
        } else if (t.status === 'unknown') uncheckable.push(`${name} => ${t.task}`);
      }
      const bad = r.tasks.filter((t) => t.status === 'changed').map((t) => t.task);
      const state = states.get(name);
      if (state && bad.length > 0) state.message = shorten(`${state.message ? `${state.message}; ` : ''}not idempotent: ${[...new Set(bad)].join(', ')}`);
    }
    ctx.log.info({ hosts: verifyTargets.length, nonIdempotent: nonIdempotent.length, exitCode: verify.exitCode, ms: verify.durationMs }, 'ansible convergence check finished');
  }
  const skipped = [...states.values()].filter((s) => s.state === 'unreachable').map((s) => s.name);
  const changedCount = targets.filter((n) => states.get(n)?.state === 'changed').length;
  const parts = [`applied to ${targets.length} host(s), ${changedCount} changed`];
  if (skipped.length > 0) parts.push(`skipped unreachable: ${skipped.join(', ')}`);
  let reason: ApplyReason;
  if (nonIdempotent.length > 0) {
    reason = 'NotIdempotent';
    parts.push(`not idempotent, a second check still finds changes: ${nonIdempotent.join('; ')}`);
  } else {
    reason = skipped.length > 0 ? 'PartiallyConverged' : 'Converged';
    if (verifyTargets.length === 0) parts.push('converged: the apply changed nothing');
    else if (verifyTargets.length < targets.length) parts.push(`converged: a second check of the ${verifyTargets.length} changed host(s) finds nothing to change`);
    else parts.push('converged: a second check finds nothing to change');
    if (uncheckable.length > 0) parts.push(`cannot be checked in check mode: ${uncheckable.join('; ')}`);
  }
  return { outputs: {}, message: secrets.maskText(parts.join('; ')), reason, hosts: order(planned, states) };
}

function order(planned: AnsiblePlanDocument, states: Map<string, HostStatus>): HostStatus[] {
  const names = [...new Set([...planned.hosts.map((h) => h.name), ...states.keys()])];
  return names.map((n) => states.get(n)).filter((s): s is HostStatus => s !== undefined);
}
