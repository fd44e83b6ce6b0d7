/**
 * Who may use the API, and what each may do. A token's record is public
 * (`plumbline token list` prints it); the token itself is shown once, when it
 * is created, and only its hash is kept.
 */

/** Each role may do everything the roles before it may. */
export const ROLES = ['viewer', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiToken {
  /** Recorded as the actor of every decision taken with the token. */
  name: string;
  role: Role;
  /** Unit globs an approver may decide on; absent: every unit. */
  units?: string[];
  createdAt: string;
  /** The name of the token that created it. */
  createdBy: string;
  /** Null: it never expires. */
  expiresAt: string | null;
  revokedAt?: string;
  revokedBy?: string;
}

/** As the store keeps it: the sha-256 of the token (hex) beside the record. */
export interface StoredToken extends ApiToken {
  hash: string;
}

/** Whoever a request authenticated as. */
export interface Actor {
  /** The token's name (`bootstrap` for the token in `api.tokenFile`). */
  name: string;
  role: Role;
  /** Unit globs it may decide on; absent: every unit. */
  units?: readonly string[];
  /** The request's remote address. */
  remote?: string;
}
