import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { repoRoot } from '../../testkit/files.ts';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  terraform: string;
  ansibleCore: string;
  git: string;
  openssh: string;
  loadAverage: number[];
  /** The Plumbline commit measured (`+changes` when the working tree differs from it). */
  plumbline: string;
}

function firstLine(command: string, args: string[]): string {
  try {
    const out = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CHECKPOINT_DISABLE: '1' } });
    return out.trim().split('\n')[0] ?? '';
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    return (e.stderr ?? '').trim().split('\n')[0] || `unavailable (${e.message.split('\n')[0]})`;
  }
}

/** The machine, the tools and the Plumbline revision whose daemons run (`checkout`). */
export function machineInfo(checkout: string = repoRoot): MachineInfo {
  let terraform = firstLine('terraform', ['version', '-json']);
  try {
    const out = execFileSync('terraform', ['version', '-json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, CHECKPOINT_DISABLE: '1' } });
    terraform = (JSON.parse(out) as { terraform_version: string }).terraform_version;
  } catch {
    // keep the first line
  }
  // ssh -V answers on standard error.
  const ssh = spawnSync('ssh', ['-V'], { encoding: 'utf8' });
  const sshLine = `${ssh.stderr ?? ''}${ssh.stdout ?? ''}`.trim().split('\n')[0] || 'unavailable';
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    terraform,
    ansibleCore: firstLine('ansible-playbook', ['--version']).replace(/^ansible-playbook \[core (.*)\]$/, '$1'),
    git: firstLine('git', ['--version']).replace(/^git version /, ''),
    openssh: sshLine.split(',')[0] ?? sshLine,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    plumbline: plumblineRevision(checkout),
  };
}

/** What the benchmark needs on the machine; missing pieces are named before anything starts. */
export function missingPrerequisites(needsHosts: boolean): string[] {
  const missing: string[] = [];
  const has = (command: string, args: string[]) => {
    try {
      execFileSync(command, args, { stdio: 'ignore', env: { ...process.env, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/dev/null' } });
      return true;
    } catch {
      return false;
    }
  };
  if (!has('git', ['--version'])) missing.push('git');
  if (!has('terraform', ['version'])) missing.push('terraform (on the PATH)');
  if (!has('tar', ['--version'])) missing.push('tar');
  if (needsHosts) {
    if (!has('ansible-playbook', ['--version'])) missing.push('ansible-core (ansible-playbook)');
    if (!has('test', ['-x', '/usr/sbin/sshd'])) missing.push('OpenSSH server (/usr/sbin/sshd)');
    if (!has('sh', ['-c', 'command -v ssh-keygen && command -v ssh'])) missing.push('OpenSSH client (ssh, ssh-keygen)');
    if (!has('ansible-doc', ['-t', 'callback', 'ansible.posix.json'])) missing.push('the ansible.posix collection (its json callback)');
  }
  return missing;
}

function plumblineRevision(checkout: string): string {
  const git = (args: string[]) => spawnSync('git', args, { cwd: checkout, encoding: 'utf8' });
  const head = git(['rev-parse', '--short=12', 'HEAD']);
  if (head.status !== 0) return 'unknown (not a Git checkout)';
  const dirty = git(['status', '--porcelain', '--', 'engine', 'providers', 'bin']).stdout.trim() !== '';
  return `${head.stdout.trim()}${dirty ? '+changes' : ''}`;
}
