import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { registeredErrorCodes } from './error-codes.ts';
import { builtinProviders } from './providers.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Plumbline's own source files (no tests, fixtures or code tables), repository-relative, with their text. */
function sources(): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'fixtures' && entry.name !== 'node_modules') walk(path);
      } else if (/\.(ts|mjs|cjs)$/.test(entry.name) && !entry.name.endsWith('.test.ts') && entry.name !== 'error-codes.ts') {
        found.set(relative(root, path), readFileSync(path, 'utf8'));
      }
    }
  };
  for (const top of ['bin', 'engine', 'providers', 'scripts']) walk(join(root, top));
  return found;
}

const registered = registeredErrorCodes(builtinProviders);
const files = sources();
const literal = /'(E_[A-Z0-9_]+)'/g;

test('every registered error code is raised somewhere in the sources (no table keeps a code nothing uses)', () => {
  const texts = [...files.values()];
  const unused = registered.filter((r) => !texts.some((text) => text.includes(`'${r.code}'`)));
  assert.deepEqual(unused.map((r) => `${r.code} (${r.owner})`), []);
});

test('every error code literal in the sources is registered, by one owner', () => {
  const owners = new Map<string, string[]>();
  for (const r of registered) owners.set(r.code, [...(owners.get(r.code) ?? []), r.owner]);
  assert.deepEqual([...owners].filter(([, list]) => list.length > 1), [], 'a code is declared by one owner: the engine, when it acts on it');
  const unknown = [...files].flatMap(([file, text]) => [...text.matchAll(literal)].map((m) => m[1]!).filter((code) => !owners.has(code)).map((code) => `${file}: ${code}`));
  assert.deepEqual(unknown, []);
});

test("the engine never names a provider's error codes", () => {
  const providerCodes = new Set(registered.filter((r) => r.owner !== 'engine').map((r) => r.code));
  const named = [...files]
    .filter(([file]) => !file.startsWith('providers/'))
    .flatMap(([file, text]) => [...text.matchAll(literal)].map((m) => m[1]!).filter((code) => providerCodes.has(code)).map((code) => `${file}: ${code}`));
  assert.deepEqual(named, []);
});

test('each code says what to do in one sentence', () => {
  for (const r of registered) {
    assert.match(r.code, /^E_[A-Z0-9_]+$/);
    assert.ok(r.meaning.length > 20 && !r.meaning.includes('\n') && !r.meaning.endsWith('.'), `${r.code}: ${r.meaning}`);
  }
});
