import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearerToken, checkTokenName, checkUnitGlobs, generateToken, hashToken, sameToken, tokenState } from './tokens.ts';

test('a token is 32 random bytes behind a prefix; its hash is a sha-256 in hex', () => {
  const a = generateToken();
  const b = generateToken();
  assert.match(a, /^plb_[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, b);
  assert.match(hashToken(a), /^[0-9a-f]{64}$/);
  assert.equal(hashToken(a), hashToken(a));
  assert.ok(sameToken(a, a));
  assert.ok(!sameToken(a, b));
  assert.ok(!sameToken(a, `${a}x`));
});

test('the bearer token of an Authorization header', () => {
  assert.equal(bearerToken('Bearer abc'), 'abc');
  assert.equal(bearerToken('bearer   abc  '), 'abc');
  assert.equal(bearerToken('Basic abc'), undefined);
  assert.equal(bearerToken('Bearer a b'), undefined);
  assert.equal(bearerToken(undefined), undefined);
});

test('names and unit globs are checked', () => {
  for (const name of ['ci', 'alice@example.com', 'deploy-bot.prod', 'a+b_c']) assert.equal(checkTokenName(name), undefined, name);
  for (const name of ['', '-x', 'has space', 'a/b', 'x'.repeat(65)]) assert.match(checkTokenName(name) ?? '', /token names are/, name);
  assert.match(checkTokenName('bootstrap') ?? '', /api.tokenFile/);
  assert.equal(checkUnitGlobs(['prod/*', 'web', '**']), undefined);
  assert.match(checkUnitGlobs(['!prod/*']) ?? '', /negation/);
  assert.match(checkUnitGlobs(['']) ?? '', /without spaces/);
  assert.match(checkUnitGlobs(['a b']) ?? '', /without spaces/);
});

test('a token is active until it expires or is revoked', () => {
  const now = new Date('2026-01-01T00:00:00.000Z');
  assert.equal(tokenState({ expiresAt: null }, now), 'active');
  assert.equal(tokenState({ expiresAt: '2026-01-01T00:00:01.000Z' }, now), 'active');
  assert.equal(tokenState({ expiresAt: '2026-01-01T00:00:00.000Z' }, now), 'expired');
  assert.equal(tokenState({ expiresAt: null, revokedAt: '2025-12-31T00:00:00.000Z' }, now), 'revoked');
});
