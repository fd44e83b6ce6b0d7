import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A tool's stdout and stderr as files it writes directly (their descriptors
 * are inherited, nothing passes through the daemon), in a private folder
 * removed once read. The files may hold what the tool printed of a run, so
 * the folder is the daemon user's alone.
 */
export class OutputFiles {
  private constructor(
    private readonly dir: string,
    readonly stdout: number,
    readonly stderr: number,
  ) {}

  static async open(tool: string): Promise<OutputFiles> {
    const dir = await mkdtemp(join(tmpdir(), `plumbline-${tool}-`));
    const stdout = openSync(join(dir, 'stdout'), 'w', 0o600);
    const stderr = openSync(join(dir, 'stderr'), 'w', 0o600);
    return new OutputFiles(dir, stdout, stderr);
  }

  /** The daemon's copies of the descriptors; the tool keeps its own. */
  closeOurs(): void {
    for (const fd of [this.stdout, this.stderr]) {
      try {
        closeSync(fd);
      } catch {
        // Closed already (closeOurs runs once per outcome path).
      }
    }
  }

  async readAndRemove(): Promise<{ stdout: string; stderr: string }> {
    try {
      const [stdout, stderr] = await Promise.all([readFile(join(this.dir, 'stdout'), 'utf8'), readFile(join(this.dir, 'stderr'), 'utf8')]);
      return { stdout, stderr };
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }
}
