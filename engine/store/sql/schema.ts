import type { Generated } from './kysely.ts';

/**
 * The tables of the SQL store, as the query layer sees them. Each record is
 * kept whole as JSON in `record`; the columns beside it are copies of the
 * fields the store queries on, so every read is an index lookup.
 *
 * Times are ISO-8601 UTC strings (`2026-11-30T12:14:53.928Z`): they sort as
 * text, identically on both engines (PostgreSQL's text columns use the "C"
 * collation, SQLite compares bytes).
 */
export interface Database {
  units: UnitsTable;
  plans: PlansTable;
  change_sets: ChangeSetsTable;
  history: HistoryTable;
  source: SourceTable;
  unit_reads: UnitReadsTable;
  store_meta: StoreMetaTable;
  runs: RunsTable;
  members: MembersTable;
  leases: LeasesTable;
  unit_outputs: UnitOutputsTable;
  plan_artifacts: PlanArtifactsTable;
  tokens: TokensTable;
}

export interface MembersTable {
  name: string;
  heartbeat_at: string;
  record: string;
}

/** A named lease (the leader's): who holds it until when, and its fencing token. */
export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: string;
  fence: number | string | bigint;
}

export interface UnitOutputsTable {
  unit: string;
  record: string;
}

export interface PlanArtifactsTable {
  plan_id: string;
  name: string;
  content: Buffer;
}

/** Personal API tokens: the hash is a column of its own, never part of the record the API shows. */
export interface TokensTable {
  name: string;
  /** Hex sha-256 of the token: the lookup of every request. */
  hash: string;
  /** The token's public record (ApiToken), without the hash. */
  record: string;
}

/** The run queue (see RunRecord). */
export interface RunsTable {
  id: string;
  unit: string;
  state: string;
  created_at: string;
  record: string;
  claimed_by: string | null;
  lease_until: string | null;
}

export interface UnitsTable {
  name: string;
  /** The plan the unit's status points at: kept by retention. */
  plan_id: string | null;
  /** The unit's phase, counted by the metrics without reading records. */
  phase: string | null;
  record: string;
}

export interface PlansTable {
  id: string;
  unit: string;
  status: string;
  /** Null for plans that belong to no change set. */
  change_set: string | null;
  /** `change` when the record has none. */
  purpose: string;
  created_at: string;
  run_id: string;
  record: string;
}

export interface ChangeSetsTable {
  id: string;
  created_at: string;
  record: string;
}

export interface HistoryTable {
  /** Given by the database, monotonic, never reused (even after pruning). */
  seq: Generated<number>;
  at: string;
  unit: string | null;
  plan_id: string | null;
  /** The token that took the decision this event records; null for the engine's own events. */
  actor: string | null;
  /** The event without `seq`. */
  record: string;
}

/** One row (id 1). */
export interface SourceTable {
  id: number;
  record: string;
}

export interface UnitReadsTable {
  unit: string;
  record: string;
}

/** Facts about the store itself (`imported-json-store`). */
export interface StoreMetaTable {
  key: string;
  value: string;
}
