import { existsSync, mkdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { SimpleGit } from 'simple-git';
import { PlumblineError, ToolError } from '../errors.ts';
import { processCounts, run, type ExecResult } from '../exec.ts';
import type { Logger } from '../log.ts';
import { secrets } from '../secrets.ts';
import { parseRawCommits, type CommitHeader } from './signatures.ts';
import { isPlainRelativePath, parseTar, writeEntries } from './tar.ts';

export interface GitSourceOptions {
  url: string;
  branch: string;
  /** Bare mirror the source fetches into. */
  mirrorDir: string;
  /** Where immutable per-commit snapshots are extracted. */
  snapshotsDir: string;
  timeoutMs?: number;
  log: Logger;
  /** source.previews.refs: ref globs fetched with the branch, in the same `git fetch`. */
  previewRefs?: readonly string[];
  /** A fetch after this many without the mirror's upkeep does it itself (see `maintain`). */
  maintainInlineEvery?: number;
}

/** Where the mirror keeps the heads of previewed refs (`refs/pull/7/head` as `refs/plumbline-previews/pull/7/head`). */
export const PREVIEW_NAMESPACE = 'refs/plumbline-previews/';

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** One path that differs between two commits, with its modes (`000000`: absent on that side). */
export interface TreeChange {
  path: string;
  oldMode: string;
  newMode: string;
}

/** How a fetched head stands to the last reconciled commit (see `GitSource.lineage`). */
export type Lineage = 'descends' | 'diverged' | 'unknown';

/** The side of a change where the path does not exist. */
export const ABSENT_MODE = '000000';
/** A submodule (a commit recorded in the tree). */
const GITLINK = '160000';
/** A symbolic link. */
export const SYMLINK_MODE = '120000';
/** Spare copies made by this process: each has a folder name of its own. */
let spareCount = 0;
/** Beyond this many changed paths a new snapshot is extracted whole. */
const MAX_INCREMENTAL_CHANGES = 500;
/** Fetches without the mirror's upkeep before one does it inline: git's own pack limit is 50. */
const MAINTAIN_INLINE_EVERY = 50;
/** What to check when a git command on the mirror fails. */
const MIRROR_HINT = 'the mirror under stateDir/source could not be read; check the disk and its permissions';
/** A change's archive up to this size is extracted in this process, a larger one by tar. */
const MAX_IN_PROCESS_TAR_BYTES = 16 * 1024 * 1024;

/** `git diff --raw -z`: `:<old mode> <new mode> <old id> <new id> <status>\0<path>\0` per path. */
export function parseRawDiff(output: string): TreeChange[] {
  const fields = output.split('\0');
  const changes: TreeChange[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [oldMode, newMode] = fields[i]!.replace(/^:/, '').split(' ');
    const path = fields[i + 1]!;
    if (!oldMode || !newMode || !path) throw new Error(`unexpected git diff --raw output near ${JSON.stringify(fields[i])}`);
    changes.push({ path, oldMode, newMode });
  }
  return changes;
}

/** Git variables the daemon passes on: no prompts, batch ssh, custom CA bundles. */
const ALLOWED_GIT_ENV = [
  'GIT_TERMINAL_PROMPT',
  'GIT_SSH_COMMAND',
  'GIT_SSL_CAINFO',
  'GIT_SSL_CAPATH',
  'GIT_CONFIG_COUNT',
  'GIT_CONFIG_KEY_0',
  'GIT_CONFIG_VALUE_0',
];
/** Variables that make git run other programs; never inherited. */
const DROPPED_ENV = /^(GIT_.*|EDITOR|VISUAL|PAGER|SSH_ASKPASS|PREFIX)$/i;

/**
 * The source URL reaches git as configuration in its environment (remote
 * `origin`), never as an argument: arguments are visible to every local user in
 * the process list, and an https URL may carry a token.
 */
function gitEnvironment(url: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (DROPPED_ENV.test(key) && !ALLOWED_GIT_ENV.includes(key)) continue;
    env[key] = value;
  }
  return {
    ...env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'remote.origin.url',
    GIT_CONFIG_VALUE_0: url,
  };
}

/**
 * The watched repository, reached by fetch only. Fetches go into a bare mirror
 * that nobody checks out; runs read immutable snapshots of single commits. A
 * poll with nothing new is exactly one `git fetch`: the head is read from the
 * mirror's ref files, not with another process.
 */
export class GitSource {
  /** simple-git loads at the first command that needs it (after the daemon's API listens), not with the daemon. */
  private client: Promise<SimpleGit> | undefined;
  private readonly snapshotting = new Map<string, Promise<string>>();
  /**
   * A hard-linked copy of one snapshot, made while the daemon is quiet: the
   * next commit's snapshot starts from it instead of copying on the sync's
   * critical path. Nothing else ever uses it; one at a time.
   */
  private spare: { base: string; dir: string; ready: Promise<boolean> } | undefined;
  private lastChanges: { key: string; pending: Promise<TreeChange[]> } | undefined;
  /** The head the last fetch brought: the mirror holds it. */
  private fetchedHead: string | undefined;
  /** Fetches since the mirror's last upkeep (`git maintenance run --auto`). */
  private fetchesSinceUpkeep = 0;

  constructor(private readonly options: GitSourceOptions) {
    mkdirSync(options.mirrorDir, { recursive: true, mode: 0o700 });
    redactUrl(options.url); // registers credentials in the URL as secrets before any git output is logged
  }

  private git(): Promise<SimpleGit> {
    this.client ??= import('simple-git').then(({ simpleGit }) =>
      simpleGit({
        baseDir: this.options.mirrorDir,
        timeout: { block: this.options.timeoutMs ?? 5 * 60 * 1000 },
        maxConcurrentProcesses: 4,
        // Our own fixed GIT_SSH_COMMAND (BatchMode: fail instead of prompting for a
        // password or an unknown host key) and our own one-key GIT_CONFIG_* (the
        // remote's URL, kept off the command line); nothing else reaches them.
        unsafe: { allowUnsafeSshCommand: true, allowUnsafeConfigEnvCount: true },
        allowEnvironment: ALLOWED_GIT_ENV,
      })
        .env(gitEnvironment(this.options.url))
        .outputHandler((command) => {
          // Counted alongside the other tools so the idle cost of a poll is observable.
          processCounts.set(command, (processCounts.get(command) ?? 0) + 1);
        }),
    );
    return this.client;
  }

  get branch(): string {
    return this.options.branch;
  }

  /** Fetch the branch into the mirror; returns the head commit. */
  async fetch(): Promise<string> {
    await this.ensureMirror();
    const ref = `refs/heads/${this.options.branch}`;
    // Previewed refs come in the same round trip; `--prune` drops the ones
    // deleted upstream (only under the refspecs' destinations).
    const previews = (this.options.previewRefs ?? []).map((glob) => `+${glob}:${PREVIEW_NAMESPACE}${glob.slice('refs/'.length)}`);
    // git fetch starts `git maintenance run --auto` when it is done: a process
    // on the path of every sync. It is left to `maintain`, run while the
    // daemon is quiet, unless that has not happened for a while.
    const inline = this.fetchesSinceUpkeep >= (this.options.maintainInlineEvery ?? MAINTAIN_INLINE_EVERY);
    try {
      await this.runGit([
        ...(inline ? [] : ['-c', 'maintenance.auto=false']),
        'fetch',
        '--no-tags',
        '--force',
        '--quiet',
        ...(previews.length > 0 ? ['--prune'] : []),
        'origin',
        `+${ref}:${ref}`,
        ...previews,
      ]);
      this.fetchesSinceUpkeep = inline ? 0 : this.fetchesSinceUpkeep + 1;
    } catch (error) {
      throw new ToolError('E_GIT_FETCH', `could not fetch ${ref} from ${redactUrl(this.options.url)}: ${firstLine(error)}`, {
        retry: 'transient',
        hint: 'check source.url and source.branch in plumbline.yaml, and that the control host can reach the repository',
        cause: error,
      });
    }
    const head = await this.readRef(ref);
    this.fetchedHead = head;
    if (!head) {
      throw new PlumblineError('E_GIT_NO_BRANCH', `branch ${this.options.branch} not found in ${redactUrl(this.options.url)}`, {
        retry: 'waiting',
        hint: 'push the branch or fix source.branch in plumbline.yaml',
      });
    }
    return head;
  }

  /**
   * The mirror's upkeep that fetches leave out (packing what they brought),
   * when the daemon is quiet: `git maintenance run --auto` does something
   * only past git's thresholds. Never between a fetch and its reconcile (the
   * caller holds the poll's lock). A failure is logged: the next fetches do
   * it inline.
   */
  async maintain(): Promise<void> {
    if (this.fetchesSinceUpkeep === 0) return;
    try {
      await this.runGit(['maintenance', 'run', '--auto', '--quiet']);
      this.fetchesSinceUpkeep = 0;
    } catch (error) {
      this.options.log.warn({ err: error }, 'the mirror\'s upkeep failed: fetches do it again');
    }
  }

  /** Fetch when this mirror lacks `revision` (a commit another member reconciled). */
  async ensureCommit(revision: string): Promise<void> {
    if (!(await this.hasCommit(revision))) await this.fetch();
  }

  /**
   * How `head` stands to `previous` (the last reconciled commit), in one git
   * process on a fast-forward: `descends` (previous is an ancestor of head),
   * `diverged` (the mirror holds previous, and head does not descend from it:
   * history was rewritten) or `unknown` (the mirror no longer holds previous,
   * as after a force-push). `merge-base --is-ancestor` answers 0 or 1, and
   * 128 for an object it cannot read as a commit: only then does
   * `hasCommit` tell a dropped commit from a failing git, and a failing git
   * rejects; it never passes for a rewrite.
   */
  async lineage(previous: string, head: string): Promise<Lineage> {
    requireSha(previous);
    requireSha(head);
    if (previous === head) return 'descends';
    // A member that never fetched has an empty mirror, not a broken one.
    await this.ensureMirror();
    const result = await this.gitOutput(['merge-base', '--is-ancestor', previous, head], { okExitCodes: [0, 1, 128], timeoutMs: 60_000 });
    if (result.exitCode === 0) return 'descends';
    if (result.exitCode === 1) return 'diverged';
    if (!(await this.hasCommit(previous))) return 'unknown';
    throw new ToolError('E_GIT', `git merge-base failed: ${firstLine(result.stderr)}`, {
      retry: 'transient',
      hint: MIRROR_HINT,
    });
  }

  /** The best common ancestor of two commits; undefined when they share none. */
  async mergeBase(a: string, b: string): Promise<string | undefined> {
    // No common ancestor prints nothing (exit 1, no error text); a real git error
    // rejects, and must not pass for a history rewrite.
    const base = await (await this.git()).raw(['merge-base', a, b]).catch((error: unknown) => {
      throw new ToolError('E_GIT', `git merge-base failed: ${firstLine(error)}`, { retry: 'transient', cause: error });
    });
    return base.trim() || undefined;
  }

  /**
   * The heads of the previewed refs as the last fetch left them, by their
   * name upstream, read from the mirror's ref files (no process: an idle
   * poll stays one `git fetch`).
   */
  async previewHeads(): Promise<Map<string, string>> {
    const heads = new Map<string, string>();
    const packed = await readFile(join(this.options.mirrorDir, 'packed-refs'), 'utf8').catch(() => '');
    for (const line of packed.split('\n')) {
      const [sha, name] = line.split(' ');
      if (sha && name?.startsWith(PREVIEW_NAMESPACE) && SHA.test(sha)) heads.set(name, sha);
    }
    const root = join(this.options.mirrorDir, PREVIEW_NAMESPACE.slice(0, -1));
    for (const file of await readdir(root, { recursive: true, withFileTypes: true }).catch(() => [])) {
      if (!file.isFile()) continue;
      const path = join(file.parentPath, file.name);
      const sha = (await readFile(path, 'utf8').catch(() => '')).trim();
      if (SHA.test(sha)) heads.set(`${PREVIEW_NAMESPACE}${path.slice(root.length + 1)}`, sha);
    }
    return new Map([...heads].map(([name, sha]) => [`refs/${name.slice(PREVIEW_NAMESPACE.length)}`, sha]));
  }

  /**
   * Whether the mirror still holds this commit (a force-push can drop it).
   * `--batch-check` says `missing` for an absent object and fails only when
   * git itself does: a failing query rejects, and never passes for "absent"
   * (which would stall the source as a history rewrite).
   */
  async hasCommit(revision: string): Promise<boolean> {
    // A member that never fetched has an empty mirror, not a broken one.
    await this.ensureMirror();
    const result = await this.gitOutput(['cat-file', '--batch-check'], { input: `${revision}\n`, timeoutMs: 60_000 });
    const [, type] = result.stdout.trim().split(' ');
    return type === 'commit';
  }

  /**
   * The commits a signature check looks at, newest first, with their raw
   * headers: the head alone, or every commit reachable from it and not from
   * `since` (the other parents of merges included).
   */
  async commitHeaders(head: string, since: string | null): Promise<CommitHeader[]> {
    for (const revision of [head, since]) if (revision !== null) requireSha(revision);
    const range = since ? [`${since}..${head}`] : ['--max-count=1', head];
    const result = await this.gitOutput(['rev-list', '--format=raw', ...range], { timeoutMs: 60_000 });
    return parseRawCommits(result.stdout);
  }

  /**
   * `git verify-commit --raw`: git's exit code (1 for a signature it does not
   * accept) and what the verifier printed. Git's system and global config are
   * left out: only `config` (given as `-c`) and `env` decide how it verifies.
   */
  async verifyCommit(revision: string, config: Record<string, string>, env: Record<string, string> = {}): Promise<{ exitCode: number; output: string }> {
    requireSha(revision);
    const settings = Object.entries(config).flatMap(([key, value]) => ['-c', `${key}=${value}`]);
    const result = await this.gitOutput([...settings, 'verify-commit', '--raw', revision], {
      env: { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', ...env },
      okExitCodes: [0, 1],
      timeoutMs: 60_000,
    });
    return { exitCode: result.exitCode, output: `${result.stderr}\n${result.stdout}` };
  }

  /** Repository-relative paths that differ between two commits. */
  async changedPaths(from: string, to: string): Promise<string[]> {
    return (await this.changes(from, to)).map((change) => change.path);
  }

  /**
   * What differs between two commits, path by path with its modes (one
   * `git diff --raw`). The last answer is kept: a new commit's snapshot, its
   * definitions and the units it touches all ask for the same pair.
   */
  changes(from: string, to: string): Promise<TreeChange[]> {
    for (const revision of [from, to]) if (!SHA.test(revision)) return Promise.reject(badRevision(revision));
    const key = `${from}..${to}`;
    if (this.lastChanges?.key === key) return this.lastChanges.pending;
    const pending = this.gitOutput(['diff', '--raw', '--no-renames', '-z', from, to], { timeoutMs: 60_000 }).then((result) => parseRawDiff(result.stdout));
    // A failed diff is not remembered.
    pending.catch(() => {
      if (this.lastChanges?.pending === pending) this.lastChanges = undefined;
    });
    this.lastChanges = { key, pending };
    return pending;
  }

  /**
   * An immutable copy of the whole tree at `revision`, extracted once and shared
   * by every run of that commit. Runs never write into it: each run copies its
   * unit folder into a workspace of its own.
   *
   * With `base` (a commit whose snapshot the caller keeps from garbage
   * collection meanwhile, such as the last reconciled one), a new commit that
   * changes a few paths is made from the base's snapshot: its files are
   * hard-linked (snapshots are never written to) and only the changed paths
   * are extracted, instead of the whole tree. The result is the same tree;
   * anything unusual (a submodule, many changes, a failure) extracts the
   * whole commit.
   */
  snapshot(revision: string, options: { base?: string | null } = {}): Promise<string> {
    if (!SHA.test(revision)) return Promise.reject(badRevision(revision));
    let pending = this.snapshotting.get(revision);
    if (!pending) {
      pending = this.extract(revision, options.base ?? undefined).finally(() => this.snapshotting.delete(revision));
      this.snapshotting.set(revision, pending);
    }
    return pending;
  }

  private async extract(revision: string, base: string | undefined): Promise<string> {
    const target = join(this.options.snapshotsDir, revision);
    if (existsSync(target)) return target;
    // Another member may have reconciled a commit this mirror has not fetched yet.
    if (revision !== this.fetchedHead) await this.ensureCommit(revision);
    await mkdir(this.options.snapshotsDir, { recursive: true, mode: 0o700 });
    const tmp = `${target}.partial-${process.pid}-${Date.now()}`;
    try {
      if (base && base !== revision && SHA.test(base) && (this.spare?.base === base || existsSync(join(this.options.snapshotsDir, base)))) {
        const made = await this.extractChanges(base, revision, tmp).catch((error: unknown) => {
          this.options.log.debug({ revision, base, err: error }, 'snapshot from the previous one failed: extracting the whole commit');
          return false;
        });
        if (made) {
          await rename(tmp, target);
          return target;
        }
        await rm(tmp, { recursive: true, force: true });
      }
      await mkdir(tmp, { recursive: true });
      await this.extractPaths(revision, tmp, []);
      await rename(tmp, target);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    return target;
  }

  /**
   * `tmp` becomes the tree of `revision`, made from the snapshot of `base`:
   * a hard-linked copy, then every changed path removed (a removed file's
   * folders with it once empty, as an extraction would not make them) and
   * the new and changed files extracted (new inodes: the base's files are
   * never written). False when the change is not one to make this way.
   */
  private async extractChanges(base: string, revision: string, tmp: string): Promise<boolean> {
    const changes = await this.changes(base, revision);
    // Submodules are empty folders in an archive; a large change costs as much either way.
    if (changes.length > MAX_INCREMENTAL_CHANGES || changes.some((c) => c.oldMode === GITLINK || c.newMode === GITLINK)) return false;
    // A crafted tree (a fetch does not check them) must not make a removal here reach outside the copy: the whole extraction takes it, and git archive refuses such names (E_GIT_UNSAFE_TREE).
    if (changes.some((c) => !isPlainRelativePath(c.path))) return false;
    if (!(await this.takeSpare(base, tmp))) await this.linkCopy(base, tmp);
    for (const change of changes) {
      await rm(join(tmp, change.path), { recursive: true, force: true });
      if (change.newMode !== ABSENT_MODE) continue;
      for (let folder = posix.dirname(change.path); folder !== '.'; folder = posix.dirname(folder)) {
        if ((await readdir(join(tmp, folder)).catch(() => [''])).length > 0) break;
        await rmdir(join(tmp, folder));
      }
    }
    const added = changes.filter((c) => c.newMode !== ABSENT_MODE).map((c) => c.path);
    if (added.length > 0) await this.extractPaths(revision, tmp, added);
    return true;
  }

  /** `dir` becomes a hard-linked copy of the snapshot of `base` (which never changes: its files are shared, never written). */
  private async linkCopy(base: string, dir: string): Promise<void> {
    // Links as links (-P), hard links for files (-l), and nothing else preserved: a third cheaper than -a.
    await run('cp', ['-R', '-l', '-P', '--', join(this.options.snapshotsDir, base), dir], { log: this.options.log, timeoutMs: 5 * 60 * 1000 });
  }

  /**
   * Make the spare copy of `base`'s snapshot ahead of the next commit (when
   * the daemon is quiet: the copy of a large tree is most of what a new
   * commit's snapshot costs). A spare of another base is dropped. Its name
   * holds this process's id, as an extraction under way does: garbage
   * collection keeps it while this process lives, and removes it after a
   * crash. False when there is nothing to copy or the copy failed.
   */
  prepareSpare(base: string): Promise<boolean> {
    if (!SHA.test(base)) return Promise.reject(badRevision(base));
    if (this.spare?.base === base) return this.spare.ready;
    const dropped = this.spare;
    this.spare = undefined;
    if (!existsSync(join(this.options.snapshotsDir, base))) return (dropped ? this.dropSpare(dropped) : Promise.resolve()).then(() => false);
    spareCount += 1;
    const dir = join(this.options.snapshotsDir, `${base}.partial-${process.pid}-spare-${spareCount}`);
    const ready = (async () => {
      if (dropped) await this.dropSpare(dropped).catch(() => undefined);
      try {
        await this.linkCopy(base, dir);
        return true;
      } catch (error) {
        this.options.log.debug({ base, err: error }, 'spare snapshot copy failed');
        await rm(dir, { recursive: true, force: true });
        return false;
      }
    })();
    const spare = { base, dir, ready };
    this.spare = spare;
    return ready;
  }

  /** The commit whose snapshot the spare copy is being made from: garbage collection keeps it meanwhile. */
  spareBase(): string | undefined {
    return this.spare?.base;
  }

  /** Move the spare copy of `base` to `dir` (true), or false when there is none. */
  private async takeSpare(base: string, dir: string): Promise<boolean> {
    const spare = this.spare;
    if (spare?.base !== base) return false;
    this.spare = undefined;
    if (!(await spare.ready)) return false;
    try {
      await rename(spare.dir, dir);
      return true;
    } catch (error) {
      this.options.log.debug({ base, err: error }, 'spare snapshot copy could not be taken');
      await rm(spare.dir, { recursive: true, force: true });
      return false;
    }
  }

  private async dropSpare(spare: { dir: string; ready: Promise<boolean> }): Promise<void> {
    await spare.ready.catch(() => false);
    await rm(spare.dir, { recursive: true, force: true });
  }

  /**
   * `git archive` of `paths` (all when empty) at `revision`, extracted into
   * `dir`. The few files of a change are written from here (see tar.ts: one
   * process fewer per commit); a whole commit, or a large change, by tar.
   */
  private async extractPaths(revision: string, dir: string, paths: readonly string[]): Promise<void> {
    const tarball = `${dir}.tar`;
    try {
      // Paths reach git as literal paths, never as patterns.
      await this.runGit(['--literal-pathspecs', 'archive', '--format=tar', '-o', tarball, revision, ...(paths.length > 0 ? ['--', ...paths] : [])]);
      if (paths.length > 0 && (await stat(tarball)).size <= MAX_IN_PROCESS_TAR_BYTES) {
        await writeEntries(dir, parseTar(await readFile(tarball)), new Set(paths));
        return;
      }
      // Modes from the daemon's umask (private), not from the archive: tar as root would keep 0644.
      await run('tar', ['-xf', tarball, '-C', dir, '--no-same-owner', '--no-same-permissions'], { log: this.options.log, timeoutMs: 5 * 60 * 1000 });
    } finally {
      await rm(tarball, { force: true });
    }
  }

  /**
   * Commands that print nothing (a quiet fetch, an archive into a file) run
   * through the exec wrapper: simple-git waits 50 ms more after a silent
   * process exits, which was most of the cost of an idle poll. Same mirror,
   * same filtered environment.
   */
  private async runGit(args: string[]): Promise<void> {
    await run('git', args, {
      cwd: this.options.mirrorDir,
      env: gitEnvironment(this.options.url),
      extendEnv: false,
      timeoutMs: this.options.timeoutMs ?? 5 * 60 * 1000,
      log: this.options.log,
      // `git archive` refuses a tree entry git itself never writes (a crafted commit; a fetch does not check trees).
      classify: (result) =>
        /^error: invalid path '/m.test(result.stderr)
          ? { code: 'E_GIT_UNSAFE_TREE', retry: 'stalled', hint: 'the commit was not made by git: push a commit whose tree holds no such path' }
          : undefined,
    });
  }

  /** A git command whose output is read, in the mirror, with the filtered environment; a failure is transient. */
  private gitOutput(args: string[], options: { env?: Record<string, string>; input?: string; okExitCodes?: number[]; timeoutMs: number }): Promise<ExecResult> {
    return run('git', args, {
      cwd: this.options.mirrorDir,
      env: { ...gitEnvironment(this.options.url), ...options.env },
      extendEnv: false,
      input: options.input,
      timeoutMs: options.timeoutMs,
      okExitCodes: options.okExitCodes,
      log: this.options.log,
      classify: () => ({ code: 'E_GIT', retry: 'transient', hint: MIRROR_HINT }),
    });
  }

  private async ensureMirror(): Promise<void> {
    if (existsSync(join(this.options.mirrorDir, 'HEAD'))) return;
    await (await this.git()).raw(['init', '--bare', '--quiet']);
  }

  /** Read a ref from the mirror's files: a loose ref first, then packed-refs. */
  private async readRef(ref: string): Promise<string | undefined> {
    const loose = await readFile(join(this.options.mirrorDir, ref), 'utf8').catch(() => undefined);
    if (loose && SHA.test(loose.trim())) return loose.trim();
    const packed = await readFile(join(this.options.mirrorDir, 'packed-refs'), 'utf8').catch(() => '');
    for (const line of packed.split('\n')) {
      const [sha, name] = line.split(' ');
      if (name === ref && sha && SHA.test(sha)) return sha;
    }
    return undefined;
  }
}

/** Commit ids reach git as arguments: nothing else may (an option, a range). */
function requireSha(revision: string): void {
  if (!SHA.test(revision)) throw badRevision(revision);
}

function badRevision(revision: string): PlumblineError {
  return new PlumblineError('E_BAD_REVISION', `not a commit id: ${revision}`, { hint: 'this is a bug in Plumbline: please report it' });
}

/** Credentials in an https URL must never reach a log or an API answer. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) {
      secrets.add(decodeURIComponent(parsed.password));
      parsed.password = '***';
    }
    // Over http(s) the user part is a credential too (`https://<token>@host/...`);
    // over ssh it is an account name such as `git`.
    if (parsed.username && /^https?:$/.test(parsed.protocol)) {
      secrets.add(decodeURIComponent(parsed.username));
      parsed.username = '***';
    }
    return parsed.toString();
  } catch {
    return url;
  }
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return secrets.maskText(text.trim().split('\n').filter(Boolean).slice(-3).join(' '));
}
