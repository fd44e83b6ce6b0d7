import { z } from 'zod';
import { ToolError } from '../../engine/provider-kit.ts';

/**
 * The machine-readable output of `ansible-playbook` with the
 * `ansible.posix.json` stdout callback: every play, every task, each host's
 * raw module result, and the per-host recap. Only what Plumbline reads is
 * typed; module results keep every other key (they differ per module).
 */

const duration = z.looseObject({ start: z.string().optional(), end: z.string().optional() });

/** One item of a loop: the same shape as a result, one level down. */
export const itemResultSchema = z.looseObject({
  changed: z.boolean().optional(),
  failed: z.boolean().optional(),
  skipped: z.boolean().optional(),
  unreachable: z.boolean().optional(),
  msg: z.unknown().optional(),
  /** Why a `when:` skipped it. */
  skip_reason: z.string().optional(),
  /** Why a loop skipped it (`No items in the list`). */
  skipped_reason: z.string().optional(),
  censored: z.string().optional(),
  diff: z.unknown().optional(),
  invocation: z.unknown().optional(),
  _ansible_item_label: z.unknown().optional(),
  item: z.unknown().optional(),
});

export const hostResultSchema = itemResultSchema.extend({
  action: z.string().optional(),
  results: z.array(itemResultSchema).optional(),
});

export const taskEntrySchema = z.looseObject({
  task: z.looseObject({ name: z.string(), id: z.string(), path: z.string().optional(), duration: duration.optional() }),
  hosts: z.record(z.string(), hostResultSchema),
});

export const playEntrySchema = z.looseObject({
  play: z.looseObject({ name: z.string(), id: z.string(), path: z.string().optional(), duration: duration.optional() }),
  tasks: z.array(taskEntrySchema),
});

export const hostStatsSchema = z.looseObject({
  ok: z.number(),
  changed: z.number(),
  failures: z.number(),
  unreachable: z.number(),
  skipped: z.number(),
  rescued: z.number().optional(),
  ignored: z.number().optional(),
});

export const playbookOutputSchema = z.looseObject({
  plays: z.array(playEntrySchema),
  stats: z.record(z.string(), hostStatsSchema),
});

export type ItemResult = z.output<typeof itemResultSchema>;
export type HostResult = z.output<typeof hostResultSchema>;
export type TaskEntry = z.output<typeof taskEntrySchema>;
export type PlaybookOutput = z.output<typeof playbookOutputSchema>;

/**
 * Parse the callback's JSON from ansible-playbook's stdout. Other callbacks a
 * repository's ansible.cfg enables (`profile_tasks`, `timer`) print before
 * and after it; Plumbline runs the callback unindented, so the result is the
 * one line that parses (an indented result, from older runs, is the rest of
 * the output from its first line).
 */
export function parsePlaybookOutput(stdout: string): PlaybookOutput {
  const raw = findJson(stdout);
  if (raw === undefined) {
    throw new ToolError('E_ANSIBLE_OUTPUT', 'ansible-playbook printed no JSON result', {
      retry: 'stalled',
      hint: 'the json callback (ansible.posix) must be installed on the control host: ansible-galaxy collection install ansible.posix',
    });
  }
  if (raw instanceof Error) {
    throw new ToolError('E_ANSIBLE_OUTPUT', `ansible-playbook printed invalid JSON: ${raw.message}`, { retry: 'stalled', cause: raw });
  }
  const parsed = playbookOutputSchema.safeParse(raw.value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ToolError('E_ANSIBLE_OUTPUT', `unexpected ansible-playbook JSON at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`, {
      retry: 'stalled',
      hint: 'use ansible-core 2.14 or newer with the ansible.posix collection',
    });
  }
  return parsed.data;
}

/** The JSON document in the output; an Error when something looks like one but does not parse. */
function findJson(text: string): { value: unknown } | Error | undefined {
  const lines = text.split('\n');
  let firstError: Error | undefined;
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    if (!lines[i]!.startsWith('{')) continue;
    for (const candidate of [lines[i]!, lines.slice(i).join('\n')]) {
      try {
        return { value: JSON.parse(candidate) };
      } catch (error) {
        firstError ??= error as Error;
      }
    }
  }
  return firstError;
}
