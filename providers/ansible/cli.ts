import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { type DaemonConfig, type ExecResult, type Logger, run, runSandbox, type SandboxSpec, settingsOf, ToolError, type UnitDefinition, workspaceRoot } from '../../engine/provider-kit.ts';
import { type ConfigFile, parseIni, runConfigFile } from './config-file.ts';
import { generatedInventory, knownHostsLines, parseHostsFrom, type UpstreamHost } from './hosts-from.ts';
import { parseInventoryList, type InventoryList } from './inventory.ts';
import type { InventorySpec } from './manifest.ts';
import { parsePlaybookOutput, type PlaybookOutput } from './output-schema.ts';
import { ansibleToolNeeds, manifestFilesGranted } from './sandbox.ts';
import { type AnsibleSettings, ansibleSettingsPart } from './settings.ts';
import { type MitogenPlugins, type MitogenStrategy, mitogenStrategyFor, strategyEnv } from './strategy.ts';

/**
 * How Plumbline runs Ansible: the environment every ansible process gets,
 * the SSH options that make host keys always checked, the paths of one run.
 */

export function ansibleSettings(config: DaemonConfig): AnsibleSettings {
  return settingsOf(config, ansibleSettingsPart);
}

/** Exit codes of ansible-playbook that still come with a full JSON result: failed (2), unreachable (4) hosts, a play stopped (8). */
const RESULT_EXIT_CODES = [0, 2, 4, 6, 8, 10, 12, 14];
/** sun_path holds 108 bytes; ssh adds a 17-character suffix while it binds; %C is 40 hex characters. */
const MAX_CONTROL_DIR_LENGTH = 107 - 1 - 40 - 17;
/** In the run's artifacts folder: the hosts of `hostsFrom` as an inventory, and the known_hosts of the run. */
export const HOSTS_FROM_INVENTORY = 'hosts-from.yml';
export const RUN_KNOWN_HOSTS = 'known_hosts';

export interface RunContext {
  unit: UnitDefinition;
  spec: InventorySpec;
  settings: AnsibleSettings;
  /**
   * Mitogen's strategy plugins (found when the provider was built) and the
   * strategy among them, when the run uses mitogen; null: Ansible's own.
   */
  mitogen: MitogenStrategy | null;
  /** The repository at the run's revision (the parent of the unit folder). */
  treeRoot: string;
  /**
   * Folders whose paths are shown repository-relative: the workspace tree
   * and the read-only snapshot it links into (Ansible resolves links).
   */
  roots: string[];
  workdir: string;
  /** A private folder for this run: Ansible's local temp, the extra-vars file. */
  runDir: string;
  /** Every `-i` of the run, in order: the static inventory, then the hosts of `hostsFrom`. */
  inventoryPaths: string[];
  /** The inventory as shown to people (`inventories/web/hosts.yml + hostsFrom machines.hosts`). */
  inventoryLabel: string;
  playbookPath: string;
  /** `ANSIBLE_CONFIG`: the repository's ansible.cfg in force, or an empty file. */
  configFile: string;
  /** The ansible.cfg in force, repository-relative; null when the repository has none. */
  configLabel: string | null;
  /** Absolute path of the known_hosts file in force. */
  knownHostsFile: string;
  /** As shown to people: repository-relative when it comes from the repository. */
  knownHostsLabel: string;
  privateKeyFile: string | null;
  /** ControlPath folder, or null without ControlPersist. */
  controlDir: string | null;
  vars: Record<string, unknown>;
  log: Logger;
  signal: AbortSignal;
  /** What every ansible process of the run sees (engine/sandbox). */
  sandbox: SandboxSpec;
}

/**
 * Paths and settings of one run; refuses early when no known_hosts is there to
 * check hosts against. With `hostsFrom`, validates the upstream hosts and
 * writes them as an extra inventory, and the run's known_hosts (the
 * inventory's own plus the upstream host keys), into `artifactsDir`.
 */
export async function runContext(input: {
  unit: UnitDefinition;
  workdir: string;
  /** The read-only repository the workspace links into (RunRequest.repoDir). */
  repoDir?: string;
  runDir: string;
  artifactsDir: string;
  /** The unit's state folder (RunRequest.unitStateDir). */
  unitStateDir?: string;
  config: DaemonConfig;
  /** See RunContext.mitogen; absent: Ansible's own strategy. */
  mitogen?: MitogenPlugins | null;
  vars: Record<string, unknown>;
  /** `hostsFrom`, resolved (its value in RunRequest.resolvedSpec). */
  inventoryHosts?: unknown;
  log: Logger;
  signal: AbortSignal;
}): Promise<RunContext> {
  const spec = input.unit.spec as InventorySpec;
  const settings = ansibleSettings(input.config);
  const treeRoot = treeRootOf(input.workdir, input.unit.path);
  const reference = spec.hostsFrom?.fromOutput;
  let upstream: UpstreamHost[] | null = null;
  const inventoryPaths = spec.inventory ? [join(treeRoot, spec.inventory)] : [];
  if (reference !== undefined) {
    if (input.inventoryHosts === undefined) {
      throw new ToolError('E_HOSTS_FROM', `${input.unit.name}: hostsFrom ${reference} was not resolved for this run`, { retry: 'stalled' });
    }
    upstream = parseHostsFrom(input.inventoryHosts, input.unit.name, reference);
    const generated = join(input.artifactsDir, HOSTS_FROM_INVENTORY);
    await mkdir(input.artifactsDir, { recursive: true, mode: 0o700 });
    await writeFile(generated, generatedInventory(upstream), { mode: 0o600 });
    inventoryPaths.push(generated);
  }
  const known = await runKnownHosts(input.unit, spec, treeRoot, input.config.stateDir, upstream, input.artifactsDir);
  await manifestFilesGranted(input.unit, [
    { field: 'ssh.privateKeyFile', path: spec.ssh.privateKeyFile },
    { field: 'ssh.knownHostsFile', path: isAbsolute(spec.ssh.knownHostsFile) ? spec.ssh.knownHostsFile : null },
  ], input.config);
  const privateKeyFile = spec.ssh.privateKeyFile ?? settings.privateKeyFile;
  const controlDir = settings.controlPersistMs === null ? null : await ensureControlDir(input.config.stateDir, input.unit.name);
  await mkdir(join(input.runDir, 'ansible-tmp'), { recursive: true, mode: 0o700 });
  const configFile = await runConfigFile(treeRoot, input.unit, spec, input.runDir);
  const mitogen = input.mitogen ? await mitogenForConfig(input.mitogen, configFile, input.log) : null;
  const sandbox = runSandbox(
    input.config,
    { unit: input.unit, workdir: input.workdir, artifactsDir: input.artifactsDir, ...(input.repoDir ? { repoDir: input.repoDir } : {}), ...(input.unitStateDir ? { unitStateDir: input.unitStateDir } : {}) },
    // The run folder holds Ansible's local temp, the extra-vars and limit files, the config stand-in.
    { readOnly: [...ansibleToolNeeds(settings), mitogen?.strategyPlugins ?? null, privateKeyFile, known.file], readWrite: [input.runDir, controlDir] },
  );
  return {
    unit: input.unit,
    spec,
    settings,
    mitogen,
    treeRoot,
    roots: [treeRoot, ...(input.repoDir ? [input.repoDir] : [])],
    workdir: input.workdir,
    runDir: input.runDir,
    inventoryPaths,
    inventoryLabel: [spec.inventory, reference !== undefined ? `hostsFrom ${reference}` : null].filter((p) => p !== null).join(' + '),
    playbookPath: join(treeRoot, spec.playbook),
    configFile: configFile.file,
    configLabel: configFile.label,
    knownHostsFile: known.file,
    knownHostsLabel: known.label,
    privateKeyFile,
    controlDir,
    vars: input.vars,
    log: input.log,
    signal: input.signal,
    sandbox,
  };
}

/** The unit folder is `<treeRoot>/<unit.path>`. */
export const treeRootOf = workspaceRoot;

/**
 * Mitogen's counterpart of the strategy the repository's ansible.cfg chose;
 * null, said in the run's log, when mitogen has none (the run keeps it).
 */
async function mitogenForConfig(plugins: MitogenPlugins, configFile: ConfigFile, log: Logger): Promise<MitogenStrategy | null> {
  const configured = parseIni(await readFile(configFile.file, 'utf8')).get('defaults')?.get('strategy');
  const strategy = mitogenStrategyFor(configured);
  if (strategy) return { ...plugins, strategy };
  log.info({ strategy: configured, config: configFile.label }, "the repository's ansible.cfg chooses a strategy mitogen has no counterpart of: this run keeps it");
  return null;
}

/**
 * The inventory's known_hosts: the manifest's `ssh.knownHostsFile` (default
 * `known_hosts` in the inventory folder); when that default is not in the
 * repository, `<stateDir>/known_hosts/<inventory>` on the control host.
 */
export function resolveKnownHosts(unit: UnitDefinition, spec: InventorySpec, treeRoot: string, stateDir: string): { file: string; label: string };
export function resolveKnownHosts(
  unit: UnitDefinition,
  spec: InventorySpec,
  treeRoot: string,
  stateDir: string,
  options: { optional: true },
): { file: string; label: string } | null;
export function resolveKnownHosts(
  unit: UnitDefinition,
  spec: InventorySpec,
  treeRoot: string,
  stateDir: string,
  options: { optional: boolean } = { optional: false },
): { file: string; label: string } | null {
  const named = spec.ssh.knownHostsFile;
  const file = isAbsolute(named) ? named : join(treeRoot, named);
  if (existsSync(file)) return { file, label: named };
  const fallback = join(stateDir, 'known_hosts', unit.name);
  const isDefault = named === `${unit.path}/known_hosts`;
  if (isDefault && existsSync(fallback)) return { file: fallback, label: fallback };
  // Only the default may be absent, when the upstream brings host keys: a file the manifest names must exist.
  if (isDefault && options.optional) return null;
  throw new ToolError(
    'E_KNOWN_HOSTS_MISSING',
    isDefault
      ? `no known_hosts for inventory ${unit.name}: neither ${named} in the repository nor ${fallback} on the control host exists`
      : `the known_hosts file ${named} of inventory ${unit.name} does not exist`,
    {
      retry: 'stalled',
      hint: 'Plumbline always checks host keys: commit the hosts\' public keys as known_hosts in the inventory folder (compare their fingerprints with `ssh-keygen -lf` on each host), or place the file on the control host',
    },
  );
}

/**
 * The known_hosts of a run. Without upstream host keys, the inventory's file
 * as it is. With them, a file in the artifacts folder holding the inventory's
 * entries (when it has a file) and one line per upstream key, for the address
 * and port the upstream declared: the keys come from the unit that created the
 * hosts, so they are trusted like a committed known_hosts, never learned on
 * first use. Hosts without a key anywhere still fail the check.
 */
async function runKnownHosts(
  unit: UnitDefinition,
  spec: InventorySpec,
  treeRoot: string,
  stateDir: string,
  upstream: UpstreamHost[] | null,
  artifactsDir: string,
): Promise<{ file: string; label: string }> {
  const lines = upstream ? knownHostsLines(upstream, spec.ssh.port) : [];
  const reference = spec.hostsFrom?.fromOutput;
  if (lines.length === 0) {
    if (!upstream) return resolveKnownHosts(unit, spec, treeRoot, stateDir);
    const base = resolveKnownHosts(unit, spec, treeRoot, stateDir, { optional: true });
    if (base) return base;
    throw new ToolError(
      'E_KNOWN_HOSTS_MISSING',
      `no known_hosts for inventory ${unit.name}: neither ${spec.ssh.knownHostsFile} in the repository nor ${join(stateDir, 'known_hosts', unit.name)} on the control host exists, and ${reference} gives no hostKey`,
      {
        retry: 'stalled',
        hint: 'Plumbline always checks host keys: publish each host\'s public key as hostKey in the upstream output, or commit the hosts\' keys as known_hosts in the inventory folder',
      },
    );
  }
  const base = resolveKnownHosts(unit, spec, treeRoot, stateDir, { optional: true });
  const own = base ? await readFile(base.file, 'utf8') : '';
  const file = join(artifactsDir, RUN_KNOWN_HOSTS);
  const text = [own.replace(/\n?$/, '\n').replace(/^\n$/, ''), `# host keys from ${reference}, published by the unit that created the hosts\n`, `${lines.join('\n')}\n`].join('');
  await mkdir(artifactsDir, { recursive: true, mode: 0o700 });
  await writeFile(file, text, { mode: 0o600 });
  return { file, label: base ? `${base.label} + host keys from ${reference}` : `host keys from ${reference}` };
}

/**
 * One ControlPath folder per inventory: a connection left open by one
 * inventory logged in with its key, and must not serve another's runs.
 */
async function ensureControlDir(stateDir: string, unit: string): Promise<string> {
  const own = shortHash(unit, 8);
  let dir = join(stateDir, 'cp', own);
  if (dir.length > MAX_CONTROL_DIR_LENGTH) {
    // A deep stateDir would overflow the unix socket path limit.
    dir = join(tmpdir(), `plumbline-cp-${shortHash(stateDir, 12)}`, own);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  return dir;
}

function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

function quoteSshValue(value: string): string {
  return /[\s"']/.test(value) ? `"${value.replace(/(["\\])/g, '\\$1')}"` : value;
}

/**
 * OpenSSH options for every connection. ssh keeps the first value it sees for
 * an option and Ansible puts these first, so inventory variables such as
 * `ansible_ssh_extra_args` cannot turn host key checking off.
 */
export function sshArgs(ctx: Pick<RunContext, 'knownHostsFile' | 'controlDir' | 'settings' | 'privateKeyFile'>): string {
  const known = quoteSshValue(ctx.knownHostsFile);
  const args = [
    '-o StrictHostKeyChecking=yes',
    `-o UserKnownHostsFile=${known}`,
    `-o GlobalKnownHostsFile=${known}`,
    // First value wins in ssh: no host key command can be slipped in later (ssh_common_args, inventory vars).
    '-o KnownHostsCommand=none',
  ];
  if (ctx.privateKeyFile) args.push('-o IdentitiesOnly=yes');
  if (ctx.controlDir && ctx.settings.controlPersistMs !== null) {
    args.push(
      '-o ControlMaster=auto',
      `-o ControlPersist=${Math.max(1, Math.round(ctx.settings.controlPersistMs / 1000))}s`,
      `-o ControlPath=${quoteSshValue(join(ctx.controlDir, '%C'))}`,
    );
  }
  return args.join(' ');
}

/**
 * The environment of every ansible process of a run. Environment variables
 * beat the config file in Ansible's precedence: what is set here holds
 * whatever the repository's ansible.cfg says.
 */
export function ansibleEnv(ctx: RunContext): Record<string, string> {
  return {
    ...baseEnv(join(ctx.runDir, 'ansible-tmp'), ctx.configFile),
    ANSIBLE_STDOUT_CALLBACK: 'ansible.posix.json',
    ANSIBLE_JSON_INDENT: '0',
    ANSIBLE_PIPELINING: ctx.settings.pipelining ? 'True' : 'False',
    ANSIBLE_SSH_ARGS: sshArgs(ctx),
    ...strategyEnv(ctx.settings, ctx.mitogen),
    ...(ctx.spec.ssh.port ? { ANSIBLE_REMOTE_PORT: String(ctx.spec.ssh.port) } : {}),
  };
}

export function baseEnv(localTemp: string, configFile: string): Record<string, string> {
  return {
    ANSIBLE_CONFIG: configFile,
    ANSIBLE_HOST_KEY_CHECKING: 'True',
    ANSIBLE_RETRY_FILES_ENABLED: 'False',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_LOCAL_TEMP: localTemp,
    ANSIBLE_INVENTORY_UNPARSED_FAILED: 'True',
    ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED: 'True',
    ANSIBLE_DEPRECATION_WARNINGS: 'False',
    PYTHONUNBUFFERED: '1',
  };
}

export async function listInventory(ctx: RunContext): Promise<InventoryList> {
  const result = await run(
    ctx.settings.inventoryBinary,
    [...inventoryArgs(ctx), '--list', ...(ctx.settings.vaultPasswordFile ? ['--vault-password-file', ctx.settings.vaultPasswordFile] : [])],
    {
      cwd: ctx.workdir,
      env: ansibleEnv(ctx),
      sandbox: ctx.sandbox,
      timeoutMs: Math.min(ctx.settings.timeoutMs, 5 * 60_000),
      signal: ctx.signal,
      log: ctx.log,
      classify: () => ({ code: 'E_ANSIBLE_INVENTORY', retry: 'stalled', hint: `fix the inventory ${ctx.inventoryLabel} and commit` }),
    },
  );
  return parseInventoryList(result.stdout);
}

/** `-i static -i generated`: later sources win for a host both define. */
function inventoryArgs(ctx: Pick<RunContext, 'inventoryPaths'>): string[] {
  return ctx.inventoryPaths.flatMap((path) => ['-i', path]);
}

export interface PlaybookRun {
  output: PlaybookOutput;
  exitCode: number;
  durationMs: number;
}

export interface PlaybookOptions {
  check: boolean;
  /**
   * `--diff` with `--check` (default true): a plan shows what would change.
   * The convergence check only needs to know whether anything would: without
   * it, a file that would change is not read back from the host to be shown.
   */
  diff?: boolean;
  /** Restricts the run to those hosts; without it, every host the plays target. */
  limit?: readonly string[];
  forks: number;
}

/** The arguments of one ansible-playbook run; `files` are the run's extra-vars and limit files. */
export function playbookArgs(ctx: Pick<RunContext, 'inventoryPaths' | 'playbookPath' | 'spec' | 'privateKeyFile' | 'settings'>, options: PlaybookOptions, files: { vars: string; limit: string }): string[] {
  return [
    ...inventoryArgs(ctx),
    ctx.playbookPath,
    '--forks',
    String(options.forks),
    ...(options.limit ? ['--limit', `@${files.limit}`] : []),
    '-e',
    `@${files.vars}`,
    ...(options.check ? ['--check', ...(options.diff === false ? [] : ['--diff'])] : []),
    ...(ctx.spec.ssh.user ? ['--user', ctx.spec.ssh.user] : []),
    ...(ctx.privateKeyFile ? ['--private-key', ctx.privateKeyFile] : []),
    ...(ctx.settings.vaultPasswordFile ? ['--vault-password-file', ctx.settings.vaultPasswordFile] : []),
  ];
}

export async function runPlaybook(ctx: RunContext, options: PlaybookOptions): Promise<PlaybookRun> {
  const varsFile = join(ctx.runDir, `extra-vars-${process.pid}-${Date.now()}.json`);
  const limitFile = join(ctx.runDir, `limit-${process.pid}-${Date.now()}.txt`);
  const enforced = {
    ...ctx.vars,
    // Extra vars win over every inventory variable: host keys stay checked.
    ansible_host_key_checking: true,
    ansible_ssh_host_key_checking: true,
    ansible_ssh_args: sshArgs(ctx),
  };
  await mkdir(dirname(varsFile), { recursive: true, mode: 0o700 });
  await writeFile(varsFile, JSON.stringify(enforced), { mode: 0o600 });
  if (options.limit) await writeFile(limitFile, `${options.limit.join('\n')}\n`, { mode: 0o600 });
  const args = playbookArgs(ctx, options, { vars: varsFile, limit: limitFile });
  let result: ExecResult;
  try {
    result = await run(ctx.settings.playbookBinary, args, {
      cwd: ctx.workdir,
      env: ansibleEnv(ctx),
      sandbox: ctx.sandbox,
      timeoutMs: ctx.settings.timeoutMs,
      signal: ctx.signal,
      log: ctx.log,
      okExitCodes: RESULT_EXIT_CODES,
      // An apply finishes even if the daemon dies under it (a check run is only a plan).
      outlivesDaemon: !options.check,
      classify: () => ({
        code: 'E_ANSIBLE_FAILED',
        retry: 'stalled',
        hint: `run \`plumbline validate\` on the repository; fix ${ctx.spec.playbook} or its roles and commit`,
      }),
    });
  } finally {
    await rm(varsFile, { force: true });
    await rm(limitFile, { force: true });
  }
  return { output: parsePlaybookOutput(result.stdout), exitCode: result.exitCode, durationMs: result.durationMs };
}

/**
 * `--forks`: one per host, at most the manifest's `forks` and the daemon's
 * `maxForks` (pass Infinity when the hosts are not known yet: Ansible starts
 * no more workers than a play has hosts).
 */
export function forksFor(hostCount: number, spec: InventorySpec, settings: AnsibleSettings): number {
  const wanted = spec.forks ?? hostCount;
  return Math.max(1, Math.min(wanted, settings.maxForks));
}
