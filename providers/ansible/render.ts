import type { AnsiblePlanDocument, HostPlan, UncertainTask } from './document.ts';
import type { TaskChange } from './normalize.ts';

/**
 * The plan as people read it: per targeted host, its state, then each task
 * that changes with its diff; then, apart, the tasks check mode cannot predict.
 */
export function renderPlan(document: AnsiblePlanDocument): string {
  const t = document.totals;
  const lines: string[] = [
    `Ansible check of ${document.playbook} on ${document.inventory} (${t.hosts} host${t.hosts === 1 ? '' : 's'} targeted${document.limit ? `, limited to ${document.limit.join(', ')}` : ''})`,
    `Host keys checked against ${document.knownHostsFile}`,
    `Configuration: ${document.config ?? 'no ansible.cfg in the repository'}`,
    '',
  ];
  for (const host of document.hosts) lines.push(...renderHost(host), '');
  if (document.uncertain.length > 0) {
    lines.push('Cannot be predicted in check mode; they run when the change is applied:');
    for (const task of document.uncertain) lines.push(...renderUncertain(task));
    lines.push('');
  }
  lines.push(
    `Hosts: ${t.changed} changed, ${t.ok} ok, ${t.failed} failed, ${t.unreachable} unreachable.`,
    `Tasks: ${t.changingTasks} would change (${t.destructiveTasks} removing something), ${t.uncheckableTasks} cannot be predicted in check mode.`,
  );
  if (document.unreachable.length > 0) {
    lines.push(
      document.allowUnreachable
        ? `Unreachable hosts are skipped by the apply (allowUnreachable: true): ${document.unreachable.join(', ')}.`
        : `The apply will not start while hosts are unreachable (allowUnreachable: false): ${document.unreachable.join(', ')}.`,
    );
  }
  if (!document.hasChanges) {
    lines.push(document.uncertain.length > 0 ? 'No changes. The hosts match the repository, as far as check mode can tell.' : 'No changes. The hosts match the repository.');
  }
  return `${lines.join('\n')}\n`;
}

function renderHost(host: HostPlan): string[] {
  const c = host.counts;
  const out = [`== ${host.name}: ${host.state} (ok=${c.ok} changed=${c.changed} unknown=${c.unknown} failed=${c.failed} unreachable=${c.unreachable} skipped=${c.skipped})`];
  const p = host.preflight;
  if (p) {
    const key = p.fingerprint ? `host key ${p.hostKey} ${p.fingerprint}` : `host key ${p.hostKey}`;
    const python = p.python === undefined ? '' : p.python ? `, python ${p.python}` : ', python3 missing';
    out.push(`   preflight: ${p.reachable ? 'reachable' : 'UNREACHABLE'} ${p.address}:${p.port}, ${key}${python}, ${p.durationMs} ms`);
    if (p.message) out.push(`   preflight: ${p.message}`);
  }
  if (host.state === 'unreachable' && !p?.message && host.message) out.push(`   ${host.message}`);
  // A host stopped by another's failure has no failed task of its own: say why it is failed.
  if (host.state === 'failed' && !host.tasks.some((t) => t.status === 'failed') && host.message) out.push(`   ${host.message}`);
  for (const task of host.tasks) out.push(...renderTask(task));
  return out;
}

function renderTask(task: TaskChange): string[] {
  const label = task.status === 'changed' ? (task.destructive ? '- remove' : '~ change') : task.status === 'failed' ? (task.ignored ? '! failed (ignored)' : '! failed') : '! unreachable';
  const out = [`  ${label}: ${task.task} [${task.action}]${task.path ? ` at ${task.path}` : ''}`];
  if (task.destructiveReason) out.push(`      removes: ${task.destructiveReason}`);
  if (task.items) out.push(`      items: ${task.items.join(', ')}`);
  if (task.message) out.push(`      message: ${task.message.split('\n').join('\n      ')}`);
  if (task.noLog) out.push('      (no_log: output and diff hidden)');
  if (task.diff) out.push(...task.diff.replace(/\n$/, '').split('\n').map((l) => `      ${l}`));
  return out;
}

function renderUncertain(task: UncertainTask): string[] {
  const out = [`  ? ${task.task} [${task.action}]${task.path ? ` at ${task.path}` : ''}`, `      on: ${task.hosts.join(', ')}`];
  if (task.why) out.push(`      why: ${task.why}`);
  if (task.noLog) out.push('      (no_log: output hidden)');
  return out;
}
