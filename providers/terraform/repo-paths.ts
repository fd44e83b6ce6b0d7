import { isAbsolute, posix, relative, resolve, sep } from 'node:path';
import { repoRelativeText } from '../../engine/provider-kit.ts';

/**
 * Where terraform ran, so that every path it prints can be shown as the
 * repository has it. Terraform names files relative to the folder it runs in
 * (`main.tf`, `../../modules/vpc/main.tf`), and that folder is a copy of the
 * unit folder inside the run's workspace tree, whose other folders link into
 * the read-only snapshot.
 */
export interface PathContext {
  /** Repository-relative folder of the unit (`stacks/prod/vpc`). */
  unitPath: string;
  /** The unit folder in the run's workspace: what is below it is below `unitPath` in the repository. */
  workdir: string;
  /** Where terraform runs: the unit folder, or a folder inside it (CDKTF's synthesized stack). */
  configDir: string;
  /** The read-only repository the workspace links into. */
  repoDir?: string;
  /** Exact texts to replace first (the var file Plumbline wrote reads as the unit's manifest). */
  replacements?: ReadonlyArray<readonly [from: string, to: string]>;
}

/** The repository path of a file terraform named (relative to where it ran, or absolute). */
export function repoPath(file: string, context: PathContext | undefined): string {
  if (!context) return file;
  const absolute = resolve(context.configDir, file);
  // The var file Plumbline wrote (a value terraform refuses is placed in it) reads as the manifest.
  const replaced = context.replacements?.find(([from]) => from === absolute);
  if (replaced) return replaced[1];
  const inUnit = toPosix(relative(context.workdir, absolute));
  if (!isAbsolute(inUnit)) {
    const inRepository = posix.normalize(posix.join(context.unitPath, inUnit));
    if (!leaves(inRepository)) return inRepository;
  }
  if (context.repoDir) {
    const inSnapshot = toPosix(relative(context.repoDir, absolute));
    if (!isAbsolute(inSnapshot) && !leaves(inSnapshot)) return inSnapshot || '.';
  }
  return file;
}

/**
 * Text for people with the run's folders taken out: the var file named as the
 * manifest, quoted relative paths (`"../../modules/x/motd.txt"`, relative to
 * where terraform ran) and absolute paths into the workspace or the snapshot
 * rewritten as repository paths.
 */
export function repoText(text: string, context: PathContext | undefined): string {
  if (!context) return text;
  let result = text;
  for (const [from, to] of context.replacements ?? []) result = result.split(from).join(to);
  result = result.replace(QUOTED_RELATIVE_PATH, (whole, path: string) => {
    const mapped = repoPath(path, context);
    return mapped === path ? whole : `"${mapped}"`;
  });
  // The workdir is the unit folder whatever tree holds it; then the roots go.
  result = result.split(`${context.workdir}/`).join(`${context.unitPath}/`);
  result = result.split(context.workdir).join(context.unitPath);
  return repoRelativeText(result, [workspaceRoot(context), context.repoDir]);
}

const QUOTED_RELATIVE_PATH = /"(\.\.?\/[^"\n]*)"/g;

/** The workspace tree the unit folder sits in, when the workdir mirrors the repository layout. */
function workspaceRoot(context: PathContext): string | undefined {
  const suffix = `/${context.unitPath}`;
  return context.workdir.endsWith(suffix) ? context.workdir.slice(0, -suffix.length) : undefined;
}

function leaves(path: string): boolean {
  return path === '..' || path.startsWith('../');
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}
