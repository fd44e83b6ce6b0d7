/**
 * `postgres://` or `postgresql://`: the store is on PostgreSQL. Its own small
 * module: the config loader and the store both ask, and neither should load
 * the other (or the PostgreSQL driver) for it.
 */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}
