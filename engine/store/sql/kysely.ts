/**
 * Kysely's runtime, one import for the whole store so there is one copy of
 * each class. The build (scripts/build.mjs) compiles it into dist/ with the
 * engine: loaded from node_modules it is some 280 modules, most of the
 * daemon's start-up.
 */
export { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
export type { ColumnDefinitionBuilder, Generated, Insertable, Migration, RawBuilder } from 'kysely';
