import { randomUUID } from 'node:crypto';
import type { SharedState } from '../../engine/provider-kit.ts';

/**
 * Terraform's `pg` backend takes one database-wide advisory lock (-1) to
 * create a workspace's first state, and holds it for the whole plan or apply.
 * A first reconcile of many stacks would then run one stack at a time across
 * every member, and the others fail on "Already locked for workspace
 * creation". So once `terraform init` has made the unit's schema and table,
 * Plumbline writes an empty state row (a new lineage, serial 0, as `terraform
 * state push` of an empty state would): every later lock is the row's own,
 * and the creation lock is only tried for an instant.
 */
export async function ensureStateRow(shared: SharedState, schema: string): Promise<void> {
  const { default: pg } = await import('pg');
  // The password goes into the URL: pg lets a connection string's fields win over separate ones.
  const url = new URL(shared.postgresUrl);
  if (shared.password) url.password = encodeURIComponent(shared.password);
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 10_000, application_name: 'plumbline-terraform-state' });
  // A dropped connection reports an error event too: it is answered by the query's rejection.
  client.on('error', () => undefined);
  await client.connect();
  try {
    const table = await client.query(`select 1 from information_schema.tables where table_schema = $1 and table_name = 'states'`, [schema]);
    if (table.rowCount === 0) return;
    const empty = { version: 4, terraform_version: '1.0.0', serial: 0, lineage: randomUUID(), outputs: {}, resources: [] };
    await client.query(`insert into ${quoteIdent(schema)}.states (name, data) values ('default', $1) on conflict (name) do nothing`, [JSON.stringify(empty)]);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
