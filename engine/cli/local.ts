import { resolve } from 'node:path';
import type { Command } from 'commander';
import { formatProblem, isError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { formatSummary } from './output.ts';
import type { LocalPlanResult } from './types.ts';
import { action, integerOption, type CommandContext } from './util.ts';

/**
 * Commands that work on a checkout or run the engine in this process:
 * validate, plan, daemon, demo, migrate, backup. Each loads its engine module
 * on demand, so one command's dependencies never keep the others from starting.
 */
export function registerLocalCommands(program: Command, ctx: CommandContext): void {
  const { out } = ctx;

  program
    .command('validate')
    .description('check the stack and inventory definitions of a repository checkout')
    .argument('[dir]', 'repository folder', '.')
    .option('--json', 'print {"problems": [...]}')
    .action(
      action(ctx, async (dir: string, opts: { json?: boolean }) => {
        const { validateRepository } = await import('../validate.ts');
        const problems = await validateRepository(resolve(dir));
        if (opts.json) {
          out.json({ problems });
        } else if (problems.length === 0) {
          out.note('no problems found');
        } else {
          for (const p of problems) out.line(formatProblem(p));
          const errors = problems.filter(isError).length;
          const warnings = problems.length - errors;
          out.note([errors > 0 ? plural(errors, 'problem') : 'no problems', warnings > 0 ? plural(warnings, 'warning') : ''].filter(Boolean).join(', ') + ' found');
        }
        // Warnings are shown; only errors fail.
        return problems.some(isError) ? 1 : 0;
      }),
    );

  program
    .command('plan')
    .description('plan the units of a working tree locally; exit 0 no changes, 2 changes, 1 error')
    .argument('[dir]', 'repository folder', '.')
    .option('--stack <name>', 'plan only this unit')
    .option('--config <file>', 'daemon config (plumbline.yaml) for terraform settings and secret variables')
    .option('--json', 'print {"results": [...]}')
    .action(
      action(ctx, async (dir: string, opts: { stack?: string; config?: string; json?: boolean }) => {
        const { planWorkingTree } = await import('../local-plan.ts');
        const log = createLogger({
          level: process.env.PLUMBLINE_LOG_LEVEL ?? 'warn',
          destination: out.stderrStream(),
        });
        const request: { dir: string; stack?: string; configFile?: string; log: typeof log } = { dir: resolve(dir), log };
        if (opts.stack !== undefined) request.stack = opts.stack;
        if (opts.config !== undefined) request.configFile = resolve(opts.config);
        const { exitCode, results, skipped } = await planWorkingTree(request);
        if (opts.json) out.json({ results, ...(skipped ? { skipped } : {}) });
        else {
          printLocalPlans(ctx, results);
          for (const s of skipped ?? []) out.note(`not planned: ${s.unit} is invalid (${s.error?.message.split('\n')[0] ?? 'see plumbline validate'})`);
        }
        return exitCode;
      }),
    );

  program
    .command('daemon')
    .description('run the engine: poll the repository, plan, publish, apply, serve the API')
    .requiredOption('--config <file>', 'daemon config (plumbline.yaml)')
    .action(
      action(ctx, async (opts: { config: string }) => {
        const { runDaemon } = await import('../daemon.ts');
        return runDaemon(resolve(opts.config));
      }),
    );

  program
    .command('demo')
    .description('run a self-contained demo daemon with a sample repository')
    .option('--port <n>', 'API port (0 picks a free one)', integerOption(0, 65535))
    .option('--state-dir <dir>', 'where the demo keeps its state')
    .action(
      action(ctx, async (opts: { port?: number; stateDir?: string }) => {
        const { runDemo } = await import('../demo.ts');
        const options: { port?: number; stateDir?: string } = {};
        if (opts.port !== undefined) options.port = opts.port;
        if (opts.stateDir !== undefined) options.stateDir = resolve(opts.stateDir);
        return runDemo(options);
      }),
    );

  registerStoreCommands(program, ctx);
}

function registerStoreCommands(program: Command, ctx: CommandContext): void {
  const { out } = ctx;
  const commandLog = () => createLogger({ level: process.env.PLUMBLINE_LOG_LEVEL ?? 'warn', destination: out.stderrStream() });

  program
    .command('migrate')
    .description("bring the store's database up to this version (the daemon does it at start); says what it applied")
    .requiredOption('--config <file>', 'daemon config (plumbline.yaml)')
    .option('--json', 'print {"store", "migrations": [...], "imported"}')
    .action(
      action(ctx, async (opts: { config: string; json?: boolean }) => {
        const { migrateCommand } = await import('../store/commands.ts');
        const result = await migrateCommand(resolve(opts.config), commandLog());
        if (opts.json) {
          out.json({ store: result.location, migrations: result.migrations, ...(result.imported ? { imported: result.imported } : {}) });
          return 0;
        }
        for (const name of result.migrations) out.line(`applied migration ${name}`);
        const i = result.imported;
        if (i) {
          out.line(
            `imported the JSON-file store: ${i.units} units, ${i.plans} plans, ${i.changeSets} change sets, ${i.reads} reads, ${i.events} history events${i.source ? ', the source status' : ''}`,
          );
          if (i.damaged.length > 0) out.line(`not imported (did not parse): ${i.damaged.join(', ')}`);
          out.line(`its folder was moved to ${i.movedTo}`);
        }
        out.note(result.migrations.length > 0 || i ? `store ${result.location} is up to date` : `store ${result.location} was up to date: nothing to apply`);
        return 0;
      }),
    );

  program
    .command('backup')
    .description("copy the store consistently while the daemon runs (SQLite: a database file; PostgreSQL: a pg_dump archive)")
    .requiredOption('--config <file>', 'daemon config (plumbline.yaml)')
    .requiredOption('--to <file>', 'where to write the copy (replaced if it exists)')
    .option('--json', 'print {"store", "file", "bytes"}')
    .action(
      action(ctx, async (opts: { config: string; to: string; json?: boolean }) => {
        const { backupCommand } = await import('../store/commands.ts');
        const result = await backupCommand(resolve(opts.config), opts.to, commandLog());
        if (opts.json) out.json({ store: result.location, file: result.file, bytes: result.bytes });
        else out.line(`backup of ${result.location} written to ${result.file} (${(result.bytes / 2 ** 20).toFixed(1)} MiB)`);
        return 0;
      }),
    );
}

export function printLocalPlans(ctx: CommandContext, results: readonly LocalPlanResult[]): void {
  const { out } = ctx;
  let changed = 0;
  let failed = 0;
  let waiting = 0;
  let planned = 0;
  results.forEach((r, i) => {
    if (i > 0) out.line();
    // `*` stands for the repository as a whole (definitions invalid, config unreadable).
    const label = r.unit === '*' ? r.kind : `${r.unit} (${r.kind})`;
    if (r.state === 'failed') {
      if (r.unit !== '*') failed++;
      out.line(`== ${label}: failed`);
      if (r.error) {
        out.line(`error (${r.error.code}): ${r.error.message}`);
        if (r.error.hint) out.line(`hint: ${r.error.hint}`);
      }
      return;
    }
    if (r.state === 'waiting') {
      waiting++;
      out.line(`== ${label}: waiting for ${r.waitingFor?.join(', ') ?? 'its upstream units'}`);
      if (r.message) out.line(r.message);
      return;
    }
    planned++;
    const s = r.summary;
    const hasChanges = r.hasChanges ?? (s ? s.add + s.change + s.destroy + s.replace > 0 : false);
    if (hasChanges) changed++;
    out.line(`== ${label}: ${hasChanges ? (s ? formatSummary(s) : 'changes') : 'no changes'}`);
    for (const w of r.warnings ?? []) out.line(`warning: ${w}`);
    const rendered = r.rendered?.trimEnd();
    if (rendered) out.line(rendered);
    if (r.uncertain?.length) out.line(`cannot be predicted in check mode (not counted as changes; they run when applied): ${r.uncertain.join(', ')}`);
  });
  if (results.length === 0) {
    out.note('no units to plan');
    return;
  }
  if (planned + failed + waiting === 0) return;
  // A failed unit was planned and failed; a waiting one was not planned at all.
  const parts = [`${plural(planned + failed, 'unit')} planned`, `${changed} with changes`];
  if (waiting > 0) parts.push(`${waiting} waiting`);
  if (failed > 0) parts.push(`${failed} failed`);
  out.note(parts.join(', '));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
