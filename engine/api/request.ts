import { badRequest } from './http.ts';

/** Reading a request's body fields and query parameters, each refused with a 400 that says what is wrong. */

/** The largest page an answer holds: anything more is paged with `before`. */
export const MAX_PAGE = 10_000;

export function checkFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw badRequest(
      `unknown field${unknown.length > 1 ? 's' : ''} in request body: ${unknown.join(', ')}`,
      allowed.length > 0 ? `accepted fields: ${allowed.join(', ')}` : 'this route takes no body',
    );
  }
}

export function optionalString(body: Record<string, unknown>, field: string, maxLength: number): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`${field} must be a string`);
  if (value.length > maxLength) throw badRequest(`${field} is longer than ${maxLength} characters`);
  return value;
}

export function requiredString(body: Record<string, unknown>, field: string, maxLength: number): string {
  const value = optionalString(body, field, maxLength);
  if (value === undefined) throw badRequest(`${field} is required`);
  return value;
}

export function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw badRequest(`${field} must be a boolean`);
  return value;
}

export function optionalStrings(body: Record<string, unknown>, field: string): string[] | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw badRequest(`${field} must be an array of strings`);
  return value as string[];
}

export function optionalQuery(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  return value === null || value.trim() === '' ? undefined : value.trim();
}

/** `?limit=N`: a page size, at most MAX_PAGE. */
export function limitQuery(query: URLSearchParams): number | undefined {
  const limit = positiveQuery(query, 'limit');
  if (limit !== undefined && limit > MAX_PAGE) throw badRequest(`limit must be at most ${MAX_PAGE}, got ${limit}`, 'page with before= instead');
  return limit;
}

export function positiveQuery(query: URLSearchParams, name: string): number | undefined {
  const text = optionalQuery(query, name);
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]{0,11}$/.test(text)) throw badRequest(`${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** `{limit?, before?}` of a page of history, only what was given. */
export function historyPage(query: URLSearchParams): { limit?: number; before?: number } {
  const limit = limitQuery(query);
  const before = positiveQuery(query, 'before');
  return { ...(limit !== undefined ? { limit } : {}), ...(before !== undefined ? { before } : {}) };
}
