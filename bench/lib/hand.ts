import { spawn } from 'node:child_process';

/** Run a tool the way an operator would at a shell; returns the wall time in ms. Exit codes other than `okExitCodes` (default 0) fail. */
export async function timed(command: string, args: string[], options: { cwd: string; env: Record<string, string | undefined>; okExitCodes?: readonly number[] }): Promise<number> {
  const ok = options.okExitCodes ?? [0];
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-8000)));
    child.stderr.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-8000)));
    child.once('error', reject);
    child.once('exit', (code) => (code !== null && ok.includes(code) ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output}`))));
  });
  return performance.now() - started;
}

/** The environment without variables that would change how terraform or ansible behave. */
export function cleanEnv(extra: Record<string, string>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(ANSIBLE_|TF_)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}
