import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MASK, SecretRegistry } from './secrets.ts';

const KEY = ['-----BEGIN OPENSSH PRIVATE KEY-----', 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW', 'QyNTUxOQAAACBmbHVmZnlmbHVmZnlmbHVmZnlmbHVmZnlmbHVmZnlmbHVmZnkAAAA=', '-----END OPENSSH PRIVATE KEY-----', ''].join('\n');

test('a multi-line secret is masked whole where it appears whole, and line by line elsewhere', () => {
  const registry = new SecretRegistry();
  registry.add(KEY);
  assert.equal(registry.maskText(`key: ${KEY}done`), `key: ${MASK}done`);
  const diff = ['--- before', '+++ after', '@@ -1,2 +1,2 @@', '-old line', `+${KEY.split('\n')[1]}`, `+  ${KEY.split('\n')[2]}`].join('\n');
  const masked = registry.maskText(diff);
  assert.ok(!masked.includes('b3BlbnNzaC1rZXktdjEA'), masked);
  assert.ok(!masked.includes('QyNTUxOQAAACBmbHVm'), masked);
  assert.match(masked, /^-old line$/m);
});

test('short lines of a multi-line secret are not masked on their own (they would mask ordinary text)', () => {
  const registry = new SecretRegistry();
  registry.add('user=app\nx: 1\npassword=correct-horse-battery\n');
  assert.equal(registry.maskText('x: 1 and user=app'), `x: 1 and ${MASK}`);
  assert.equal(registry.maskText('password=correct-horse-battery'), MASK);
});
