import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const identity = {
  GIT_AUTHOR_NAME: 'Plumbline test',
  GIT_AUTHOR_EMAIL: 'test@plumbline.invalid',
  GIT_COMMITTER_NAME: 'Plumbline test',
  GIT_COMMITTER_EMAIL: 'test@plumbline.invalid',
};

/**
 * How a commit is signed: git's own `-c` settings and environment (see
 * testkit/signing.ts for the keys).
 */
export interface CommitSigner {
  config: Record<string, string>;
  env?: Record<string, string>;
}

/**
 * A real bare repository reached by file://, and a clone the test (or the
 * benchmark) commits from; in a fresh temporary folder unless `root` is given.
 */
export class TestRepo {
  readonly root: string;
  readonly bare: string;
  readonly work: string;

  constructor(root?: string) {
    if (root) mkdirSync(root, { recursive: true });
    this.root = root ?? mkdtempSync(join(tmpdir(), 'plumbline-repo-'));
    this.bare = join(this.root, 'infra.git');
    this.work = join(this.root, 'work');
    this.git(['init', '--quiet', '--bare', '--initial-branch=main', this.bare]);
    this.git(['init', '--quiet', '--initial-branch=main', this.work]);
    this.git(['-C', this.work, 'remote', 'add', 'origin', this.bare]);
  }

  get url(): string {
    return `file://${this.bare}`;
  }

  /** Write (string) or delete (null) files, commit (signed with `signer`) and push; returns the commit id. */
  commit(files: Record<string, string | null>, message = 'change', signer?: CommitSigner): string {
    for (const [path, content] of Object.entries(files)) {
      const full = join(this.work, path);
      if (content === null) rmSync(full, { recursive: true, force: true });
      else {
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, content);
      }
    }
    this.git(['-C', this.work, 'add', '--all']);
    const signing = signer ? [...Object.entries(signer.config).flatMap(([k, v]) => ['-c', `${k}=${v}`]), 'commit', '-S'] : ['commit'];
    this.git(['-C', this.work, ...signing, '--quiet', '--allow-empty', '-m', message], signer?.env);
    this.git(['-C', this.work, 'push', '--quiet', '--force', 'origin', 'HEAD:main']);
    return this.head();
  }

  /** Rewrite history: drop the last commit and push a different one in its place. */
  rewriteLast(files: Record<string, string | null>, message = 'rewritten'): string {
    this.git(['-C', this.work, 'reset', '--quiet', '--hard', 'HEAD~1']);
    return this.commit(files, message);
  }

  /** Move the branch back to `revision` (locally; the next commit force-pushes). */
  resetTo(revision: string): void {
    this.git(['-C', this.work, 'reset', '--quiet', '--hard', revision]);
  }

  head(): string {
    return this.git(['-C', this.work, 'rev-parse', 'HEAD']).trim();
  }

  /**
   * Commit `files` on `branch` (made from main when new) in a second clone,
   * and push it: a merge request's branch, while main stays where it is.
   */
  pushBranch(branch: string, files: Record<string, string | null>, message = `change on ${branch}`): string {
    const clone = this.branchClone();
    this.git(['-C', clone, 'fetch', '--quiet', '--prune', 'origin']);
    const exists = this.git(['-C', clone, 'ls-remote', '--heads', 'origin', branch]).trim() !== '';
    this.git(['-C', clone, 'checkout', '--quiet', '-B', branch, exists ? `origin/${branch}` : 'origin/main']);
    for (const [path, content] of Object.entries(files)) {
      const full = join(clone, path);
      if (content === null) rmSync(full, { recursive: true, force: true });
      else {
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, content);
      }
    }
    this.git(['-C', clone, 'add', '--all']);
    this.git(['-C', clone, 'commit', '--quiet', '--allow-empty', '-m', message]);
    this.git(['-C', clone, 'push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`]);
    return this.git(['-C', clone, 'rev-parse', 'HEAD']).trim();
  }

  /** Delete `branch` on the remote (a merged or closed merge request). */
  deleteBranch(branch: string): void {
    this.git(['-C', this.branchClone(), 'push', '--quiet', 'origin', '--delete', branch]);
  }

  private branchClone(): string {
    const clone = join(this.root, 'branches');
    if (!existsSync(join(clone, '.git'))) this.git(['clone', '--quiet', this.bare, clone]);
    return clone;
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  private git(args: string[], env: Record<string, string> = {}): string {
    // A commit of a thousand stacks prints more than the default 1 MiB.
    return execFileSync('git', args, { env: { ...process.env, ...identity, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  }
}
