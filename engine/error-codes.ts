import type { ErrorCodeDoc, ErrorCodeTable } from './errors.ts';
import type { ProviderModule } from './provider.ts';

/**
 * The codes the engine raises, each with the retry class it usually has and
 * what it means to the person who sees it. Providers declare theirs in
 * `providers/<tool>/error-codes.ts`; docs/errors.md lists both (`npm run docs`).
 * A code raised by the engine and by providers too (E_PLAN_STALE,
 * E_TOOL_MISSING...) is the engine's: the engine acts on it.
 */
export const ENGINE_ERROR_CODES = {
  // Definitions, config and the daemon's own start.
  E_VALIDATION: { retry: 'stalled', meaning: 'a definition or config file is invalid: fix each problem it lists (file:line:col) and commit, or edit the config' },
  E_CONFIG_READ: { retry: 'stalled', meaning: 'the config file cannot be read: pass the path of plumbline.yaml with --config' },
  E_DURATION: { retry: 'stalled', meaning: 'a duration is not written like 30s, 5m, 2h or 1d: fix it in the file the message names' },
  E_DEPENDENCY_CYCLE: { retry: 'stalled', meaning: 'the units named depend on each other in a cycle: remove one dependsOn entry of it' },
  E_OUTPUT_REFERENCE: { retry: 'stalled', meaning: 'a fromOutput names an output the upstream unit does not have, or a unit it does not depend on: fix the reference or dependsOn' },
  E_STATE_DIR_LOCKED: { retry: 'stalled', meaning: 'another Plumbline daemon uses this state directory: stop it, or give this one another stateDir' },
  E_DEMO_RUNNING: { retry: 'stalled', meaning: 'a demo already runs on this folder: stop it, or give this one another folder with --state-dir' },
  E_NO_PROVIDER: { retry: 'stalled', meaning: 'no provider on this host handles the unit’s kind: check `kind:` in the definition, or the Plumbline version' },
  E_INTERNAL: { retry: 'transient', meaning: 'an unexpected failure inside Plumbline, retried: if it keeps happening, report it with the daemon log' },

  // Runs: inputs, plans and applies.
  E_SECRET_MISSING: { retry: 'stalled', meaning: 'the environment variable or file a secret variable reads is missing on the control host: provide it, then plumbline sync --unit' },
  E_INPUT_OUTSIDE_REPOSITORY: { retry: 'stalled', meaning: 'a file or module the unit reads leads outside the repository (a symlink, a path): commit the file itself' },
  E_UNDECLARED_VARIABLE: { retry: 'stalled', meaning: 'a vars or secretVars entry names a variable the unit’s code does not declare: rename the entry or declare the variable' },
  E_PLAN_STALE: { retry: 'waiting', meaning: 'the state changed after the plan was made: the unit is planned again, and the new plan needs its own approval' },
  E_PLAN_MISSING: { retry: 'waiting', meaning: 'the saved plan’s files are gone: Plumbline plans the unit again before it applies' },
  E_SUPERSEDED: { retry: 'stalled', meaning: 'a newer commit, a newer plan or the unit’s removal made this plan pointless: it is never applied; review the newer one' },
  E_INPUTS_CHANGED: { retry: 'waiting', meaning: 'an upstream output the plan took changed before the apply: the unit is planned again with the new values' },
  E_INTERRUPTED: { retry: 'transient', meaning: 'the run was cut off (a daemon stop, a lost member, a store write that failed): the unit is planned again' },
  E_ABORTED: { retry: 'transient', meaning: 'the run was cancelled (a daemon stop, a newer commit): it runs again when due' },
  E_FENCED: { retry: 'stalled', meaning: 'another daemon sharing the store took the run over: it records the run’s end, nothing to do' },

  // Tools and their sandbox.
  E_TOOL_FAILED: { retry: 'stalled', meaning: 'a tool exited with an error: its output is in the message' },
  E_TOOL_MISSING: { retry: 'stalled', meaning: 'a tool (terraform, git, ansible-playbook, npm...) is not installed on the control host: install it or set its path in plumbline.yaml' },
  E_TOOL_TIMEOUT: { retry: 'transient', meaning: 'a tool did not finish within its timeout, retried: raise the timeout in plumbline.yaml if the run is legitimately long' },
  E_CANCELLED: { retry: 'transient', meaning: 'a tool was stopped because its run was cancelled (a daemon stop, a newer commit): it runs again when due' },
  E_SANDBOX_UNAVAILABLE: { retry: 'stalled', meaning: '`sandbox: bwrap` is set but bubblewrap does not work on this host: make it work (docs/security.md, Sandboxed tool runs) or choose another sandbox mode' },
  E_SANDBOX_UNSUPPORTED: { retry: 'stalled', meaning: 'a sandbox grant asks for outlive: true, which this CPU architecture does not support: remove it from the grant' },
  E_SANDBOX_FAILED: { retry: 'stalled', meaning: 'bubblewrap could not set up a tool’s sandbox: check the paths of the sandbox grants in plumbline.yaml' },

  // The source: Git and commit signatures.
  E_GIT_FETCH: { retry: 'transient', meaning: 'the repository could not be fetched, retried: check source.url and source.branch, and that the control host reaches the repository' },
  E_GIT_NO_BRANCH: { retry: 'waiting', meaning: 'the watched branch does not exist in the repository: push it, or fix source.branch' },
  E_GIT: { retry: 'transient', meaning: 'a git command on the mirror under stateDir/source failed, retried: check the disk and its permissions' },
  E_GIT_UNSAFE_TREE: { retry: 'stalled', meaning: 'a commit’s tree names a path git will not write (`..`, `.git`, an absolute path): it was not made by git; push a commit without it' },
  E_BAD_REVISION: { retry: 'stalled', meaning: 'Plumbline was handed something that is not a commit id: a bug, please report it' },
  E_VERIFY_FAILED: { retry: 'transient', meaning: 'a commit’s signature could not be checked, retried: check that gpg (or ssh-keygen for SSH signatures) is installed on the control host' },
  E_VERIFY_KEYRING: { retry: 'waiting', meaning: 'the trusted keys file of source.verify holds no key gpg can import: write the armored public keys into it' },
  E_VERIFY_TRUST_FILE: { retry: 'waiting', meaning: 'the trusted keys (or allowed signers) file of source.verify cannot be read: create it, readable by the daemon’s user' },

  // The store.
  E_STORE_WRITE: { retry: 'transient', meaning: 'the store could not write (disk full, database server gone): free space or bring the server back; the change is written again' },
  E_STORE_READ: { retry: 'transient', meaning: 'the store could not be read (disk, database server), retried: check them' },
  E_STORE_QUERY: { retry: 'stalled', meaning: 'the database refused a query of Plumbline’s: a bug, please report it with the daemon log' },
  E_STORE_DAMAGED: { retry: 'stalled', meaning: 'the store’s database is damaged: the daemon does not start; restore the last plumbline backup (the store is never reset on its own)' },
  E_STORE_OPEN: { retry: 'stalled', meaning: 'the store’s database cannot be opened: check that the state directory is on a local disk, writable by the daemon user, and not full' },
  E_STORE_MISSING: { retry: 'stalled', meaning: 'there is no store database in stateDir: check stateDir (the daemon creates plumbline.db there when it starts)' },
  E_STORE_CHECK: { retry: 'transient', meaning: 'the integrity check of the database could not run (nothing was found wrong): it runs again at the next start' },
  E_STORE_MIGRATE: { retry: 'stalled', meaning: 'a migration of the store’s schema failed and nothing of it was applied: the daemon log has the cause' },
  E_STORE_TOO_NEW: { retry: 'stalled', meaning: 'a newer Plumbline wrote the store: run that version (or newer), or restore a backup taken before the upgrade' },
  E_STORE_NESTED_WRITE: { retry: 'stalled', meaning: 'a store write was started inside another: a bug, please report it' },
  E_STORE_URL: { retry: 'stalled', meaning: 'store.url is not a postgres:// URL: fix it, or leave it out to keep the store in SQLite' },
  E_STORE_CONNECT: { retry: 'transient', meaning: 'the PostgreSQL store cannot be reached: check store.url, the password, and that the server accepts this host' },
  E_STORE_PASSWORD: { retry: 'stalled', meaning: 'store.passwordFile cannot be read: the file holds the password on its first line, readable by the daemon user' },
  E_STORE_BACKUP: { retry: 'transient', meaning: 'pg_dump could not back up the PostgreSQL store: it must be on PATH, as new as the server, and reach the database' },
  E_STORE_SEALED_DAMAGED: { retry: 'stalled', meaning: 'a sealed value in the store does not open with this daemon’s key: every daemon sharing a store needs the same store.sealingKeyFile' },
  E_SEALING_KEY_MISSING: { retry: 'stalled', meaning: 'the store holds sealed values but the sealing key file is missing: copy it from a daemon using this store' },
  E_SEALING_KEY_MISMATCH: { retry: 'stalled', meaning: 'the sealing key file holds another key than the one this store was sealed with: copy the right one, then start again' },
  E_SEALING_KEY_INVALID: { retry: 'stalled', meaning: 'the sealing key file does not hold 64 hexadecimal digits: restore it from its copy' },
  E_SEALING_KEY_OPEN: { retry: 'stalled', meaning: 'the sealing key file can be read by other users: chmod 600 it' },
  E_BACKUP_TARGET: { retry: 'stalled', meaning: 'plumbline backup --to names the live database or a folder that does not exist: pass another path' },
  E_PAGE_START_NOT_FOUND: { retry: 'stalled', meaning: 'the plan or event --before names is gone (retention may have removed it): list again without --before' },

  // Requests of the CLI, the API and the web UI.
  E_UNIT_NOT_FOUND: { retry: 'stalled', meaning: 'no unit has that name: plumbline status lists them' },
  E_UNIT_NOT_PLANNABLE: { retry: 'stalled', meaning: 'the unit has no valid definition at the newest commit: fix it (plumbline validate) and push' },
  E_PLAN_NOT_FOUND: { retry: 'stalled', meaning: 'no plan has that id: plumbline plans lists them' },
  E_PLAN_NOT_PENDING: { retry: 'stalled', meaning: 'only a Pending plan can be approved or rejected: this one was decided, superseded or has run' },
  E_PLAN_NOT_CURRENT: { retry: 'stalled', meaning: 'the plan is not its unit’s current plan: review the current one (plumbline show)' },
  E_PLAN_TRANSITION: { retry: 'stalled', meaning: 'the plan’s status does not allow that step (only a Pending plan is decided, only an Approved one applied)' },
  E_CHANGESET_NOT_FOUND: { retry: 'stalled', meaning: 'no change set has that id or commit: plumbline changesets lists them' },
  E_CHANGESET_AMBIGUOUS: { retry: 'stalled', meaning: 'the commit prefix names several change sets: give more characters' },
  E_CHANGESET_SUPERSEDED: { retry: 'stalled', meaning: 'the change set is not the newest and has no pending plans left: approve the newest one' },
  E_UNAUTHORIZED: { retry: 'stalled', meaning: 'the request has no token, or one that is unknown, expired or revoked: log in or pass a valid token' },
  E_FORBIDDEN: { retry: 'stalled', meaning: 'the token’s role or units do not cover the request: ask an admin for a token that does' },
  E_BAD_REQUEST: { retry: 'stalled', meaning: 'the request cannot be taken as it is (malformed, a bad field): the message says what to change' },
  E_NOT_FOUND: { retry: 'stalled', meaning: 'no API route or page has that path: check the URL (docs/cli.md lists the routes)' },
  E_METHOD_NOT_ALLOWED: { retry: 'stalled', meaning: 'the route does not take that HTTP method: use the one the Allow header names' },
  E_BODY_TOO_LARGE: { retry: 'stalled', meaning: 'the request body is larger than the API accepts: send less' },
  E_API_LISTEN: { retry: 'stalled', meaning: 'the API cannot listen on api.host:api.port: stop the process that holds the port, or change them' },
  E_API_TOKEN: { retry: 'stalled', meaning: 'the API token the daemon was given is empty: delete api.tokenFile and restart the daemon to make a new one' },
  E_TOKEN_EXISTS: { retry: 'stalled', meaning: 'an active token has that name: revoke it first, or choose another name' },
  E_TOKEN_NOT_FOUND: { retry: 'stalled', meaning: 'no token has that name: plumbline token list lists them' },
  E_TOKEN_REVOKED: { retry: 'stalled', meaning: 'the token was revoked already: nothing to do' },
  E_TOKEN_BOOTSTRAP: { retry: 'stalled', meaning: 'the token of api.tokenFile cannot be revoked through the API: replace the file and restart the daemon' },
  E_TOKEN_MISSING: { retry: 'stalled', meaning: 'the API token file does not exist: start the daemon once to create it, or pass --token / PLUMBLINE_TOKEN' },
  E_TOKEN_UNREADABLE: { retry: 'stalled', meaning: 'the API token file cannot be read: run as the daemon’s user, or pass --token / PLUMBLINE_TOKEN' },
  E_TOKEN_INSECURE: { retry: 'stalled', meaning: 'the API token file can be read by other users: chmod 600 it, or delete it and restart the daemon for a new token' },
  E_TOKEN_EMPTY: { retry: 'stalled', meaning: 'the API token file is empty: delete it and restart the daemon, or write a token into it' },
  E_TOKEN_TOO_SHORT: { retry: 'stalled', meaning: 'the API token file holds a token too short to be safe: delete it and restart the daemon, or write a longer random one' },
  E_TOKEN_WRITE: { retry: 'stalled', meaning: 'the daemon cannot create the API token file: make the folder of api.tokenFile writable by its user' },
  E_NO_SERVER: { retry: 'stalled', meaning: 'the CLI knows no daemon to ask: pass --server and --token, set PLUMBLINE_SERVER and PLUMBLINE_TOKEN, or --config' },
  E_BAD_SERVER_URL: { retry: 'stalled', meaning: 'the daemon address is not an http:// or https:// URL: pass it like --server http://127.0.0.1:7777' },
  E_DAEMON_UNREACHABLE: { retry: 'transient', meaning: 'the CLI cannot reach the daemon: start it, or check --server / PLUMBLINE_SERVER' },
  E_API_REQUEST: { retry: 'transient', meaning: 'a request to the daemon failed on the way: check --server / PLUMBLINE_SERVER and the network' },
  E_API_TIMEOUT: { retry: 'transient', meaning: 'the daemon did not answer in time: it may be overloaded or stuck; check its log' },
  E_API_BAD_RESPONSE: { retry: 'transient', meaning: 'the server answered something that is not Plumbline’s API: check that --server points at a Plumbline daemon' },
  E_OIDC_SECRET: { retry: 'stalled', meaning: 'auth.oidc.clientSecretFile is missing, unreadable, open to others or empty: the daemon does not start until it is fixed' },
  E_OIDC_ISSUER_UNREACHABLE: { retry: 'waiting', meaning: 'the OpenID provider cannot be reached: OpenID logins wait for it (tokens still work); check auth.oidc.issuer' },
  E_OIDC_LOGIN_EXPIRED: { retry: 'stalled', meaning: 'the login cannot be finished (expired, or started in another browser): start again from the login page' },
  E_OIDC_STATE_MISMATCH: { retry: 'stalled', meaning: 'the OpenID answer does not belong to the login this browser started: start again; if you did not, someone sent you the link' },
  E_OIDC_PROVIDER_REFUSED: { retry: 'stalled', meaning: 'the OpenID provider refused the login: ask its administrator whether Plumbline’s client may log you in' },
  E_OIDC_TOKEN: { retry: 'transient', meaning: 'the OpenID provider’s answer could not be used: start again; check auth.oidc.clientId, the secret and the clocks if it persists' },
  E_OIDC_NO_ROLE: { retry: 'stalled', meaning: 'none of the user’s groups gives a role in Plumbline: an admin lists one under auth.oidc.roles' },
  // Forge reporting and webhooks (engine/forge): never block a plan or an apply.
  E_FORGE_UNREACHABLE: { retry: 'transient', meaning: 'the forge did not answer: check forge.url and that this host reaches it; reports are retried in the background' },
  E_FORGE_UNAVAILABLE: { retry: 'transient', meaning: 'the forge answered with a server error: reports are retried in the background' },
  E_FORGE_UNAUTHORIZED: { retry: 'transient', meaning: 'the forge refused the token: renew forge.tokenFile (it needs the rights to post statuses and comments); reports are retried' },
  E_FORGE_RATE_LIMITED: { retry: 'transient', meaning: 'the forge’s rate limit was reached: every report waits for the time the forge asked for' },
  E_FORGE_REJECTED: { retry: 'stalled', meaning: 'the forge rejected a request: check forge.repository and forge.type (a 404 means the repository is unknown to the forge or to the token)' },
  E_FORGE_ANSWER: { retry: 'stalled', meaning: 'the forge answered something unexpected: forge.type and forge.url must name the kind of forge that answers there, and its API root' },
  E_FORGE_SECRET_READ: { retry: 'stalled', meaning: 'forge.tokenFile or forge.webhookSecretFile cannot be read: name a file the daemon’s user can read' },
  E_FORGE_SECRET_EMPTY: { retry: 'stalled', meaning: 'forge.tokenFile or forge.webhookSecretFile is empty: write the token or secret on its first line' },
  E_WEBHOOK_SIGNATURE: { retry: 'stalled', meaning: 'a request to POST /hooks/git was not signed with forge.webhookSecretFile: it is refused with 401 and changes nothing; set the same secret on the forge’s webhook' },
} as const satisfies ErrorCodeTable;

declare module './errors.ts' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging: the keys are what it adds
  interface ErrorCodeRegistry extends Record<keyof typeof ENGINE_ERROR_CODES, true> {}
}

/** One documented code and who owns it: `engine`, or a provider's kind. */
export interface RegisteredErrorCode extends ErrorCodeDoc {
  code: string;
  owner: string;
}

/** Every code the engine and `modules` document, sorted by code (a code two owners list appears twice: a test refuses that). */
export function registeredErrorCodes(modules: readonly ProviderModule[]): RegisteredErrorCode[] {
  const tables: Array<[string, ErrorCodeTable]> = [['engine', ENGINE_ERROR_CODES], ...modules.flatMap((m): Array<[string, ErrorCodeTable]> => (m.errorCodes ? [[m.kind, m.errorCodes]] : []))];
  const rows = tables.flatMap(([owner, table]) => Object.entries(table).map(([code, doc]) => ({ code, owner, ...doc })));
  return rows.sort((a, b) => a.code.localeCompare(b.code) || a.owner.localeCompare(b.owner));
}

/** The table docs/errors.md holds, in Markdown. */
export function errorCodesMarkdown(modules: readonly ProviderModule[]): string {
  const rows = registeredErrorCodes(modules).map((r) => `| \`${r.code}\` | ${r.owner} | ${r.retry} | ${r.meaning} |`);
  return ['| code | owner | retry | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
