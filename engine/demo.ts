import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { normalizeConfig } from './config/load.ts';
import { runDaemonWith } from './daemon.ts';
import { run } from './exec.ts';
import { installRoot } from './providers.ts';
import { startSshHosts, type SshHosts } from './ssh-hosts.ts';
import yaml from 'js-yaml';

/** Where the demo keeps its Git repository and state unless told otherwise. */
const DEFAULT_DEMO_ROOT = join(installRoot, '.plumbline', 'demo');
const EXAMPLE_FOLDERS = ['stacks', 'inventories'];
/** The example inventory whose hosts the demo starts as local SSH servers. */
const DEMO_INVENTORY = 'web';
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
 * The example inventory's hosts run as throwaway sshd servers on loopback
 * (127.0.0.2-4) for as long as the demo runs; their known_hosts and the
 * folders standing for their filesystems are committed with the examples.
 */
export async function runDemo(options: { port?: number; stateDir?: string }): Promise<number> {
  const root = options.stateDir ? resolve(options.stateDir) : DEFAULT_DEMO_ROOT;
  const bare = join(root, 'infra.git');
  await mkdir(root, { recursive: true, mode: 0o700 });
  const ssh = await startDemoHosts(root);
  try {
    return await demoWith(root, bare, ssh, options);
  } finally {
    await ssh?.stop();
  }
}

async function demoWith(root: string, bare: string, ssh: SshHosts | null, options: { port?: number }): Promise<number> {
  const revision = await publishExamples(bare, ssh ? await demoHostFiles(ssh) : {});

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
      ...(ssh ? ['ansible:', `  privateKeyFile: ${ssh.privateKeyFile}`] : []),
      'defaults:',
      '  approval: auto-unless-destroy',
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
      ...(ssh ? { ansible: { privateKeyFile: ssh.privateKeyFile } } : {}),
      defaults: { approval: 'auto-unless-destroy' },
    },
    configFile,
  );
  if (!config) throw new Error(`demo config invalid: ${JSON.stringify(problems)}`);

  return runDaemonWith(config, {
    onReady: ({ url }) => {
      process.stderr.write(
        [
          '',
          `Plumbline demo: watching ${bare} (commit ${revision.slice(0, 8)}), API on ${url}`,
          ...(ssh ? [`SSH hosts of inventories/${DEMO_INVENTORY}: ${ssh.hosts.map((h) => `${h.name} ${h.address}:${h.port} (files under ${h.root})`).join(', ')}`] : []),
          'In another terminal:',
          `  npx plumbline status --config ${configFile}`,
          `  npx plumbline plans  --config ${configFile}`,
          `  npx plumbline show PLAN_ID --config ${configFile}`,
          `  npx plumbline approve PLAN_ID --config ${configFile}`,
          'Stop with Ctrl-C.',
          '',
        ].join('\n'),
      );
    },
  });
}

/**
 * Start the example inventory's hosts (`inventories/web/hosts.yml`) as local
 * sshd servers, with the keys of the previous run when there was one. Without
 * sshd the demo goes on; the inventory then fails its preflight.
 */
async function startDemoHosts(root: string): Promise<SshHosts | null> {
  const hostsFile = join(installRoot, 'inventories', DEMO_INVENTORY, 'hosts.yml');
  if (!existsSync(hostsFile)) return null;
  try {
    const hosts = exampleHosts(yaml.load(await readFile(hostsFile, 'utf8')));
    if (hosts.length === 0) return null;
    return await startSshHosts({
      count: hosts.length,
      firstAddress: hosts[0]!.address,
      port: hosts[0]!.port,
      names: hosts.map((h) => h.name),
      dir: join(root, 'hosts'),
      reuseKeys: true,
    });
  } catch (error) {
    process.stderr.write(`Plumbline demo: cannot start the SSH hosts of inventories/${DEMO_INVENTORY} (${(error as Error).message}); it will fail until they run.\n`);
    return null;
  }
}

/** Hosts of the example inventory, in order: consecutive loopback addresses, one port. */
function exampleHosts(inventory: unknown): Array<{ name: string; address: string; port: number }> {
  const all = (inventory as { all?: { children?: Record<string, { hosts?: Record<string, Record<string, unknown> | null> }> } })?.all;
  const hosts = all?.children?.[DEMO_INVENTORY]?.hosts ?? {};
  return Object.entries(hosts).map(([name, vars]) => ({
    name,
    address: String(vars?.ansible_host ?? name),
    port: Number(vars?.ansible_port ?? 22),
  }));
}

/** Files the demo adds to the example inventory: the hosts' keys and their root folders. */
async function demoHostFiles(ssh: SshHosts): Promise<Record<string, string>> {
  const folder = `inventories/${DEMO_INVENTORY}`;
  const files: Record<string, string> = {};
  files[`${folder}/known_hosts`] = await readFile(ssh.knownHostsFile, 'utf8');
  for (const host of ssh.hosts) {
    files[`${folder}/host_vars/${host.name}.yml`] = `# Written by plumbline demo: this host's files live in a folder of the control host.\nplumbline_root: ${host.root}\n`;
  }
  return files;
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
