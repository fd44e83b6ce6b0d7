import type { PreviewSettings } from '../config/types.ts';

/** Does `ref` match a ref glob as git's refspecs read it (`*` matches any run of characters, `/` included)? */
export function matchesRefGlob(glob: string, ref: string): boolean {
  const star = glob.indexOf('*');
  if (star < 0) return glob === ref;
  const prefix = glob.slice(0, star);
  const suffix = glob.slice(star + 1);
  return ref.length >= prefix.length + suffix.length + 1 && ref.startsWith(prefix) && ref.endsWith(suffix);
}

/**
 * The refs to preview among the heads the fetch brought: every ref the globs
 * match, without the excluded ones and never the watched branch itself.
 */
export function previewedRefs(heads: ReadonlyMap<string, string>, settings: Pick<PreviewSettings, 'refs' | 'exclude'>, branch: string): Map<string, string> {
  const watched = `refs/heads/${branch}`;
  const kept = new Map<string, string>();
  for (const [ref, head] of heads) {
    if (ref === watched) continue;
    if (!settings.refs.some((glob) => matchesRefGlob(glob, ref))) continue;
    if (settings.exclude.some((glob) => matchesRefGlob(glob, ref))) continue;
    kept.set(ref, head);
  }
  return kept;
}
