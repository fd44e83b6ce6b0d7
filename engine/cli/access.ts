import { Option, type Command } from 'commander';
import type { TokenInfo } from '../auth/access.ts';
import { ROLES, type Role } from '../auth/types.ts';
import type { HistoryEvent } from '../model.ts';
import { connect, withConnection, type ConnectionOptions } from './connection.ts';
import { formatTime, messageCell } from './output.ts';
import { action, eventPaging, type CommandContext } from './util.ts';

/** `plumbline token ...` and `plumbline audit`: who may do what, and who did what. */
export function registerAccessCommands(program: Command, ctx: CommandContext): void {
  const { out } = ctx;
  const token = program.command('token').description('personal API tokens: create, list, revoke (an admin token is needed)');

  withConnection(
    token
      .command('create')
      .description('create a token and print it, once, alone on standard output')
      .argument('<name>', 'who holds it: recorded as the actor of every decision taken with it')
      .addOption(new Option('--role <role>', 'viewer: every read; approver: also decisions on units; admin: also tokens and sync --allow-rewrite').choices(ROLES).makeOptionMandatory())
      .option('--units <glob>', 'approvers only: the units it may decide on (repeat for more; default every unit)', (glob: string, globs: string[] = []) => [...globs, glob])
      .option('--expires <duration>', 'it stops working after this long, e.g. 90d or 12h (default never)'),
  ).action(
    action(ctx, async (name: string, opts: ConnectionOptions & { role: Role; units?: string[]; expires?: string }) => {
      const created = await (await connect(opts)).createToken({
        name,
        role: opts.role,
        ...(opts.units ? { units: opts.units } : {}),
        ...(opts.expires !== undefined ? { expires: opts.expires } : {}),
      });
      if (opts.json) {
        out.json({ name: created.name, role: created.role, units: created.units ?? null, expiresAt: created.expiresAt, token: created.token });
        return 0;
      }
      out.line(created.token);
      out.note(`token ${created.name} created: ${grant(created)}. It is shown only this once: store it now.`);
      return 0;
    }),
  );

  withConnection(token.command('list').description('list the tokens (never the tokens themselves)')).action(
    action(ctx, async (opts: ConnectionOptions) => {
      const tokens = await (await connect(opts)).listTokens();
      if (opts.json) {
        out.json(tokens);
        return 0;
      }
      out.table(
        [{ header: 'NAME' }, { header: 'ROLE' }, { header: 'UNITS' }, { header: 'STATE' }, { header: 'EXPIRES' }, { header: 'CREATED' }, { header: 'BY' }],
        tokens.map((t) => [t.name, t.role, t.units?.join(' ') ?? '*all*', stateCell(t), formatTime(t.expiresAt), formatTime(t.createdAt), t.createdBy]),
        'no tokens but the bootstrap token of api.tokenFile',
      );
      return 0;
    }),
  );

  withConnection(
    token
      .command('revoke')
      .description('revoke a token: the next request made with it is refused')
      .argument('<name>', 'the token’s name'),
  ).action(
    action(ctx, async (name: string, opts: ConnectionOptions) => {
      const revoked = await (await connect(opts)).revokeToken(name);
      if (opts.json) out.json(revoked);
      else out.line(`token ${revoked.name} revoked at ${formatTime(revoked.revokedAt)} by ${revoked.revokedBy}`);
      return 0;
    }),
  );

  withConnection(
    eventPaging(
      program
        .command('audit')
        .description('list the decisions (approvals, rejections, syncs, drift checks asked for, token changes), newest first, each with the token that took it'),
      'decisions',
    ),
  ).action(
    action(ctx, async (opts: ConnectionOptions & { limit?: number; before?: number }) => {
      const events = await (await connect(opts)).audit(opts.limit, opts.before);
      if (opts.json) out.json(events);
      else printAudit(ctx, events);
      return 0;
    }),
  );
}

/** `approver on prod/*, expires 2026-01-01 00:00:00Z`. */
function grant(t: Pick<TokenInfo, 'role' | 'units' | 'expiresAt'>): string {
  return `${t.role}${t.units ? ` on ${t.units.join(', ')}` : ''}, ${t.expiresAt ? `expires ${formatTime(t.expiresAt)}` : 'never expires'}`;
}

function stateCell(t: TokenInfo): string {
  return t.state === 'revoked' ? `revoked ${formatTime(t.revokedAt)} by ${t.revokedBy}` : t.state;
}

function printAudit(ctx: CommandContext, events: readonly HistoryEvent[]): void {
  ctx.out.table(
    [{ header: 'SEQ', align: 'right' }, { header: 'AT' }, { header: 'ACTOR' }, { header: 'FROM' }, { header: 'TYPE' }, { header: 'UNIT' }, { header: 'MESSAGE' }],
    events.map((e) => [String(e.seq), formatTime(e.at), e.actor ?? '-', e.remote ?? '-', e.type, e.unit ?? '-', messageCell(e.message)]),
    'no decisions',
  );
}
