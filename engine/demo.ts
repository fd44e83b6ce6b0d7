import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { normalizeConfig } from './config/load.ts';
import { acquireDaemonLock } from './daemon-lock.ts';
import { runDaemonWith } from './daemon.ts';
import { PlumblineError } from './errors.ts';
import { run } from './exec.ts';
import { installRoot } from './providers.ts';
import yaml from 'js-yaml';

/** Where the demo keeps its Git repository and state unless told otherwise. */
const DEFAULT_DEMO_ROOT = join(installRoot, '.plumbline', 'demo');
const EXAMPLE_FOLDERS = ['stacks', 'inventories'];
/** The example stack that creates the machines the example inventory configures. */
const MACHINES_STACK = 'stacks/machines';
const CHAIN_INVENTORY = 'inventories/web';
const SSHD = '/usr/sbin/sshd';
const SSHD_START_TIMEOUT_MS = 10_000;
const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'Plumbline demo',
  GIT_AUTHOR_EMAIL: 'demo@plumbline.invalid',
  GIT_COMMITTER_NAME: 'Plumbline demo',
  GIT_COMMITTER_EMAIL: 'demo@plumbline.invalid',
};

/**
 * `plumbline demo`: serve this repository's examples as a local Git repository
 * and run the daemon on it, so a new user sees a real plan and a real apply
 * within a minute. Re-running it commits any change made to the examples on top
 * of the previous demo commit, so the daemon sees an ordinary new commit.
 *
 * The examples form a chain: `stacks/machines` (Terraform) creates machines,
 * each an sshd server on a loopback address of this host, and
 * `inventories/web` (Ansible) configures them from that stack's outputs. The
 * demo gives the stack its folder (`<root>/machines`, never the repository)
 * and the client key Ansible logs in with. The machines' servers run while the
 * demo runs: it stops them when it exits and starts again those a previous run
 * left, as a host powers its machines off and on; Terraform's state is unchanged.
 */
export async function runDemo(options: { port?: number; stateDir?: string }): Promise<number> {
  const stopping = stopOnSignal();
  const root = options.stateDir ? resolve(options.stateDir) : DEFAULT_DEMO_ROOT;
  const bare = join(root, 'infra.git');
  await mkdir(root, { recursive: true, mode: 0o700 });
  const release = await lockDemo(root);
  try {
    const machines = await prepareMachines(root);
    try {
      return await demoWith(root, bare, machines, options, stopping);
    } finally {
      await machines?.stop();
    }
  } finally {
    await release();
  }
}

/**
 * SIGINT or SIGTERM sent to this process, at any moment: not only a terminal's
 * Ctrl-C once the daemon runs (the daemon hears those itself), but also one
 * that arrives while the demo starts its machines, or one `npm start` passes
 * on. The handlers are installed before anything starts and stay for the life
 * of the process: without them, a signal during startup would end the process
 * on the spot and leave the machines' SSH servers running.
 */
function stopOnSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) return;
    process.stderr.write(`Plumbline demo: ${signal} received, stopping the daemon and the machines.\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}

/** One demo per folder: the machines it starts and stops are its own. */
async function lockDemo(root: string): Promise<() => Promise<void>> {
  try {
    return await acquireDaemonLock(join(root, 'demo.lock'));
  } catch (error) {
    if (!(error instanceof PlumblineError) || error.code !== 'E_STATE_DIR_LOCKED') throw error;
    const pid = /pid (\d+)/.exec(error.message)?.[1];
    throw new PlumblineError('E_DEMO_RUNNING', `a Plumbline demo${pid ? ` (pid ${pid})` : ''} is already running on ${root}`, {
      retry: 'stalled',
      hint: `stop it (Ctrl-C in its terminal${pid ? `, or kill ${pid}` : ''}), or give this one another folder with --state-dir`,
    });
  }
}

async function demoWith(root: string, bare: string, machines: DemoMachines | null, options: { port?: number }, stopping: AbortSignal): Promise<number> {
  if (stopping.aborted) return 0;
  const revision = await publishExamples(bare, machines ? await machinesManifest(machines) : {});

  const cliConfigFile = await terraformCliConfig(root);
  const configFile = join(root, 'plumbline.yaml');
  const port = options.port ?? 7420;
  await writeFile(
    configFile,
    [
      '# Written by `plumbline demo`: the built-in examples served from a local Git repository.',
      'source:',
      `  url: file://${bare}`,
      '  branch: main',
      '  interval: 15s',
      `stateDir: ${join(root, 'state')}`,
      'api:',
      `  listen: 127.0.0.1:${port}`,
      'concurrency: 4',
      ...(cliConfigFile ? ['terraform:', `  cliConfigFile: ${cliConfigFile}`] : []),
      ...(machines ? ['ansible:', `  privateKeyFile: ${machines.privateKeyFile}`] : []),
      'defaults:',
      '  approval: auto-unless-destroy',
      ...(machines ? machinesGrantYaml(machines) : []),
      '',
    ].join('\n'),
  );
  const { config, problems } = normalizeConfig(
    {
      source: { url: `file://${bare}`, branch: 'main', interval: '15s' },
      stateDir: join(root, 'state'),
      api: { listen: `127.0.0.1:${port}` },
      concurrency: 4,
      ...(cliConfigFile ? { terraform: { cliConfigFile } } : {}),
      ...(machines ? { ansible: { privateKeyFile: machines.privateKeyFile } } : {}),
      defaults: { approval: 'auto-unless-destroy' },
      ...(machines ? { sandbox: { mode: 'auto', grants: [machinesGrant(machines)] } } : {}),
    },
    configFile,
  );
  if (!config) throw new Error(`demo config invalid: ${JSON.stringify(problems)}`);

  // Nothing runs between this check and the daemon installing its own signal
  // handlers (it does so as it is called): no signal can fall in between.
  if (stopping.aborted) return 0;
  return runDaemonWith(config, {
    onReady: ({ url }) => {
      process.stderr.write(
        [
          '',
          `Plumbline demo: watching ${bare} (commit ${revision.slice(0, 8)}), API on ${url}`,
          ...(machines
            ? [
                `${MACHINES_STACK} creates the machines ${CHAIN_INVENTORY} configures: ${machines.planned.map((m) => `${m.name} ${m.address}:${m.port}`).join(', ')}`,
                `  (SSH servers of this host; their files under ${machines.dir}/<name>/root/; stopped when the demo stops${machines.booted.length > 0 ? `; started again: ${machines.booted.join(', ')}` : ''})`,
              ]
            : []),
          'In another terminal:',
          `  npx plumbline status --config ${configFile}`,
          `  npx plumbline plans  --config ${configFile}`,
          `  npx plumbline show PLAN_ID --config ${configFile}`,
          `  npx plumbline approve PLAN_ID --config ${configFile}`,
          `Stop with Ctrl-C, or kill ${process.pid}.`,
          '',
        ].join('\n'),
      );
    },
  });
}

/**
 * What the machines stack needs beyond the sandbox every tool run gets: its
 * provisioners start SSH servers that outlive the apply and keep their files
 * under the demo's machines folder, and sshd, which runs as root, changes
 * user and root folder for each login.
 */
function machinesGrant(machines: DemoMachines) {
  return { units: [MACHINES_STACK.slice('stacks/'.length)], writable: [machines.dir], outlive: true, capabilities: [...SSHD_CAPABILITIES] };
}

const SSHD_CAPABILITIES = ['CAP_SYS_CHROOT', 'CAP_SETUID', 'CAP_SETGID', 'CAP_KILL'] as const;

function machinesGrantYaml(machines: DemoMachines): string[] {
  const grant = machinesGrant(machines);
  return [
    'sandbox:',
    '  mode: auto',
    '  grants:',
    `    # ${MACHINES_STACK} starts SSH servers that outlive its apply, with their files under ${grant.writable[0]}.`,
    `    - units: [${grant.units.join(', ')}]`,
    `      writable: [${grant.writable.join(', ')}]`,
    '      outlive: true',
    `      capabilities: [${grant.capabilities.join(', ')}]   # sshd runs as root: it changes user and root folder per login`,
  ];
}

interface DemoMachines {
  /** `<root>/machines`: one folder per machine (keys, sshd config, pid file, `root`). */
  dir: string;
  /** The key Ansible logs in with, and the authorized_keys every machine accepts. */
  privateKeyFile: string;
  authorizedKeysFile: string;
  /** The machines the example stack declares (for the welcome text). */
  planned: Array<{ name: string; address: string; port: number }>;
  /** Machines of a previous run started again. */
  booted: string[];
  /** Stop every machine's server. */
  stop(): Promise<void>;
}

/**
 * The folder and client key the machines stack is given, and the machines a
 * previous run created (Terraform still has them) started again. Without
 * ssh-keygen the demo goes on; the chain then fails at the machines stack.
 */
async function prepareMachines(root: string): Promise<DemoMachines | null> {
  if (!existsSync(join(installRoot, MACHINES_STACK, 'stack.yaml'))) return null;
  const dir = join(root, 'machines');
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const privateKeyFile = join(dir, 'client_ed25519');
    if (!existsSync(privateKeyFile) || !existsSync(`${privateKeyFile}.pub`)) {
      await rm(privateKeyFile, { force: true });
      await rm(`${privateKeyFile}.pub`, { force: true });
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'plumbline-demo', '-f', privateKeyFile], { timeoutMs: 30_000 });
    }
    const authorizedKeysFile = join(dir, 'authorized_keys');
    await writeFile(authorizedKeysFile, await readFile(`${privateKeyFile}.pub`, 'utf8'), { mode: 0o600 });
    const booted = await bootMachines(dir);
    return { dir, privateKeyFile, authorizedKeysFile, planned: await plannedMachines(), booted, stop: () => stopMachines(dir) };
  } catch (error) {
    process.stderr.write(`Plumbline demo: cannot prepare the machines of ${MACHINES_STACK} (${(error as Error).message}); the chain will fail until it can.\n`);
    return null;
  }
}

/** The example stack's `machines` and `port` vars, as the welcome text shows them. */
async function plannedMachines(): Promise<Array<{ name: string; address: string; port: number }>> {
  const manifest = yaml.load(await readFile(join(installRoot, MACHINES_STACK, 'stack.yaml'), 'utf8')) as { vars?: { machines?: Record<string, unknown>; port?: unknown } } | null;
  const port = Number(manifest?.vars?.port ?? 2222);
  return Object.entries(manifest?.vars?.machines ?? {}).map(([name, address]) => ({ name, address: String(address), port }));
}

/**
 * The example stack with the demo's folders as its `machines_dir` and
 * `authorized_keys_file` vars: the same text every run, so re-running the
 * demo commits nothing new.
 */
async function machinesManifest(machines: DemoMachines): Promise<Record<string, string>> {
  const path = `${MACHINES_STACK}/stack.yaml`;
  let text = await readFile(join(installRoot, path), 'utf8');
  const wanted = { machines_dir: machines.dir, authorized_keys_file: machines.authorizedKeysFile };
  for (const [name, value] of Object.entries(wanted)) {
    text = text.replace(new RegExp(`^(\\s+${name}:)[^\\n]*$`, 'm'), `$1 ${JSON.stringify(value)}`);
  }
  const vars = (yaml.load(text) as { vars?: Record<string, unknown> } | null)?.vars ?? {};
  const missing = Object.entries(wanted).filter(([name, value]) => vars[name] !== value).map(([name]) => name);
  if (missing.length > 0) {
    process.stderr.write(`Plumbline demo: ${path} has no vars line for ${missing.join(', ')}; the stack runs with what the file says.\n`);
  }
  return { [path]: text };
}

/** Machine folders: those with an sshd config. */
async function machineHomes(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'sshd_config'))).map((e) => join(dir, e.name));
}

/** Start the servers of machines whose server is not running (as after the previous demo stopped them). */
async function bootMachines(dir: string): Promise<string[]> {
  const booted: string[] = [];
  const homes = await machineHomes(dir);
  if (homes.length > 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 }).catch(() => undefined);
  await Promise.all(
    homes.map(async (home) => {
      const name = home.slice(dir.length + 1);
      if ((await serverPid(home)) !== undefined) return;
      const pidFile = join(home, 'sshd.pid');
      await rm(pidFile, { force: true });
      try {
        // Without -D, sshd detaches; it writes its pid file once it listens.
        await run(SSHD, ['-f', join(home, 'sshd_config'), '-E', join(home, 'sshd.log')], { timeoutMs: SSHD_START_TIMEOUT_MS });
        const deadline = Date.now() + SSHD_START_TIMEOUT_MS;
        while ((await serverPid(home)) === undefined) {
          if (Date.now() > deadline) throw new Error(`no pid file after ${SSHD_START_TIMEOUT_MS / 1000}s (see ${join(home, 'sshd.log')})`);
          await new Promise((r) => setTimeout(r, 50));
        }
        booted.push(name);
      } catch (error) {
        process.stderr.write(`Plumbline demo: cannot start machine ${name} again (${(error as Error).message}).\n`);
      }
    }),
  );
  return booted.sort();
}

async function stopMachines(dir: string): Promise<void> {
  await Promise.all(
    (await machineHomes(dir)).map(async (home) => {
      const pid = await serverPid(home);
      if (pid === undefined) return;
      // Connections are children of the listener, each in a session of its own.
      for (const child of await childrenOf(pid)) signal(child, 'SIGTERM');
      signal(pid, 'SIGTERM');
      const deadline = Date.now() + 3_000;
      while (Date.now() < deadline && (await isRunning(pid))) await new Promise((r) => setTimeout(r, 50));
    }),
  );
}

/** The pid of a machine's running server, from its pid file; undefined when it does not run. */
async function serverPid(home: string): Promise<number | undefined> {
  const pid = Number((await readFile(join(home, 'sshd.pid'), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 1 || !(await isRunning(pid))) return undefined;
  // A stale pid file may name another process by now: only an sshd of this machine counts.
  const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ');
  return cmdline.includes(join(home, 'sshd_config')) ? pid : undefined;
}

/** Running, and not a zombie waiting to be reaped. */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** Direct children of a process, from /proc. */
async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (stat && Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
  }
  return out;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Commit the examples (and `extra` files) into the demo repository; returns the head commit. */
async function publishExamples(bare: string, extra: Record<string, string>): Promise<string> {
  const git = (args: string[], cwd?: string) => run('git', args, { cwd, env: GIT_IDENTITY, timeoutMs: 60_000 });
  if (!existsSync(join(bare, 'HEAD'))) await git(['init', '--bare', '--quiet', '--initial-branch=main', bare]);
  const work = await mkdtemp(join(tmpdir(), 'plumbline-demo-'));
  try {
    const hasMain = (await git(['--git-dir', bare, 'branch', '--list', 'main'])).stdout.trim() !== '';
    if (hasMain) await git(['clone', '--quiet', '--branch', 'main', bare, work]);
    else await git(['init', '--quiet', '--initial-branch=main', work]);
    for (const folder of EXAMPLE_FOLDERS) {
      await rm(join(work, folder), { recursive: true, force: true });
      if (existsSync(join(installRoot, folder))) {
        await cp(join(installRoot, folder), join(work, folder), {
          recursive: true,
          filter: (source) => !/(^|\/)(\.terraform|node_modules|cdktf\.out)(\/|$)|\.tfstate/.test(source.slice(installRoot.length)),
        });
      }
    }
    for (const [path, content] of Object.entries(extra)) {
      await mkdir(dirname(join(work, path)), { recursive: true });
      await writeFile(join(work, path), content);
    }
    if (!(await readdir(work)).includes('README.md')) {
      await writeFile(join(work, 'README.md'), '# Demo infrastructure repository\n\nServed by `plumbline demo`.\n');
    }
    await git(['add', '--all'], work);
    const dirty = (await git(['status', '--porcelain'], work)).stdout.trim() !== '';
    if (dirty) {
      await git(['commit', '--quiet', '-m', hasMain ? 'Update the examples' : 'Plumbline examples'], work);
      await git(['push', '--quiet', bare, 'HEAD:main'], work);
    }
    return (await git(['--git-dir', bare, 'rev-parse', 'main'])).stdout.trim();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Terraform needs to find providers: keep the operator's CLI config if there is
 * one, use a local provider mirror if the machine has one, else Terraform's own
 * defaults (the public registry).
 */
async function terraformCliConfig(root: string): Promise<string | null> {
  const fromEnv = process.env.TF_CLI_CONFIG_FILE;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const mirror = process.env.PLUMBLINE_PROVIDER_MIRROR ?? '/opt/tf-plugins';
  if (!existsSync(mirror)) return null;
  const file = join(root, 'terraformrc');
  await writeFile(file, `provider_installation {\n  filesystem_mirror {\n    path = "${mirror}"\n  }\n}\n`);
  return file;
}
