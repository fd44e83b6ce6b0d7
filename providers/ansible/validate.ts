import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { type Problem, type ProviderContext, run, sandboxFor, sandboxSettings, type UnitDefinition } from '../../engine/provider-kit.ts';
import type { InventorySpec } from './manifest.ts';
import { ansibleSettings, baseEnv, treeRootOf } from './cli.ts';
import { runConfigFile } from './config-file.ts';
import { ansibleToolNeeds } from './sandbox.ts';

/**
 * `plumbline validate` for an inventory: the inventory parses
 * (`ansible-inventory --list`) and the playbook passes
 * `ansible-playbook --syntax-check`. Ansible's messages become problems at
 * the file, line and column Ansible names.
 */
export async function validateInventory(unit: UnitDefinition, unitDir: string, context: ProviderContext): Promise<Problem[]> {
  const spec = unit.spec as InventorySpec;
  const settings = ansibleSettings(context.config);
  const root = treeRootOf(unitDir, unit.path);
  const playbook = join(root, spec.playbook);
  const scratch = await mkdtemp(join(tmpdir(), 'plumbline-ansible-validate-'));
  // Hosts of `hostsFrom` are known only at plan time: without a static
  // inventory, the playbook is checked against an empty one.
  const inventory = spec.inventory ? join(root, spec.inventory) : join(scratch, 'empty.yml');
  if (!spec.inventory) await writeFile(inventory, 'all: {}\n');
  const vault = settings.vaultPasswordFile && existsSync(settings.vaultPasswordFile) ? ['--vault-password-file', settings.vaultPasswordFile] : [];
  // The ansible.cfg a run would use: its roles_path decides whether roles resolve.
  const config = await runConfigFile(root, unit, spec, scratch);
  // The checks parse the repository; they see it, their scratch folder and Ansible's own files.
  const sandbox = sandboxFor(sandboxSettings(context.config), unit.name, { readOnly: [root, ...ansibleToolNeeds(settings)], readWrite: [scratch] });
  const options = { cwd: unitDir, env: baseEnv(scratch, config.file), timeoutMs: 120_000, okExitCodes: [0, 1, 2, 4, 5, 250], sandbox };
  const problems: Problem[] = [];
  try {
    if (spec.inventory) {
      const listed = await run(settings.inventoryBinary, ['-i', inventory, '--list', ...vault], options);
      if (listed.exitCode !== 0 && !(vault.length === 0 && /vault secrets|vault password/i.test(listed.stderr))) {
        problems.push(toProblem(listed.stderr || listed.stdout, root, spec.inventory));
      } else if (listed.exitCode === 0) {
        try {
          JSON.parse(listed.stdout);
        } catch {
          problems.push({ file: spec.inventory, line: 1, column: 1, message: 'ansible-inventory printed no JSON for this inventory' });
        }
      }
    }
    if (!existsSync(playbook)) {
      problems.push({ file: unit.file, line: 1, column: 1, message: `the playbook ${spec.playbook} does not exist` });
      return problems;
    }
    const syntax = await run(settings.playbookBinary, ['-i', inventory, playbook, '--syntax-check', ...vault], options);
    if (syntax.exitCode !== 0 && !(vault.length === 0 && /vault secrets|vault password/i.test(syntax.stderr))) {
      problems.push(toProblem(syntax.stderr || syntax.stdout, root, spec.playbook));
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return problems;
}

/**
 * Ansible writes `The error appears to be in '<file>': line N, column M`;
 * the first `ERROR!` line is the message.
 */
export function toProblem(output: string, root: string, fallbackFile: string): Problem {
  const flat = output.replace(/\s*\n\s*/g, ' ');
  // Warnings are wrapped at 80 columns, paths included: a path is joined back without the breaks.
  const where = /appears\s+to\s+be\s+in\s+'([^']+)':\s+line\s+(\d+),\s+column\s+(\d+)/.exec(output);
  const error = /ERROR! (.*?)(?= The error appears to be in| The offending line|$)/.exec(flat)?.[1]?.trim();
  const warning = /\[WARNING\]:\s*\*?\s*(.*?)(?=\[WARNING\]|ERROR!|$)/.exec(flat)?.[1]?.trim();
  const message = (error || warning || flat.trim() || 'Ansible refused this file').split(`${root}/`).join('').replace(/\s+/g, ' ').slice(0, 500);
  if (where) {
    const file = where[1]!.replace(/\s*\n\s*/g, '');
    const rel = file.startsWith(`${root}/`) ? relative(root, file) : file;
    return { file: rel, line: Number(where[2]), column: Number(where[3]), message };
  }
  return { file: fallbackFile, line: 1, column: 1, message };
}
