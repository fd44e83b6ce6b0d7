import { realpath } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { repoRelativeText, type UnitDefinition } from '../../engine/provider-kit.ts';

/**
 * Paths in what a synthesis prints, as the repository names them. The workdir
 * is `<tree>/<unit.path>`, the rest of the repository is the read-only snapshot
 * `repoDir`, and Node reports files under their real paths: each of these
 * roots stands for the repository root. Plumbline's own installation and state
 * folder get neutral names.
 */
export interface PathMapper {
  /** Repository-relative form of an absolute path or file URL, or null if it is not in the repository. */
  toRepository(path: string): string | null;
  /** Replace every absolute path Plumbline knows with its repository-relative (or neutral) form. */
  scrub(text: string): string;
}

export interface PathMapperOptions {
  unit: UnitDefinition;
  workdir: string;
  repoDir: string;
  installRoot: string;
  stateDir: string;
}

export async function pathMapper(options: PathMapperOptions): Promise<PathMapper> {
  const { unit, workdir, repoDir } = options;
  const tree = workdir.endsWith(`/${unit.path}`) ? workdir.slice(0, -(unit.path.length + 1)) : null;
  const candidates = [tree, repoDir].filter((root): root is string => root !== null);
  const roots = [...new Set([...candidates, ...(await Promise.all(candidates.map((root) => realpath(root).catch(() => root))))])].sort(
    (a, b) => b.length - a.length,
  );
  const neutral: Array<[string, string]> = [
    [options.installRoot, '<plumbline>'],
    [options.stateDir, '<state>'],
  ];

  const toRepository = (input: string): string | null => {
    const path = input.startsWith('file://') ? safeFileUrl(input) : input;
    if (path === null) return null;
    for (const root of roots) {
      if (path === root) return '.';
      if (path.startsWith(`${root}/`)) return path.slice(root.length + 1);
    }
    return null;
  };

  const scrub = (text: string): string => {
    let out = text;
    for (const root of [...roots, ...neutral.map(([from]) => from)]) out = out.split(`file://${root}`).join(root);
    out = repoRelativeText(out, roots);
    // Longest first: the state folder may hold the installation, or the other way round.
    for (const [from, to] of neutral.filter(([from]) => from.length > 1).sort((a, b) => b[0].length - a[0].length)) out = out.split(from).join(to);
    return out;
  };
  return { toRepository, scrub };
}

function safeFileUrl(url: string): string | null {
  try {
    return fileURLToPath(url);
  } catch {
    return null;
  }
}
