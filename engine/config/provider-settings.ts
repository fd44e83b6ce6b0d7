import { z } from 'zod';
import type { ProviderModule, SettingsPart } from '../provider.ts';
import { leadingSections, section, trailingSections } from './schema.ts';
import type { DaemonConfig } from './types.ts';

/**
 * The providers' sections of plumbline.yaml (`terraform:`, `ansible:`): each
 * provider declares its key, fields and defaults (`SettingsPart`), the loader
 * checks them with the engine's own sections and keeps the result in
 * `DaemonConfig.providers`, and a provider reads its own with `settingsOf`.
 */

/** A provider's settings: as the config set them, or its defaults (a config built in code may say nothing). */
export function settingsOf<T>(config: Pick<DaemonConfig, 'providers'>, part: SettingsPart<T>): T {
  return (config.providers?.[part.key] as T | undefined) ?? part.defaults;
}

export interface ProviderSections {
  /** Each key once, in the providers' order. */
  parts: readonly SettingsPart[];
  /** The whole config's schema: the engine's sections, the providers' after `concurrency`. */
  schema: z.ZodType;
}

const built = new WeakMap<readonly ProviderModule[], ProviderSections>();

export function providerSections(modules: readonly ProviderModule[]): ProviderSections {
  let sections = built.get(modules);
  if (!sections) {
    const parts = settingsParts(modules);
    const providers = Object.fromEntries(parts.map((p) => [p.key, section(p.fields)]));
    sections = { parts, schema: z.strictObject({ ...leadingSections, ...providers, ...trailingSections }) };
    built.set(modules, sections);
  }
  return sections;
}

function settingsParts(modules: readonly ProviderModule[]): SettingsPart[] {
  const parts: SettingsPart[] = [];
  for (const module of modules) {
    const part = module.settings;
    if (!part || parts.includes(part)) continue;
    if (parts.some((p) => p.key === part.key) || part.key in leadingSections || part.key in trailingSections) {
      throw new Error(`two sections of plumbline.yaml are named ${part.key}`);
    }
    parts.push(part);
  }
  return parts;
}

/** Every provider's settings, defaults filled in, from the sections as the schema parsed them. */
export function normalizeSettings(parts: readonly SettingsPart[], parsed: Record<string, unknown>, base: string): Record<string, unknown> {
  return Object.fromEntries(parts.map((p) => [p.key, p.normalize((parsed[p.key] as Record<string, unknown> | null | undefined) ?? {}, base)]));
}
