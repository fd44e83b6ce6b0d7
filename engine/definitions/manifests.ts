import { z } from 'zod';
import type { ManifestFile, ManifestPart, ProviderModule } from '../provider.ts';
import { builtinProviders } from '../providers.ts';
import type { ProblemCollector } from '../yaml/problems.ts';
import { checkSecretVars, checkVarNames, type RawMapping, schedulingOf, type SchedulingFields } from './manifest-fields.ts';
import {
  approvalSchema,
  dependsOnSchema,
  driftSchema,
  durationSchema,
  guardSchema,
  pruneSchema,
  secretVarsSchema,
  unitNameSchema,
  varsSchema,
  watchSchema,
} from './schema.ts';
import type { SecretSource } from './types.ts';
import type { UnitFolder } from './unit-paths.ts';

/**
 * The manifests the providers read, each with the kinds written in it and its
 * whole schema: the fields every unit has, around the fields of its kinds.
 * Built from the providers' modules, so the loader knows no tool: a provider
 * added to the registry brings its manifest, its kind and its fields.
 */
export interface Manifest {
  file: ManifestFile;
  /** Its kinds, in the providers' order (`terraform`, `cdktf`). */
  parts: ReadonlyMap<string, ManifestPart>;
  /** `name, kind, <the kinds' fields>, vars[, secretVars], approval, applyAfter, dependsOn, drift, watch, prune, guard`. */
  schema: z.ZodType;
}

const built = new WeakMap<readonly ProviderModule[], Manifest[]>();

/** One entry per manifest file, in the order its first provider is listed. */
export function manifestsOf(modules: readonly ProviderModule[]): Manifest[] {
  let manifests = built.get(modules);
  if (!manifests) {
    manifests = buildManifests(modules);
    built.set(modules, manifests);
  }
  return manifests;
}

/** The manifest files units are written in (`stack.yaml` under `stacks/`...). */
export function manifestFiles(modules: readonly ProviderModule[] = builtinProviders): ManifestFile[] {
  return manifestsOf(modules).map((m) => m.file);
}

/**
 * The part that reads a manifest whose `kind:` is `kind`: that kind's, or
 * the manifest's default kind's when `kind` names none of its kinds (the
 * schema reports a wrong kind; the default kind's checks still run).
 */
function partFor(manifest: Manifest, kind: unknown): ManifestPart | undefined {
  const named = typeof kind === 'string' ? manifest.parts.get(kind) : undefined;
  return named ?? (manifest.file.defaultKind === undefined ? undefined : manifest.parts.get(manifest.file.defaultKind));
}

/** What a valid manifest holds: its kind, the engine's fields, and the provider's spec. */
export interface ReadManifest {
  kind: string;
  vars: Record<string, unknown>;
  secretVars: Record<string, SecretSource>;
  spec: unknown;
  scheduling: SchedulingFields;
}

/**
 * Checks a manifest document against its schema, its kind's own checks (the
 * provider's `read`), then the variables. Returns its fields only when this
 * file has no problem at all; every problem goes to `report`.
 */
export async function readManifest(raw: RawMapping, manifest: Manifest, folder: UnitFolder, report: ProblemCollector): Promise<ReadManifest | null> {
  const before = report.count;
  const parsed = manifest.schema.safeParse(raw, { reportInput: true });
  if (!parsed.success) report.zodIssues(parsed.error.issues, manifest.schema);
  const part = partFor(manifest, raw.kind);
  const m = parsed.success ? (parsed.data as ParsedCommon) : undefined;
  const spec = await part?.read({ raw, parsed: m, folder, report });
  checkVarNames(raw.vars, 'vars', manifest.file.variableNames, report);
  if (manifest.file.secretVars) checkSecretVars(raw, manifest.file.variableNames, report);

  if (!m || !part || spec === undefined || report.count > before) return null;
  const kind = (m.kind as string | undefined) ?? manifest.file.defaultKind!;
  return {
    kind,
    vars: m.vars ?? {},
    secretVars: Object.fromEntries(Object.entries(m.secretVars ?? {}).map(([name, s]) => [name, s.env !== undefined ? { env: s.env } : { file: s.file }])),
    spec,
    scheduling: schedulingOf(m),
  };
}

/** The engine's own fields of a manifest its schema accepted; the provider's fields are the rest. */
type ParsedCommon = RawMapping & Parameters<typeof schedulingOf>[0] & {
  vars?: Record<string, unknown> | null;
  secretVars?: Record<string, { env?: string | undefined; file?: string | undefined }> | null;
};

function buildManifests(modules: readonly ProviderModule[]): Manifest[] {
  const byFile = new Map<ManifestFile, Map<string, ManifestPart>>();
  const kinds = new Set<string>();
  for (const module of modules) {
    if (kinds.has(module.kind)) throw new Error(`two providers handle kind ${module.kind}`);
    kinds.add(module.kind);
    const parts = byFile.get(module.manifest.file) ?? new Map<string, ManifestPart>();
    parts.set(module.kind, module.manifest);
    byFile.set(module.manifest.file, parts);
  }
  const files = [...byFile.keys()];
  for (const [i, file] of files.entries()) {
    const clash = files.slice(0, i).find((f) => f.type === file.type || f.folder === file.folder || f.fileName === file.fileName);
    if (clash) throw new Error(`the manifests ${clash.folder}/${clash.fileName} and ${file.folder}/${file.fileName} are declared apart but share a type, folder or file name: kinds written in one manifest share its ManifestFile`);
  }
  return [...byFile].map(([file, parts]) => ({ file, parts, schema: schemaOf(file, parts) }));
}

/** The engine's fields of every manifest (secretVars where the manifest allows it). */
const COMMON_FIELDS = ['name', 'kind', 'vars', 'secretVars', 'approval', 'applyAfter', 'dependsOn', 'drift', 'watch', 'prune', 'guard'];

function schemaOf(file: ManifestFile, parts: ReadonlyMap<string, ManifestPart>): z.ZodType {
  const names = [...parts.keys()] as [string, ...string[]];
  if (file.defaultKind !== undefined && !parts.has(file.defaultKind)) {
    throw new Error(`${file.fileName}: the default kind ${file.defaultKind} is not one of its kinds (${names.join(', ')})`);
  }
  const kind = z.enum(names);
  const own: Record<string, z.ZodType> = {};
  for (const [name, part] of parts) {
    for (const [field, schema] of Object.entries(part.fields)) {
      if (COMMON_FIELDS.includes(field)) throw new Error(`${file.fileName}: ${name} declares ${field}, a field every manifest has`);
      if (own[field] !== undefined && own[field] !== schema) throw new Error(`${file.fileName}: two kinds declare the field ${field} differently (${name} is one)`);
      own[field] = schema;
    }
  }
  return z.strictObject({
    name: unitNameSchema,
    // A manifest with a default kind may leave `kind:` out; writing it down is harmless.
    kind: file.defaultKind === undefined ? kind : kind.optional(),
    ...own,
    vars: varsSchema,
    ...(file.secretVars ? { secretVars: secretVarsSchema } : {}),
    approval: approvalSchema.optional(),
    applyAfter: durationSchema.optional(),
    dependsOn: dependsOnSchema,
    drift: driftSchema,
    watch: watchSchema,
    prune: pruneSchema,
    guard: guardSchema,
  });
}
