import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { installRoot } from '../install-root.ts';
import { registerAccessCommands } from './access.ts';
import { registerLocalCommands } from './local.ts';
import { Output, processIO } from './output.ts';
import { registerRemoteCommands } from './remote.ts';
import type { CliIO } from './types.ts';
import type { CommandContext } from './util.ts';

/**
 * The `plumbline` command line. `argv` is shaped like `process.argv` (node,
 * script, then arguments). Returns the exit code and never exits the process:
 * bin/plumbline.mjs sets `process.exitCode` from it, tests read it directly.
 */
export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const out = new Output(io);
  let exitCode = 0;
  const ctx: CommandContext = {
    out,
    setExitCode(code) {
      exitCode = code;
    },
  };

  const program = new Command('plumbline')
    .description('GitOps engine for Terraform, CDKTF and Ansible: plans every change, publishes it for review, applies it.')
    .version(readVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
    })
    .showHelpAfterError('(run `plumbline help <command>` for usage)');

  registerLocalCommands(program, ctx);
  registerRemoteCommands(program, ctx);
  registerAccessCommands(program, ctx);

  try {
    await program.parseAsync(argv, { from: 'node' });
  } catch (error) {
    // Commander already printed its message (usage errors, --help, --version).
    if (error instanceof CommanderError) return error.exitCode;
    out.error(error);
    return 1;
  }
  return exitCode;
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(installRoot, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
