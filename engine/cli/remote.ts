import { Option, type Command } from 'commander';
import { isChangeSetRef, type PlanDetail, type StatusAnswer } from '../api/contract.ts';
import type { ChangeSet, HistoryEvent, PlanRecord } from '../model.ts';
import type { PreviewState } from '../previews/types.ts';
import { formatSummary, formatTime, messageCell, shortRevision, table } from './output.ts';
import { connect, withConnection, type ConnectionOptions } from './connection.ts';
import { action, eventPaging, integerOption, type CommandContext } from './util.ts';

/** Commands that talk to a running daemon over its API. */

export function registerRemoteCommands(program: Command, ctx: CommandContext): void {
  const { out } = ctx;

  withConnection(program.command('status').description('show the source and every unit')).action(
    action(ctx, async (opts: ConnectionOptions) => {
      const answer = await (await connect(opts)).status();
      if (opts.json) out.json({ units: answer.units, source: answer.source, ...(answer.sandbox ? { sandbox: answer.sandbox } : {}) });
      else printStatus(ctx, answer);
      return 0;
    }),
  );

  withConnection(
    program
      .command('plans')
      .description('list plans, newest first')
      .option('--unit <name>', 'only this unit\u2019s plans')
      .option('--limit <n>', 'at most this many plans (default 200)', integerOption(1, 10_000))
      .option('--before <plan>', 'the plans older than this one (the next page)'),
  ).action(
    action(ctx, async (opts: ConnectionOptions & { unit?: string; limit?: number; before?: string }) => {
      const client = await connect(opts);
      const plans = await client.listPlans(opts.unit, { ...(opts.limit ? { limit: opts.limit } : {}), ...(opts.before ? { before: opts.before } : {}) });
      if (opts.json) out.json(plans);
      else {
        printPlans(ctx, plans);
        // Units with no plan yet because they wait for, or are blocked by, their dependencies.
        const { units } = await client.status();
        const held = units.filter((u) => (u.phase === 'Blocked' || u.reason === 'WaitingForDependencies') && (!opts.unit || u.name === opts.unit));
        if (held.length > 0) {
          out.line();
          for (const u of held) out.line(`${u.name}: ${u.phase === 'Blocked' ? 'blocked' : 'no plan yet'}, ${messageCell(u.message)}`);
        }
      }
      return 0;
    }),
  );

  withConnection(
    program
      .command('show')
      .description('show one plan (header and rendered changes) or one change set (its plans in dependency order)')
      .argument('<plan>', 'plan id, or change set: cs- and its commit or any unique prefix of it (cs-3f2a91c0)'),
  ).action(
    action(ctx, async (id: string, opts: ConnectionOptions) => {
      if (isChangeSetRef(id)) {
        const set = await (await connect(opts)).getChangeSet(id);
        if (opts.json) out.json(set);
        else out.line(set.rendered.trimEnd());
        return 0;
      }
      const detail = await (await connect(opts)).getPlan(id);
      if (opts.json) out.json(detail);
      else printPlanDetail(ctx, detail);
      return 0;
    }),
  );

  withConnection(program.command('changesets').description('list change sets (what each commit set in motion), newest first')).action(
    action(ctx, async (opts: ConnectionOptions) => {
      const sets = await (await connect(opts)).listChangeSets();
      if (opts.json) out.json(sets);
      else printChangeSets(ctx, sets);
      return 0;
    }),
  );

  withConnection(
    program
      .command('previews')
      .description('list the previews of open branches and merge requests (source.previews): each unit they change, planned but never applied')
      .argument('[ref]', 'one ref: refs/heads/feature, refs/pull/7/head'),
  ).action(
    action(ctx, async (ref: string | undefined, opts: ConnectionOptions) => {
      const answer = await (await connect(opts)).listPreviews(ref);
      if (opts.json) out.json({ previews: answer.previews.map((p) => ({ ref: p.ref, revision: p.revision, mergeBase: p.mergeBase, updatedAt: p.updatedAt, units: p.units.map(({ excerpt: _excerpt, ...unit }) => unit) })) });
      else printPreviews(ctx, answer.previews);
      return 0;
    }),
  );

  withConnection(
    program
      .command('approve')
      .description('approve a pending plan so the daemon applies it, or a change set (all its pending plans, and its later non-destructive ones)')
      .argument('<plan>', 'plan id, or change set: cs- and its commit or any unique prefix of it')
      .addOption(ignoredBy()),
  ).action(
    action(ctx, async (id: string, opts: ConnectionOptions & { by?: string }) => {
      noteIgnoredBy(ctx, opts);
      if (isChangeSetRef(id)) {
        const set = await (await connect(opts)).approveChangeSet(id);
        if (opts.json) out.json(set);
        else out.line(set.rendered.trimEnd());
        return 0;
      }
      const record = await (await connect(opts)).approve(id);
      if (opts.json) out.json(record);
      else out.line(decisionLine('approved', record));
      return 0;
    }),
  );

  withConnection(
    program
      .command('reject')
      .description('reject a pending plan; the unit waits for a new commit or a sync')
      .argument('<plan>', 'plan id')
      .option('--reason <text>', 'why, kept in the history')
      .addOption(ignoredBy()),
  ).action(
    action(ctx, async (id: string, opts: ConnectionOptions & { by?: string; reason?: string }) => {
      noteIgnoredBy(ctx, opts);
      const record = await (await connect(opts)).reject(id, opts.reason);
      if (opts.json) out.json(record);
      else out.line(decisionLine('rejected', record));
      return 0;
    }),
  );

  withConnection(
    eventPaging(program.command('history').description('show the event history (plans, approvals, applies, failures)').argument('[unit]', 'only this unit'), 'events'),
  ).action(
    action(ctx, async (unit: string | undefined, opts: ConnectionOptions & { limit?: number; before?: number }) => {
      const events = await (await connect(opts)).history(unit, opts.limit, opts.before);
      if (opts.json) out.json(events);
      else printHistory(ctx, events);
      return 0;
    }),
  );

  withConnection(program.command('cluster').description('list the daemons sharing the store: the leader, heartbeats, the runs each holds')).action(
    action(ctx, async (opts: ConnectionOptions) => {
      const answer = await (await connect(opts)).cluster();
      if (opts.json) out.json(answer);
      else {
        out.table(
          [{ header: 'MEMBER' }, { header: 'ROLE' }, { header: 'HEARTBEAT' }, { header: 'RUNS' }],
          answer.members.map((m) => [
            m.name,
            m.lapsed ? 'lapsed' : m.leader ? 'leader' : 'member',
            formatTime(m.heartbeatAt),
            m.runs.length > 0 ? m.runs.map((r) => `${r.kind} ${r.unit}`).join(', ') : '-',
          ]),
          'no members',
        );
      }
      return 0;
    }),
  );

  withConnection(
    program
      .command('why')
      .description('list what a unit reads in the repository: a commit that touches any of it plans the unit')
      .argument('<unit>', 'unit name'),
  ).action(
    action(ctx, async (unit: string, opts: ConnectionOptions) => {
      const reads = await (await connect(opts)).why(unit);
      if (opts.json) out.json(reads);
      else {
        out.line(`${reads.unit} reads${reads.revision ? ` (at ${shortRevision(reads.revision)})` : ''}:`);
        out.line(table([{ header: 'PATH' }, { header: 'WHY' }], reads.entries.map((e) => [e.path, e.why])));
        for (const glob of reads.watch) out.line(`watch: ${glob}`);
        for (const note of reads.notes) out.line(`note: ${note}`);
      }
      return 0;
    }),
  );

  withConnection(
    program
      .command('drift')
      .description('check for drift now: one unit, or every unit that is applied and idle')
      .argument('[unit]', 'unit name'),
  ).action(
    action(ctx, async (unit: string | undefined, opts: ConnectionOptions) => {
      const answer = await (await connect(opts)).drift(unit);
      if (opts.json) out.json(answer);
      else {
        out.line(answer.scheduled.length > 0 ? `drift check started: ${answer.scheduled.join(', ')}` : 'no drift check started');
        for (const s of answer.skipped) out.line(`skipped ${s.unit}: ${s.why}`);
        if (answer.scheduled.length > 0) out.line('results appear in plumbline status and plumbline history');
      }
      return answer.scheduled.length > 0 || !unit ? 0 : 1;
    }),
  );

  withConnection(
    program
      .command('sync')
      .description('fetch the repository now and schedule the units it affects')
      .option('--allow-rewrite', 'accept a branch whose history was rewritten (force-push)')
      .option('--unit <name>', 'also plan this unit again at the current commit (after a failure, a rejection or an outside fix)'),
  ).action(
    action(ctx, async (opts: ConnectionOptions & { allowRewrite?: boolean; unit?: string }) => {
      const answer = await (await connect(opts)).sync(opts.allowRewrite === true, opts.unit);
      if (opts.json) {
        out.json(answer);
      } else {
        const head = answer.revision ? shortRevision(answer.revision) : 'unknown';
        out.line(
          answer.scheduled.length > 0
            ? `synced to ${head}; scheduled ${answer.scheduled.length} unit${answer.scheduled.length === 1 ? '' : 's'}: ${answer.scheduled.join(', ')}`
            : `synced to ${head}; nothing to schedule`,
        );
      }
      return 0;
    }),
  );
}

/**
 * `--by` named who decided while one token opened everything. The daemon now
 * records the name of the token used: the option is still accepted, so
 * scripts keep working, and says so.
 */
function ignoredBy(): Option {
  return new Option('--by <name>', 'ignored: the daemon records the name of the token used').hideHelp();
}

function noteIgnoredBy(ctx: CommandContext, opts: { by?: string }): void {
  if (opts.by !== undefined) ctx.out.note('note: --by is ignored: the daemon records the name of the token used');
}

function printStatus(ctx: CommandContext, answer: StatusAnswer): void {
  const { out } = ctx;
  for (const d of answer.damaged ?? []) {
    out.line(`damaged store record ${d.file} (${d.error}) was moved aside to ${d.movedTo}; what it held was planned again`);
  }
  const s = answer.source;
  out.line(`source  ${displayUrl(s.url)} (${s.branch})  ${s.phase}  fetched ${shortRevision(s.lastFetchedRevision)} at ${formatTime(s.lastFetchAt)}, reconciled ${shortRevision(s.lastReconciledRevision)}`);
  if (s.phase !== 'Ready' && (s.reason || s.message)) out.line(`        ${[s.reason, messageCell(s.message)].filter(Boolean).join(': ')}`);
  if (answer.sandbox && !answer.sandbox.enabled) {
    out.line(`sandbox OFF (${answer.sandbox.reason ?? `sandbox: ${answer.sandbox.mode}`}): tool processes can read the daemon's token, store and every unit's state`);
  }
  out.line();
  if (answer.units.length === 0) {
    out.line('no units');
    return;
  }
  out.line(
    table(
      [{ header: 'NAME' }, { header: 'KIND' }, { header: 'PHASE' }, { header: 'REVISION' }, { header: 'PLAN' }, { header: 'MESSAGE' }],
      answer.units.map((u) => [
        u.name,
        u.kind,
        u.phase,
        shortRevision(u.lastAttemptedRevision ?? u.lastAppliedRevision),
        u.planId ?? '-',
        messageCell(u.message),
      ]),
      { width: out.width },
    ),
  );
  // Units that run against hosts: every host's state, so one bad host is never hidden.
  for (const u of answer.units.filter((x) => x.hosts && x.hosts.length > 0)) {
    out.line();
    out.line(`${u.name} hosts:`);
    out.line(
      table(
        [{ header: '  HOST' }, { header: 'STATE' }, { header: 'DETAIL' }],
        u.hosts!.map((h) => [`  ${h.name}`, h.state, messageCell(h.message)]),
        { width: out.width },
      ),
    );
  }
}

function printPreviews(ctx: CommandContext, previews: readonly PreviewState[]): void {
  ctx.out.table(
    [{ header: 'REF' }, { header: 'REVISION' }, { header: 'UNIT' }, { header: 'STATUS' }, { header: 'PLAN' }, { header: 'SUMMARY' }],
    previews.flatMap((p) =>
      (p.units.length > 0 ? p.units : [undefined]).map((u) => [
        p.ref,
        shortRevision(p.revision),
        u?.name ?? '(changes no unit)',
        u?.status ?? '-',
        u?.planId ?? '-',
        u?.summary ? formatSummary(u.summary) : (u?.error ?? '-'),
      ]),
    ),
    'no previews',
  );
}

function printChangeSets(ctx: CommandContext, sets: readonly ChangeSet[]): void {
  ctx.out.table(
    [{ header: 'ID' }, { header: 'REVISION' }, { header: 'CREATED' }, { header: 'APPROVED BY' }, { header: 'UNITS' }],
    sets.map((c) => [c.id, shortRevision(c.revision), formatTime(c.createdAt), c.approvedBy ?? '-', c.units.join(', ')]),
    'no change sets',
  );
}

function printPlans(ctx: CommandContext, plans: readonly PlanRecord[]): void {
  ctx.out.table(
    [
      { header: 'ID' },
      { header: 'UNIT' },
      { header: 'REVISION' },
      { header: 'STATUS' },
      { header: '+ADD', align: 'right' },
      { header: '~CHANGE', align: 'right' },
      { header: '-DESTROY', align: 'right' },
      { header: '±REPLACE', align: 'right' },
      { header: 'CREATED' },
    ],
    plans.map((p) => [
      p.id,
      p.unit,
      shortRevision(p.revision),
      p.status,
      String(p.summary.add),
      String(p.summary.change),
      String(p.summary.destroy),
      String(p.summary.replace),
      formatTime(p.createdAt),
    ]),
    'no plans',
  );
}

function printPlanDetail(ctx: CommandContext, detail: PlanDetail): void {
  const { out } = ctx;
  const p = detail.plan;
  const rows: [string, string][] = [
    ['plan', p.id],
    ['unit', `${p.unit} (${p.kind})`],
    ['revision', p.revision],
    ['status', p.status],
    ['summary', `${formatSummary(p.summary)}${p.hasChanges ? '' : ' (no changes)'}${p.destructive ? ' (destructive)' : ''}`],
    ...(p.purpose && p.purpose !== 'change' ? [['purpose', purposeText(p)] as [string, string]] : []),
    ['approval', approvalText(p)],
    ['apply at', applyAtText(p)],
    ['created', formatTime(p.createdAt)],
  ];
  if (p.uncertain) rows.push(['unknown', `${p.uncertain} step(s) the tool cannot predict (not counted above; they run when applied)`]);
  for (const w of p.warnings ?? []) rows.push(['warning', messageCell(w)]);
  if (p.error) rows.push(['error', `${p.error.message} [${p.error.code}]${p.error.hint ? ` (hint: ${p.error.hint})` : ''}`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) out.line(`${k.padEnd(width)}  ${v}`);
  out.line();
  const rendered = detail.rendered.trimEnd();
  out.line(rendered.length > 0 ? rendered : '(no rendered plan)');
}

/** What kind of plan, and the action that follows it. */
function purposeText(p: PlanRecord): string {
  if (p.purpose === 'drift') {
    return p.driftAction === 'remediate'
      ? 'drift found by a check; action remediate: applying it puts back what Git says, under the approval policy'
      : 'drift found by a check; action report: it waits for approval, nothing is applied unless someone approves it';
  }
  return 'destroy of a unit removed from the repository with prune: true: it always waits for approval';
}

/** The policy, said consistently with what will happen to this plan. */
function approvalText(p: PlanRecord): string {
  if (p.decidedBy) return `${p.approval}, decided by ${p.decidedBy}${p.decidedAt ? ` at ${formatTime(p.decidedAt)}` : ''}`;
  if (p.purpose === 'drift' && p.driftAction !== 'remediate') return `${p.approval}, but drift action report: waits for approval`;
  if (p.purpose === 'destroy') return `${p.approval}, but a destroy of a removed unit: waits for approval`;
  return p.approval;
}

function applyAtText(p: PlanRecord): string {
  if (p.applyAt) return formatTime(p.applyAt);
  if (p.status === 'Pending' && p.hasChanges) return `- (waits for approval: plumbline approve ${p.id})`;
  return '-';
}

function decisionLine(verb: 'approved' | 'rejected', p: PlanRecord): string {
  const who = p.decidedBy ? ` by ${p.decidedBy}` : '';
  const when = verb === 'approved' && p.applyAt ? `; applies at ${formatTime(p.applyAt)}` : '';
  return `plan ${p.id} (${p.unit} at ${shortRevision(p.revision)}) ${verb}${who}; status ${p.status}${when}`;
}

function printHistory(ctx: CommandContext, events: readonly HistoryEvent[]): void {
  ctx.out.table(
    [
      { header: 'SEQ', align: 'right' },
      { header: 'AT' },
      { header: 'TYPE' },
      { header: 'UNIT' },
      { header: 'REVISION' },
      { header: 'PLAN' },
      { header: 'MESSAGE' },
    ],
    events.map((e) => [
      String(e.seq),
      formatTime(e.at),
      e.type,
      e.unit ?? '-',
      shortRevision(e.revision),
      e.planId ?? '-',
      messageCell(e.message),
    ]),
    'no events',
  );
}

/** Never print a password embedded in the source URL. */
function displayUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) {
      url.password = '***';
      return url.toString();
    }
  } catch {
    // scp-like or plain path: nothing to hide
  }
  return raw;
}
