import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseDuration } from './duration.ts';
import { PlumblineError } from './errors.ts';

test('parses each unit and combinations from largest to smallest', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('2d'), 172_800_000);
  assert.equal(parseDuration('1d2h3m4s5ms'), 93_784_005);
  assert.equal(parseDuration('0s'), 0);
});

test('rejects anything else with an error that says how to write one', () => {
  for (const bad of ['', '10', '10 m', ' 10m', '10min', '1.5h', '-5s', 'm', '10m ', '1e3s', 'ten']) {
    assert.throws(
      () => parseDuration(bad),
      (e: unknown) => e instanceof PlumblineError && e.code === 'E_DURATION' && e.message.includes(JSON.stringify(bad)) && /unit/.test(e.message),
      bad,
    );
  }
});

test('rejects units out of order or repeated', () => {
  assert.throws(() => parseDuration('30m1h'), /largest to smallest/);
  assert.throws(() => parseDuration('1m1m'), /largest to smallest/);
});

test('rejects durations too large to count in milliseconds', () => {
  assert.throws(() => parseDuration('99999999999999999d'), /too large/);
});

test('formats the shortest spelling that parses back', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(500), '500ms');
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(5_400_000), '1h30m');
  assert.equal(formatDuration(172_800_000), '2d');
  for (const ms of [1, 999, 1000, 61_001, 86_400_001, 123_456_789]) assert.equal(parseDuration(formatDuration(ms)), ms);
});

test('formatting rounds fractions and refuses negative values', () => {
  assert.equal(formatDuration(1500.4), '1s500ms');
  assert.throws(() => formatDuration(-1), RangeError);
  assert.throws(() => formatDuration(Number.NaN), RangeError);
});
