import { readFileSync } from 'node:fs';
import { findExecutable, type Logger, run, ToolError } from '../../engine/provider-kit.ts';
import type { AnsibleSettings } from './settings.ts';

/**
 * Ansible's execution strategy. `linear` is Ansible's own, as the repository's
 * ansible.cfg sets it. `mitogen` runs the plays with the strategy plugins of
 * the mitogen package (Debian's `ansible-mitogen`): one Python per host that
 * stays up for the whole run and receives each module over the SSH
 * connection, instead of a new Python (and a module copy) per task. The host's
 * Python start-up is most of a task's time on small hosts.
 */

/** What a run needs to use mitogen: the folder of its strategy plugins (`ANSIBLE_STRATEGY_PLUGINS`). */
export interface MitogenPlugins {
  strategyPlugins: string;
}

/** What a run under mitogen sets: its plugins and the strategy among them (`mitogen_linear`...). */
export interface MitogenStrategy extends MitogenPlugins {
  strategy: string;
}

/** Ansible's own strategies that mitogen has a counterpart of, with the same order of tasks and hosts. */
const MITOGEN_COUNTERPARTS = new Set(['linear', 'free', 'host_pinned']);

/**
 * Mitogen's counterpart of the strategy the repository's ansible.cfg chose
 * (`[defaults] strategy`; Ansible's default is linear): `free` runs as
 * `mitogen_free`, and so on. Null for a strategy mitogen has none of (a
 * plugin of the repository's, `debug`): Ansible then runs it as configured.
 */
export function mitogenStrategyFor(configured: string | undefined): string | null {
  const name = (configured ?? '').trim().replace(/^ansible\.builtin\./, '') || 'linear';
  if (MITOGEN_COUNTERPARTS.has(name)) return `mitogen_${name}`;
  if (name.startsWith('mitogen_') && MITOGEN_COUNTERPARTS.has(name.slice('mitogen_'.length))) return name;
  return null;
}

const INSTALL_HINT =
  'install mitogen for the Python that runs ansible-playbook (Debian: `apt-get install ansible-mitogen`; a virtualenv: `pip install mitogen` in it), or set `strategy: auto` or `linear` in the ansible section of plumbline.yaml';

/**
 * The interpreter line of a Python script (`#!/usr/bin/python3`,
 * `#!/usr/bin/env python3`, `#!/venv/bin/python -E`), as a command and its
 * arguments; null when the file does not start with one.
 */
export function interpreterOf(scriptText: string): string[] | null {
  const first = /^#!\s*(.+)/.exec(scriptText.split('\n', 1)[0] ?? '')?.[1]?.trim();
  if (!first) return null;
  const words = first.split(/\s+/);
  // `env` finds the interpreter on PATH; `env -S` splits the rest as arguments.
  if (/(^|\/)env$/.test(words[0]!)) return words.slice(1).filter((w) => w !== '-S');
  return words;
}

/** Settings that choose the strategy. */
type StrategySettings = Pick<AnsibleSettings, 'playbookBinary' | 'strategy'>;

/**
 * Asks the Python that runs ansible-playbook where mitogen's strategy plugins
 * are: when the strategy is `mitogen` or `auto`, at the daemon's start and at
 * `plumbline validate`, so a missing package is said then and not in the
 * middle of a plan. Throws E_ANSIBLE_MITOGEN_MISSING.
 */
export async function findMitogen(settings: StrategySettings, log?: Logger): Promise<MitogenPlugins> {
  const asked = `ansible.strategy is ${settings.strategy}, but`;
  const binary = findExecutable(settings.playbookBinary, process.env.PATH);
  if (!binary) throw missing(`${asked} ${settings.playbookBinary} is not found on PATH`);
  let interpreter: string[] | null;
  try {
    interpreter = interpreterOf(readFileSync(binary, 'utf8').slice(0, 512));
  } catch (error) {
    throw missing(`${asked} ${binary} cannot be read to find its Python`, error);
  }
  if (!interpreter) throw missing(`${asked} ${binary} is not a Python script: Plumbline cannot tell which Python runs Ansible`);
  const [command, ...args] = interpreter;
  const probe = 'import os, ansible_mitogen.plugins.strategy as s; print(os.path.realpath(list(s.__path__)[0]))';
  let result: Awaited<ReturnType<typeof run>>;
  try {
    result = await run(command!, [...args, '-c', probe], { timeoutMs: 60_000, okExitCodes: [0, 1], ...(log ? { log } : {}) });
  } catch (error) {
    // Another exit code: the interpreter is no Python (a shell wrapper), or not there.
    if (error instanceof ToolError && error.code === 'E_TOOL_FAILED') throw missing(`${asked} ${binary} is run by ${interpreter.join(' ')}, which cannot load ansible_mitogen`, error);
    throw error;
  }
  const folder = result.stdout.trim().split('\n').pop() ?? '';
  if (result.exitCode !== 0 || !folder) {
    const why = /ModuleNotFoundError|ImportError/.test(result.stderr) ? 'has no ansible_mitogen module' : `cannot load ansible_mitogen: ${result.stderr.trim().split('\n').pop() ?? ''}`;
    throw missing(`${asked} the Python of ${binary} (${interpreter.join(' ')}) ${why}`);
  }
  return { strategyPlugins: folder };
}

/** `auto`'s choice per ansible-playbook binary: one look per process (a daemon run, a command). */
const autoChoices = new Map<string, Promise<MitogenPlugins | null>>();

/**
 * The strategy a run uses: null for Ansible's `linear`, mitogen's plugins for
 * `mitogen`. `auto` takes mitogen when its plugins are found for Ansible's
 * Python and `linear` when they are not, said once in the log; an explicit
 * `mitogen` without them throws E_ANSIBLE_MITOGEN_MISSING.
 */
export function chooseStrategy(settings: StrategySettings, log?: Logger): Promise<MitogenPlugins | null> {
  if (settings.strategy === 'linear') return Promise.resolve(null);
  if (settings.strategy === 'mitogen') return findMitogen(settings, log);
  const known = autoChoices.get(settings.playbookBinary);
  if (known) return known;
  const choice = findMitogen(settings, log).then(
    (plugins) => {
      log?.info({ strategy: 'mitogen', strategyPlugins: plugins.strategyPlugins }, 'ansible.strategy auto: plays run with the mitogen strategy');
      return plugins;
    },
    (error: unknown) => {
      if (!(error instanceof ToolError) || error.code !== 'E_ANSIBLE_MITOGEN_MISSING') {
        // Not an answer (a timeout, say): the next run looks again.
        autoChoices.delete(settings.playbookBinary);
        throw error;
      }
      log?.info({ strategy: 'linear', reason: error.message }, "ansible.strategy auto: mitogen is not found for Ansible's Python, plays run with Ansible's linear strategy");
      return null;
    },
  );
  autoChoices.set(settings.playbookBinary, choice);
  return choice;
}

function missing(message: string, cause?: unknown): ToolError {
  return new ToolError('E_ANSIBLE_MITOGEN_MISSING', message, { retry: 'stalled', hint: INSTALL_HINT, ...(cause ? { cause } : {}) });
}

/**
 * The environment that selects the strategy. Environment variables beat the
 * repository's ansible.cfg: under mitogen the strategy set is the counterpart
 * of the one it chose (mitogenStrategyFor), and a play's own `strategy:`
 * keyword still wins for that play. Mitogen's connect
 * timeout (`ANSIBLE_TIMEOUT`) covers its whole start on a host (the SSH login,
 * the Python start, its own code sent over), which takes far longer than a
 * TCP connect on a loaded host.
 */
export function strategyEnv(settings: Pick<AnsibleSettings, 'connectTimeoutMs' | 'mitogenConnectTimeoutMs'>, mitogen: MitogenStrategy | null): Record<string, string> {
  if (!mitogen) return { ANSIBLE_TIMEOUT: seconds(settings.connectTimeoutMs) };
  return {
    ANSIBLE_STRATEGY_PLUGINS: mitogen.strategyPlugins,
    ANSIBLE_STRATEGY: mitogen.strategy,
    ANSIBLE_TIMEOUT: seconds(settings.mitogenConnectTimeoutMs),
  };
}

function seconds(ms: number): string {
  return String(Math.max(1, Math.round(ms / 1000)));
}
