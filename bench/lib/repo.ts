import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const identity = {
  GIT_AUTHOR_NAME: 'Plumbline bench',
  GIT_AUTHOR_EMAIL: 'bench@plumbline.invalid',
  GIT_COMMITTER_NAME: 'Plumbline bench',
  GIT_COMMITTER_EMAIL: 'bench@plumbline.invalid',
};

/** A bare repository reached by file://, and a working copy the benchmark commits from. */
export class BenchRepo {
  readonly bare: string;
  readonly work: string;

  constructor(readonly dir: string) {
    this.bare = join(dir, 'infra.git');
    this.work = join(dir, 'work');
    mkdirSync(dir, { recursive: true });
    this.git(['init', '--quiet', '--bare', '--initial-branch=main', this.bare]);
    this.git(['init', '--quiet', '--initial-branch=main', this.work]);
    this.git(['-C', this.work, 'remote', 'add', 'origin', this.bare]);
  }

  get url(): string {
    return `file://${this.bare}`;
  }

  /** Write (string) or delete (null) files, commit and push; returns the commit id. */
  commit(files: Record<string, string | null>, message = 'change'): string {
    for (const [path, content] of Object.entries(files)) {
      const full = join(this.work, path);
      if (content === null) rmSync(full, { recursive: true, force: true });
      else {
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, content);
      }
    }
    this.git(['-C', this.work, 'add', '--all']);
    this.git(['-C', this.work, 'commit', '--quiet', '--allow-empty', '-m', message]);
    this.git(['-C', this.work, 'push', '--quiet', 'origin', 'HEAD:main']);
    return this.git(['-C', this.work, 'rev-parse', 'HEAD']).trim();
  }

  private git(args: string[]): string {
    return execFileSync('git', args, { env: { ...process.env, ...identity }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  }
}
