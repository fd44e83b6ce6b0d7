import { z } from 'zod';
import { type ManifestPart, type ProblemCollector, type RawMapping, resolveInUnit, type UnitFolder } from '../../engine/provider-kit.ts';
import { STACK_MANIFEST } from '../terraform/manifest.ts';

/** A CDKTF stack's fields in its `stack.yaml` (`kind: cdktf`). */
export interface CdktfSpec {
  /** Repository-relative path of the TypeScript entry (relative to the stack folder in the manifest). */
  entry: string;
  /** Which stack of the app to use when it synthesizes several; null when it has one. */
  stackName: string | null;
}

const ENTRY_EXTENSIONS = ['.ts', '.mts', '.tsx', '.js', '.mjs'];

const text = z.string().min(1);

const fields = {
  entry: text.optional(),
  stackName: text.optional(),
};

export const cdktfManifest: ManifestPart<CdktfSpec> = {
  file: STACK_MANIFEST,
  fields,
  async read({ raw, parsed, folder, report }) {
    const entry = await checkEntry(raw, folder, report);
    if (entry === null) return undefined;
    return { entry, stackName: (parsed?.stackName as string | undefined) ?? null };
  },
};

/** Returns the repository-relative entry when it is valid. */
async function checkEntry(raw: RawMapping, unit: UnitFolder, report: ProblemCollector): Promise<string | null> {
  const entry = raw.entry;
  if (entry === undefined) {
    report.at(
      ['entry'],
      `required when kind is cdktf: the app's entry file (${ENTRY_EXTENSIONS.join(', ')}), relative to the stack folder`,
      ['kind'],
    );
    return null;
  }
  if (typeof entry !== 'string' || entry === '') return null;
  if (!ENTRY_EXTENSIONS.some((ext) => entry.endsWith(ext))) {
    report.at(['entry'], `must be a ${ENTRY_EXTENSIONS.join(', ')} file (got ${JSON.stringify(entry)})`);
    return null;
  }
  const resolved = await resolveInUnit(unit, entry, { mustExist: true });
  if (!resolved.ok) {
    report.at(['entry'], resolved.message);
    return null;
  }
  if (!resolved.isFile) {
    report.at(['entry'], `${JSON.stringify(entry)} is not a file`);
    return null;
  }
  return resolved.path;
}
