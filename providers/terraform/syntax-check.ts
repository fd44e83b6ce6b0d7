import { join } from 'node:path';
import { type ExecResult, type Problem, run, type SandboxSpec, secrets, ToolError } from '../../engine/provider-kit.ts';
import { terraformEnvironment } from './commands.ts';
import { configFileNames } from './config-files.ts';
import { lineIndex } from './hcl-tokens.ts';
import { readText } from './module-tree.ts';
import type { TerraformSettings } from './settings.ts';

/**
 * Do the configuration files of some folders parse? Terraform's own parser
 * answers for `.tf` files through `terraform fmt -check`, which needs no
 * `init`, no provider and no network (unlike `validate`, which reports
 * uninstalled modules and providers as errors before it looks at the syntax).
 * `fmt` prints no JSON, so its diagnostics are read from its text. `.tf.json`
 * files, which `fmt` skips, are parsed here.
 */

export interface SyntaxCheck {
  settings: TerraformSettings;
  /** The repository: terraform runs here, so the files it names are repository-relative. */
  repoDir: string;
  /** Repository-relative folders whose configuration files to check. */
  folders: readonly string[];
  /** Where a diagnostic that names no file is reported (the stack's manifest). */
  fallbackFile: string;
  sandbox?: SandboxSpec;
}

/** One problem per syntax error, at its file and line, repository-relative. */
export async function syntaxProblems(check: SyntaxCheck): Promise<Problem[]> {
  const hcl: string[] = [];
  const problems: Problem[] = [];
  for (const folder of check.folders) {
    for (const name of await configFileNames(join(check.repoDir, folder))) {
      const file = `${folder}/${name}`;
      if (name.endsWith('.tf.json')) problems.push(...(await jsonProblems(check.repoDir, file)));
      else hcl.push(file);
    }
  }
  if (hcl.length > 0) problems.push(...(await fmtProblems(check, hcl)));
  return problems;
}

/** Exit codes of `fmt -check`: 0 formatted, 3 some file would be reformatted (not our business), 2 diagnostics. */
const FMT_EXIT_CODES = [0, 2, 3];

async function fmtProblems(check: SyntaxCheck, files: readonly string[]): Promise<Problem[]> {
  const { settings } = check;
  let result: ExecResult;
  try {
    result = await run(settings.binary, ['fmt', '-check', '-list=false', '-write=false', '-no-color', ...files], {
      cwd: check.repoDir,
      env: terraformEnvironment(settings),
      timeoutMs: settings.timeoutMs,
      okExitCodes: FMT_EXIT_CODES,
      ...(check.sandbox ? { sandbox: check.sandbox } : {}),
    });
  } catch (error) {
    // Validating a repository on a machine without terraform: say what was not checked.
    if (!(error instanceof ToolError && error.code === 'E_TOOL_MISSING')) throw error;
    return [{ file: check.fallbackFile, line: 1, column: 1, severity: 'warning', message: `${error.message}: the syntax of the Terraform files was not checked (${error.hint ?? ''})` }];
  }
  const problems = parseFmtErrors(result.stderr, check.fallbackFile);
  if (result.exitCode === 2 && problems.length === 0) {
    const said = result.stderr.trim().split('\n').at(-1) ?? '';
    problems.push({ file: check.fallbackFile, line: 1, column: 1, message: `terraform fmt could not read the configuration: ${secrets.maskText(said)}` });
  }
  return problems;
}

const DIAGNOSTIC_HEAD = /^(Error|Warning): (.*)$/;
const PLACE = /^on (.+) line (\d+)(?:, in .*)?:$/;
/** A source line of the snippet (`  12: resource "x" "y" {`) or a value note under it. */
const SNIPPET = /^(\d+:|[├│]|\.\.\.)/;

/**
 * The errors of terraform's human diagnostics:
 *
 *     Error: Unclosed configuration block
 *
 *       on stacks/web/main.tf line 1, in resource "terraform_data" "x":
 *        1: resource "terraform_data" "x" {
 *
 *     There is no closing brace for this block before the end of the file.
 *
 * (In a box of `╷ │ ╵` when terraform thinks it writes to a terminal.)
 */
export function parseFmtErrors(text: string, fallbackFile: string): Problem[] {
  const problems: Problem[] = [];
  let current: { summary: string; file?: string; line?: number; detail: string[] } | undefined;
  let isError = false;
  const flush = (): void => {
    if (current && isError) {
      const detail = current.detail.join(' ').replace(/\s+/g, ' ').trim();
      problems.push({
        file: current.file ?? fallbackFile,
        line: current.line ?? 1,
        column: 1,
        message: secrets.maskText(detail ? `${current.summary}: ${detail}` : current.summary),
      });
    }
    current = undefined;
  };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^[╷│╵]\s?/, '').trim();
    const head = DIAGNOSTIC_HEAD.exec(line);
    if (head) {
      flush();
      isError = head[1] === 'Error';
      current = { summary: head[2]!.trim(), detail: [] };
      continue;
    }
    if (!current || line === '') continue;
    const place = PLACE.exec(line);
    if (place && current.file === undefined) {
      current.file = place[1]!;
      current.line = Number(place[2]);
    } else if (!SNIPPET.test(line) && !/^There are some problems with the CLI configuration/.test(line)) {
      current.detail.push(line);
    }
  }
  flush();
  return problems;
}

/** A `.tf.json` file that is not JSON, at the place the parser stopped. */
async function jsonProblems(repoDir: string, file: string): Promise<Problem[]> {
  const text = await readText(join(repoDir, file));
  if (text === undefined) return [];
  try {
    JSON.parse(text);
    return [];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /at position (\d+)/.exec(message);
    const line = position ? lineIndex(text)(Number(position[1])) : 1;
    return [{ file, line, column: 1, message: `not valid JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}` }];
  }
}
