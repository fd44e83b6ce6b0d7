import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import type { Problem } from '../errors.ts';
import { type Locate, parseYamlDocument } from '../yaml/parse.ts';
import { describeValue, ProblemCollector, sortProblems } from '../yaml/problems.ts';
import type { ManifestFile, ProviderModule } from '../provider.ts';
import { builtinProviders } from '../providers.ts';
import { discoverManifests, type ManifestLocation } from './discover.ts';
import { checkGraph, type DependencyNode } from './graph.ts';
import { isMapping, type RawMapping, type SchedulingFields } from './manifest-fields.ts';
import { type Manifest, manifestFiles, manifestsOf, readManifest } from './manifests.ts';
import { covers } from './reads.ts';
import { findReferences, REFERENCE_KEY } from './references.ts';
import type { DefinitionDefaults, UnitDefinition } from './types.ts';
import { isInside, repoPathOf, type UnitFolder } from './unit-paths.ts';
import { mapLimit } from '../concurrency.ts';

/** Manifests read at once (a repository of a thousand units). */
const FILE_CONCURRENCY = 32;
/** A manifest larger than this is refused before it is read (`limits.manifestBytes`). */
export const DEFAULT_MANIFEST_BYTES = 1024 * 1024;

/** Segments of lowercase letters, digits, `-` and `_`, joined by `/` (`prod/vpc`): a unit's folder below stacks/ or inventories/. */
export const UNIT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}(\/[a-z0-9][a-z0-9_-]{0,62}){0,7}$/;
const UNIT_NAME_RULE = 'lowercase letters, digits, "-" and "_", segments joined by "/", each at most 63 characters';

/** What one manifest yielded: always a graph node, a definition only when valid. */
interface LoadedManifest {
  location: ManifestLocation;
  /** The manifest's `name:`, or the folder's. */
  name: string;
  report: ProblemCollector;
  dependsOn: string[];
  /** The document as written, once it parsed as a mapping. */
  raw: RawMapping | null;
  definition: UnitDefinition | null;
  /** The manifest's text, once read. */
  text?: string;
  /** Repository paths its reading depended on (see `reused`). */
  paths?: string[];
}

/**
 * What one load keeps for the next: each manifest read without a problem of
 * its own, by its file, with the repository paths its reading depended on
 * (its folder, the real paths of the folder and the file, and every path its
 * fields named, as resolved: `playbook: ../../site.yml`).
 */
export interface DefinitionsCache {
  /** The defaults and limits it was read with: other settings read every manifest again. */
  settings: string;
  providers: readonly ProviderModule[];
  manifests: ReadonlyMap<string, CachedManifest>;
  /** Where the manifests were found, repository-relative. */
  discovered: Discovered;
}

type Discovered = Awaited<ReturnType<typeof discoverManifests>>;

interface CachedManifest {
  name: string;
  dependsOn: string[];
  raw: RawMapping;
  definition: UnitDefinition;
  text: string;
  paths: string[];
}

/**
 * An incremental load: the previous load's cache, and the repository paths
 * that differ between the tree it read and this one (`git diff` of the two
 * commits). The caller reads everything again when a symlink changed: a
 * link's target moves what every path through it means.
 */
export interface Reuse {
  previous: DefinitionsCache;
  changed: readonly string[];
  /** Of them, those present in both trees (their content or mode changed): they add or remove nothing. */
  modified?: ReadonlySet<string>;
}

/**
 * Reads every unit definition under `rootDir` (a checkout of the watched
 * repository) and reports every problem found, positioned in its file.
 *
 * `units` holds each definition none of whose problems is in its own file.
 * A cycle is reported once, on one of its units, so the others stay in
 * `units` with a dependency that is missing: treat them as blocked.
 * `providers` say which manifests exist and read their own fields.
 */
export async function loadDefinitions(
  rootDir: string,
  defaults: DefinitionDefaults,
  limits: { manifestBytes: number } = { manifestBytes: DEFAULT_MANIFEST_BYTES },
  providers: readonly ProviderModule[] = builtinProviders,
  reuse?: Reuse,
): Promise<{ units: UnitDefinition[]; problems: Problem[]; folders: string[]; cache: DefinitionsCache; reread: number }> {
  const root = await realpath(resolve(rootDir));
  const manifests = manifestsOf(providers);
  const settings = JSON.stringify({ defaults, limits });
  const previous = reuse && reuse.previous.settings === settings && reuse.previous.providers === providers ? reuse : undefined;
  const discovered =
    previous && !movesManifests(previous, manifestFiles(providers)) ? relocated(previous.previous.discovered, root) : await discoverManifests(root, manifestFiles(providers));
  const problems = [...discovered.problems];
  const loaded: LoadedManifest[] = [];
  const manifestOf = (location: ManifestLocation) => manifests.find((m) => m.file === location.manifest)!;
  const cached = new Map<string, CachedManifest>();
  let reread = 0;
  loaded.push(
    ...(await mapLimit(discovered.found, FILE_CONCURRENCY, async (location) => {
      const again = previous && reused(location, previous);
      if (again) {
        cached.set(location.file, again.entry);
        return again.loaded;
      }
      reread += 1;
      const manifest = await loadManifest(root, location, manifestOf(location), defaults, limits.manifestBytes);
      // Problems of its own are read again each time (their messages may name this tree's folder).
      if (manifest.definition && manifest.raw && manifest.report.count === 0 && manifest.text !== undefined && manifest.paths) {
        const { name, dependsOn, raw, definition, text, paths } = manifest;
        cached.set(location.file, { name, dependsOn, raw, definition, text, paths });
      }
      return manifest;
    })),
  );

  reportDuplicateNames(loaded);
  const nodes = graphNodes(loaded, discovered.misnamed);
  const byName = new Map<string, LoadedManifest>();
  for (const m of loaded) if (!byName.has(m.name)) byName.set(m.name, m);
  for (const finding of checkGraph(nodes)) {
    const owner = byName.get(finding.unit);
    if (!owner) continue;
    owner.report.problems.push({ file: owner.report.file, ...owner.report.locate(['dependsOn', finding.index]), message: finding.message });
  }

  for (const manifest of loaded) checkReferences(manifest);

  const units: UnitDefinition[] = [];
  for (const manifest of loaded) {
    problems.push(...manifest.report.problems.map((p) => ({ ...p, unit: manifest.name })));
    if (manifest.definition && manifest.report.count === 0) units.push(manifest.definition);
  }
  units.sort((a, b) => a.name.localeCompare(b.name));
  return {
    units,
    problems: sortProblems(problems),
    // Every folder with a manifest, valid or not: runs' workspaces leave them out (engine/workspace.ts).
    folders: discovered.found.map((location) => location.path),
    cache: { settings, providers, manifests: cached, discovered },
    reread,
  };
}

/**
 * Whether changed paths may move where manifests are found. Folders are
 * units by the manifest they hold, so only a path added or removed through a
 * manifest's name (or its misnamed `.yml` twin) can add or remove one: a
 * folder comes and goes with its files, the manifest among them, and a file
 * changed in place adds or removes no name. (A changed symlink, which could
 * lead the search elsewhere, makes the caller read everything.)
 */
function movesManifests(reuse: Reuse, files: readonly ManifestFile[]): boolean {
  const names = new Set(files.flatMap((f) => [f.fileName, f.fileName.replace(/\.yaml$/, '.yml')]));
  return reuse.changed.some((path) => !reuse.modified?.has(path) && path.split('/').some((segment) => names.has(segment)));
}

/** A previous discovery, in the tree at `root`. */
function relocated(discovered: Discovered, root: string): Discovered {
  const move = (location: ManifestLocation): ManifestLocation => ({ ...location, dir: join(root, location.path) });
  return { found: discovered.found.map(move), misnamed: discovered.misnamed.map(move), problems: discovered.problems };
}

/**
 * The previous reading of a manifest, when nothing it depended on changed:
 * no changed path is one of its paths, below one, or above one (a folder
 * replaced by a file). Checks across manifests (names, the graph,
 * `fromOutput` references) run again on every load.
 */
function reused(location: ManifestLocation, reuse: Reuse): { loaded: LoadedManifest; entry: CachedManifest } | undefined {
  const entry = reuse.previous.manifests.get(location.file);
  if (!entry || entry.definition.path !== location.path) return undefined;
  if (entry.paths.some((path) => reuse.changed.some((changed) => covers(path, changed) || covers(changed, path)))) return undefined;
  // Positions are looked up only for a problem found across manifests: the text is parsed again then.
  let locate: Locate | undefined;
  const report = new ProblemCollector(location.file, (path) => (locate ??= parseYamlDocument(entry.text, location.file).locate)(path));
  const loaded = { location, name: entry.name, report, dependsOn: entry.dependsOn, raw: entry.raw, definition: { ...entry.definition }, text: entry.text, paths: entry.paths };
  return { loaded, entry };
}

/**
 * Every `fromOutput` must be well formed and name a unit listed in `dependsOn`,
 * wherever the manifest holds it: in `vars` or in a provider's field
 * (`hostsFrom`). Only values can hold one: the schema refuses a mapping in
 * the engine's other fields.
 */
function checkReferences(manifest: LoadedManifest): void {
  if (!manifest.definition || !manifest.raw) return;
  const found = findReferences(manifest.raw);
  for (const { at, raw, reference } of found) {
    const where = manifest.report.locate([...at, REFERENCE_KEY]);
    const field = formatFieldPath(at);
    if (!reference) {
      manifest.report.problems.push({
        file: manifest.report.file,
        ...where,
        message: `${field}.${REFERENCE_KEY}: must be "<unit>.<output>" with optional .key or [index] parts (got ${describeValue(raw)})`,
      });
    } else if (!manifest.dependsOn.includes(reference.unit)) {
      manifest.report.problems.push({
        file: manifest.report.file,
        ...where,
        message: `${field}.${REFERENCE_KEY}: "${reference.text}" uses an output of ${reference.unit}, which is not in dependsOn (add it, so ${reference.unit} is applied first)`,
      });
    }
  }
}

function formatFieldPath(path: Array<string | number>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

async function loadManifest(root: string, location: ManifestLocation, manifest: Manifest, defaults: DefinitionDefaults, maxBytes: number): Promise<LoadedManifest> {
  const report = new ProblemCollector(location.file);
  const result: LoadedManifest = { location, name: location.name, report, dependsOn: [], raw: null, definition: null };

  const unitReal = await realpath(location.dir);
  if (!isInside(root, unitReal)) {
    report.atStart(`${location.path} is a symlink that leads outside the repository; a unit folder must be a real folder`);
    return result;
  }
  const manifestPath = join(location.dir, basename(location.file));
  const manifestReal = await realpath(manifestPath).catch(() => manifestPath);
  if (!isInside(unitReal, manifestReal)) {
    report.atStart(`the manifest is a symlink that leads outside ${location.path}; it must be a real file`);
    return result;
  }
  let bytes: Buffer;
  try {
    // A committer must not make the daemon parse a huge document (an alias bomb fits in little, a large file does not).
    const size = (await stat(manifestPath)).size;
    if (size > maxBytes) {
      report.atStart(`the manifest is ${size} bytes, more than the limit of ${maxBytes} bytes (limits.manifestBytes in the daemon config); it was not read`);
      return result;
    }
    bytes = await readFile(manifestPath);
  } catch (error) {
    report.atStart(`cannot read the manifest: ${(error as Error).message}`);
    return result;
  }

  const text = bytes.toString('utf8');
  result.text = text;
  const parsed = parseYamlDocument(text, location.file);
  report.problems.push(...parsed.problems);
  report.locate = parsed.locate;
  if (parsed.problems.length > 0) return result;
  // An empty file is an empty mapping: report the missing required fields.
  const value = parsed.value ?? {};
  if (!isMapping(value)) {
    report.atStart(`a ${location.type} manifest must be a mapping of fields (got ${describeValue(value)})`);
    return result;
  }

  result.name = checkName(value, location, report);
  result.raw = value;
  const reached: string[] = [];
  const folder = { dir: location.dir, path: location.path, label: `${location.type} folder`, root, reached };
  const read = await readManifest(value, manifest, folder, report);
  result.paths = [location.path, relative(root, unitReal), relative(root, manifestReal), ...reached];
  result.dependsOn = rawDependsOn(value);
  if (!read || report.count > 0) return result;

  const watch = readWatch(value, folder, report);
  if (report.count > 0) return result;
  result.definition = {
    name: result.name,
    type: location.type,
    kind: read.kind,
    path: location.path,
    file: location.file,
    ...scheduling(read.scheduling, defaults),
    vars: read.vars,
    secretVars: read.secretVars,
    spec: read.spec,
    ...(watch.length > 0 ? { watch } : {}),
    manifestHash: createHash('sha256').update(bytes).digest('hex'),
  };
  return result;
}

function scheduling(fields: SchedulingFields, defaults: DefinitionDefaults): Pick<UnitDefinition, 'approval' | 'applyAfterMs' | 'dependsOn' | 'drift' | 'prune' | 'guard'> {
  const guard = { ...defaults.guard, ...definedOnly(fields.guard) };
  const intervalMs = fields.drift?.intervalMs !== undefined ? fields.drift.intervalMs : (defaults.drift?.intervalMs ?? null);
  return {
    approval: fields.approval ?? defaults.approval,
    applyAfterMs: fields.applyAfterMs === undefined ? defaults.applyAfterMs : fields.applyAfterMs,
    dependsOn: fields.dependsOn,
    drift: {
      intervalMs,
      action: fields.drift?.action ?? defaults.drift?.action ?? 'report',
      unknownTasks: fields.drift?.unknownTasks ?? defaults.drift?.unknownTasks ?? 'ignore',
    },
    ...((fields.prune ?? defaults.prune) ? { prune: true } : {}),
    ...(Object.keys(guard).length > 0 ? { guard } : {}),
  };
}

function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The unit's name: `name:` when the manifest sets one, else the folder's path
 * below stacks/ or inventories/ (`prod/vpc`). Either way it must be a valid name.
 */
function checkName(raw: RawMapping, location: ManifestLocation, report: ProblemCollector): string {
  const explicit = raw.name;
  if (typeof explicit === 'string' && explicit !== '') {
    if (!UNIT_NAME.test(explicit)) report.at(['name'], `invalid unit name ${JSON.stringify(explicit)} (use ${UNIT_NAME_RULE})`);
    return explicit;
  }
  if (!UNIT_NAME.test(location.name)) {
    report.atStart(
      `the folder ${location.path} gives the unit name ${JSON.stringify(location.name)}, which is not a valid name (use ${UNIT_NAME_RULE}); ` +
        'rename the folder or set name: in the manifest',
    );
  }
  return location.name;
}

/**
 * `watch:` globs, relative to the unit folder, may lead anywhere in the
 * repository (`../../shared/**`); returned repository-relative.
 */
function readWatch(raw: RawMapping, folder: UnitFolder, report: ProblemCollector): string[] {
  if (!Array.isArray(raw.watch)) return [];
  const globs: string[] = [];
  for (const [index, glob] of raw.watch.entries()) {
    if (typeof glob !== 'string' || glob === '') continue;
    const resolved = repoPathOf(folder, glob);
    if (resolved.ok) globs.push(resolved.path);
    else report.at(['watch', index], resolved.message);
  }
  return globs;
}

/** Dependencies as written, even when the file has other problems, so the graph is still checked. */
function rawDependsOn(raw: RawMapping): string[] {
  const deps = raw.dependsOn;
  return Array.isArray(deps) && deps.every((d) => typeof d === 'string') ? deps : [];
}

/** Names are unique across stacks and inventories, so `dependsOn` is never ambiguous. */
function reportDuplicateNames(loaded: LoadedManifest[]): void {
  const byName = new Map<string, LoadedManifest[]>();
  for (const m of loaded) byName.set(m.name, [...(byName.get(m.name) ?? []), m]);
  for (const [name, group] of byName) {
    if (group.length < 2) continue;
    for (const m of group) {
      const others = group.filter((o) => o !== m).map((o) => o.location.file).join(', ');
      m.report.atStart(`duplicate unit name "${name}": ${others} defines it too (names are unique across stacks and inventories)`);
    }
  }
}

/** One node per name: a misnamed manifest still counts as a known unit, with no dependencies. */
function graphNodes(loaded: LoadedManifest[], misnamed: ManifestLocation[]): DependencyNode[] {
  const nodes = new Map<string, DependencyNode>();
  for (const m of loaded) if (!nodes.has(m.name)) nodes.set(m.name, { name: m.name, dependsOn: m.dependsOn });
  for (const m of misnamed) if (!nodes.has(m.name)) nodes.set(m.name, { name: m.name, dependsOn: [] });
  return [...nodes.values()];
}
