import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import yaml from 'js-yaml';
import { type Logger, repoRelativeText, run, type SandboxSpec, secrets, ToolError } from '../../engine/provider-kit.ts';
import type { TextFile } from './repo-texts.ts';

/**
 * Ansible Vault: before anything runs, every vaulted value of the inventory
 * folder (whole vaulted files and inline `!vault` values) is decrypted with
 * `ansible-vault` and each of its strings registered for masking, together
 * with the vault password. From then on, no log line, plan, stored JSON or
 * API answer can show them, whatever a task prints or a diff contains.
 */

const VAULT_HEADER = '$ANSIBLE_VAULT;';
/** Ciphertexts already decrypted and registered in this process. */
const registered = new Set<string>();
const registeredPasswords = new Set<string>();

export interface VaultSettings {
  vaultBinary: string;
  vaultPasswordFile: string | null;
  log: Logger;
  signal?: AbortSignal;
  /** The run's repository folders (workspace tree, snapshot): file names in messages are relative to them. */
  roots?: readonly string[];
  /** What ansible-vault sees (engine/sandbox); unsandboxed when absent. */
  sandbox?: SandboxSpec;
}

export interface VaultFinding {
  /** Where the ciphertext was found, for messages. */
  file: string;
  ciphertext: string;
  inline: boolean;
}

/** Every vaulted value in the texts (see repo-texts.ts). */
export function findVaulted(texts: readonly TextFile[]): VaultFinding[] {
  const found: VaultFinding[] = [];
  for (const { file, text } of texts) {
    if (text.trimStart().startsWith(VAULT_HEADER)) {
      found.push({ file, ciphertext: text.trim(), inline: false });
      continue;
    }
    if (!text.includes('!vault')) continue;
    for (const ciphertext of inlineVaults(text)) found.push({ file, ciphertext, inline: true });
  }
  return found;
}

/** The ciphertexts of inline `key: !vault |` values in a YAML text. */
export function inlineVaults(text: string): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    if (!/!vault\s*[|>][-+]?\s*$/.test(lines[i]!)) continue;
    const block: string[] = [];
    let indent: number | undefined;
    for (let j = i + 1; j < lines.length; j += 1) {
      const line = lines[j]!;
      if (line.trim() === '') {
        if (indent === undefined) continue;
        break;
      }
      const lead = line.length - line.trimStart().length;
      indent ??= lead;
      if (lead < indent || indent === 0) break;
      block.push(line.trim());
    }
    const ciphertext = block.join('\n');
    if (ciphertext.startsWith(VAULT_HEADER)) out.push(ciphertext);
  }
  return out;
}

/**
 * Decrypt and register every vaulted value in `paths` (the inventory folder,
 * and what it reads elsewhere in the repository: group_vars, roles...), and
 * the vault password. Returns how many vaulted values were found.
 */
export async function registerVaultSecrets(texts: readonly TextFile[], settings: VaultSettings): Promise<number> {
  await registerPassword(settings);
  const findings = findVaulted(texts);
  if (findings.length === 0) return 0;
  if (!settings.vaultPasswordFile) {
    const where = repoRelativeText(findings[0]!.file, settings.roots ?? []);
    throw new ToolError('E_VAULT_PASSWORD_MISSING', `${where} holds Ansible Vault data, but plumbline.yaml sets no ansible.vaultPasswordFile`, {
      retry: 'stalled',
      hint: 'set ansible.vaultPasswordFile in plumbline.yaml to the vault password file on the control host',
    });
  }
  const pending = findings.filter((f) => !registered.has(digest(f.ciphertext)));
  const queue = [...pending];
  const workers = Array.from({ length: Math.min(4, queue.length) }, async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const plain = await decrypt(f, settings);
      registerPlaintext(plain, f.inline);
      registered.add(digest(f.ciphertext));
    }
  });
  await Promise.all(workers);
  settings.log.debug({ vaulted: findings.length, decrypted: pending.length }, 'vaulted values registered for masking');
  return findings.length;
}

/** Every string a decrypted value can show up as. */
export function registerPlaintext(plain: string, inline: boolean): void {
  const trimmed = plain.replace(/\r?\n$/, '');
  secrets.add(trimmed);
  if (inline) return;
  let parsed: unknown;
  try {
    parsed = yaml.load(plain);
  } catch {
    parsed = undefined;
  }
  if (parsed !== null && typeof parsed === 'object') {
    secrets.add(parsed);
    return;
  }
  // Not YAML variables (a vaulted key or certificate): every line on its own too.
  for (const line of plain.split('\n')) secrets.add(line.trim());
}

async function decrypt(finding: VaultFinding, settings: VaultSettings): Promise<string> {
  const where = repoRelativeText(finding.file, settings.roots ?? []);
  const result = await run(settings.vaultBinary, ['decrypt', '--vault-password-file', settings.vaultPasswordFile!, '--output', '-'], {
    input: `${finding.ciphertext}\n`,
    timeoutMs: 120_000,
    signal: settings.signal,
    log: settings.log,
    env: { ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0', PYTHONUNBUFFERED: '1' },
    ...(settings.sandbox ? { sandbox: settings.sandbox } : {}),
    classify: () => ({
      code: 'E_VAULT_DECRYPT',
      retry: 'stalled',
      hint: `check that ansible.vaultPasswordFile holds the password ${where} was encrypted with`,
    }),
  });
  return result.stdout;
}

async function registerPassword(settings: VaultSettings): Promise<void> {
  const file = settings.vaultPasswordFile;
  if (!file || registeredPasswords.has(file)) return;
  let password: string;
  if (await isExecutable(file)) {
    // A password script: Ansible runs it and reads the password from its stdout.
    password = (await run(file, [], { timeoutMs: 60_000, signal: settings.signal })).stdout;
  } else {
    try {
      password = await readFile(file, 'utf8');
    } catch (error) {
      throw new ToolError('E_VAULT_PASSWORD_MISSING', `cannot read the vault password file ${file}: ${(error as Error).message}`, {
        retry: 'stalled',
        hint: 'create ansible.vaultPasswordFile on the control host, readable by the daemon',
        cause: error,
      });
    }
  }
  secrets.add(password.trim());
  registeredPasswords.add(file);
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
