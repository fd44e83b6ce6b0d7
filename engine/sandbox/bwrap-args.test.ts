import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bwrapArgs, type BwrapRequest, type HostPath, type HostView } from './bwrap-args.ts';
import type { SandboxSpec } from './types.ts';

/** A merged-/usr host: /bin, /lib... are links into /usr; /etc holds the daemon's config too. */
const HOST: Record<string, HostPath> = {
  '/usr': { kind: 'dir', real: '/usr' },
  '/bin': { kind: 'dir', real: '/usr/bin', link: 'usr/bin' },
  '/lib': { kind: 'dir', real: '/usr/lib', link: 'usr/lib' },
  '/lib64': { kind: 'dir', real: '/usr/lib64', link: 'usr/lib64' },
  '/etc/passwd': { kind: 'file', real: '/etc/passwd' },
  '/etc/hosts': { kind: 'file', real: '/etc/hosts' },
  '/etc/resolv.conf': { kind: 'file', real: '/run/systemd/resolve/stub-resolv.conf', link: '../run/systemd/resolve/stub-resolv.conf' },
  '/etc/os-release': { kind: 'file', real: '/usr/lib/os-release', link: '../usr/lib/os-release' },
  '/etc/ssh/ssh_config': { kind: 'file', real: '/etc/ssh/ssh_config' },
  '/etc/plumbline': { kind: 'dir', real: '/etc/plumbline' },
  '/usr/local/bin/terraform': { kind: 'file', real: '/usr/local/bin/terraform' },
  '/opt/tools/tool': { kind: 'file', real: '/opt/tools/tool' },
  '/bin/sh': { kind: 'file', real: '/usr/bin/dash', link: 'dash' },
  '/state/runs/r1/tree': { kind: 'dir', real: '/state/runs/r1/tree' },
  '/state/runs/r1/tree/stacks/web': { kind: 'dir', real: '/state/runs/r1/tree/stacks/web' },
  '/state/runs/r1/artifacts': { kind: 'dir', real: '/state/runs/r1/artifacts' },
  '/state/snapshots/abc': { kind: 'dir', real: '/state/snapshots/abc' },
  '/state/units/web': { kind: 'dir', real: '/state/units/web' },
  '/app/node_modules': { kind: 'dir', real: '/shared/node_modules', link: '/shared/node_modules' },
  '/state/runs/r1/tree/stacks/web/node_modules': { kind: 'dir', real: '/shared/node_modules', link: '/shared/node_modules' },
};
const host: HostView = { inspect: (path) => HOST[path] ?? null };

function spec(over: Partial<SandboxSpec> = {}): SandboxSpec {
  return { mode: 'bwrap', readOnly: [], readWrite: [], ...over };
}

function build(over: Partial<BwrapRequest> = {}) {
  return bwrapArgs({ command: '/usr/local/bin/terraform', args: ['plan', '-out=x'], spec: spec(), accounts: ['root', 'plumbline'], home: '/home/plumbline', ...over }, host);
}

/** `--flag a b` triples (and pairs for one-operand flags), in order. */
function ops(args: readonly string[], flag: string, operands = 2): string[][] {
  const out: string[][] = [];
  for (let i = args.indexOf('--') === -1 ? args.length : args.indexOf('--'), j = 0; j < i; j += 1) {
    if (args[j] === flag) out.push(args.slice(j + 1, j + 1 + operands));
  }
  return out;
}

test('the tool runs last, after `--`, with its own arguments untouched', () => {
  const { args } = build({ cwd: '/state/runs/r1/tree/stacks/web' });
  assert.deepEqual(args.slice(args.indexOf('--')), ['--', '/usr/local/bin/terraform', 'plan', '-out=x']);
  assert.deepEqual(ops(args, '--chdir', 1), [['/state/runs/r1/tree/stacks/web']]);
});

test('a namespace of its own for processes, every capability dropped, a private /tmp, /proc and /dev', () => {
  const { args } = build();
  for (const flag of ['--unshare-pid', '--unshare-ipc', '--unshare-uts']) assert.ok(args.includes(flag), flag);
  assert.ok(!args.includes('--unshare-net'), 'the network stays');
  assert.ok(!args.includes('--die-with-parent'), 'an apply outlives a crash of the daemon, as unsandboxed');
  assert.deepEqual(ops(args, '--cap-drop', 1), [['ALL']]);
  assert.deepEqual(ops(args, '--cap-add', 1), []);
  assert.deepEqual(ops(args, '--tmpfs', 1), [['/tmp'], ['/home/plumbline']]);
  assert.deepEqual(ops(args, '--proc', 1), [['/proc']]);
  assert.deepEqual(ops(args, '--dev', 1), [['/dev']]);
});

test('system folders read-only, their links made again; of /etc only the files tools need', () => {
  const { args } = build();
  assert.deepEqual(ops(args, '--symlink').slice(0, 3), [['usr/bin', '/bin'], ['usr/lib', '/lib'], ['usr/lib64', '/lib64']]);
  const readOnly = ops(args, '--ro-bind').map(([source]) => source);
  assert.ok(readOnly.includes('/usr'));
  assert.ok(readOnly.includes('/etc/passwd'));
  assert.ok(readOnly.includes('/etc/ssh/ssh_config'));
  assert.ok(!readOnly.some((p) => p === '/etc' || p!.startsWith('/etc/plumbline')), 'never /etc as a whole, never the daemon\'s config');
  // A file of /etc that is a link: its target bound where it is, the link made again.
  assert.ok(readOnly.includes('/run/systemd/resolve/stub-resolv.conf'));
  assert.ok(ops(args, '--symlink').some(([t, p]) => t === '/run/systemd/resolve/stub-resolv.conf' && p === '/etc/resolv.conf'));
  // A target under /usr is there already.
  assert.ok(!readOnly.includes('/usr/lib/os-release'));
  assert.ok(ops(args, '--symlink').some(([t, p]) => t === '/usr/lib/os-release' && p === '/etc/os-release'));
  assert.ok(!readOnly.includes('/usr/local/bin/terraform'), 'a tool under /usr is there already');
});

test('/etc/shadow lists every account without a password', () => {
  const { args, inputs } = build();
  assert.deepEqual(ops(args, '--ro-bind-data'), [['3', '/etc/shadow']]);
  assert.equal(new TextDecoder().decode(inputs[0]), 'root:*:::::::\nplumbline:*:::::::\n');
});

test('the run\'s paths: the deeper decides, writable wins over read-only, missing ones are left out', () => {
  const { args } = build({
    spec: spec({
      readOnly: ['/state/runs/r1/tree', '/state/snapshots/abc', '/state/units/web', '/nowhere/key'],
      readWrite: ['/state/runs/r1/tree/stacks/web', '/state/runs/r1/artifacts', '/state/units/web'],
    }),
  });
  const binds = args.flatMap((arg, i) => (arg === '--bind' || arg === '--ro-bind' ? [`${arg === '--bind' ? 'rw' : 'ro'} ${args[i + 1]}`] : [])).filter((b) => b.includes('/state'));
  assert.deepEqual(binds, [
    'ro /state/snapshots/abc',
    'rw /state/units/web',
    'rw /state/runs/r1/artifacts',
    'ro /state/runs/r1/tree',
    'rw /state/runs/r1/tree/stacks/web',
  ]);
  assert.ok(!args.includes('/nowhere/key'));
});

test('a path reached through a link: bound where it leads, the link made again unless its folder is shown', () => {
  const { args } = build({
    spec: spec({
      readOnly: ['/app/node_modules', '/state/runs/r1/tree/stacks/web/node_modules'],
      readWrite: ['/state/runs/r1/tree/stacks/web'],
    }),
  });
  assert.ok(ops(args, '--ro-bind').some(([s, d]) => s === '/shared/node_modules' && d === '/shared/node_modules'));
  const links = ops(args, '--symlink').map(([, p]) => p);
  assert.ok(links.includes('/app/node_modules'));
  assert.ok(!links.includes('/state/runs/r1/tree/stacks/web/node_modules'), 'the writable folder holds the link already');
});

test('a tool outside the system folders is shown read-only; one reached through the system\'s links is there already', () => {
  const { args } = build({ command: '/opt/tools/tool' });
  assert.ok(ops(args, '--ro-bind').some(([s]) => s === '/opt/tools/tool'));
  const shell = build({ command: '/bin/sh' }).args;
  assert.ok(!ops(shell, '--symlink').some(([, p]) => p === '/bin/sh'), '/bin leads into /usr, which holds the link');
  assert.ok(!ops(shell, '--ro-bind').some(([s]) => s === '/usr/bin/dash'));
});

test('outlive: the host\'s process table, no /proc, tracing refused by the seccomp program, granted capabilities kept', () => {
  const seccomp = new Uint8Array([1, 2, 3]);
  const { args, inputs } = build({ spec: spec({ outlive: true, capabilities: ['CAP_SETUID'] }), seccomp });
  assert.ok(!args.includes('--unshare-pid'));
  assert.deepEqual(ops(args, '--proc', 1), []);
  assert.deepEqual(ops(args, '--cap-drop', 1), [['ALL']]);
  assert.deepEqual(ops(args, '--cap-add', 1), [['CAP_SETUID']]);
  assert.deepEqual(ops(args, '--seccomp', 1), [['4']]);
  assert.equal(inputs[1], seccomp);
});

test('no private home when the daemon\'s home is / or a system folder', () => {
  assert.deepEqual(ops(build({ home: '/' }).args, '--tmpfs', 1), [['/tmp']]);
  assert.deepEqual(ops(build({ home: '/usr/lib/plumbline' }).args, '--tmpfs', 1), [['/tmp']]);
});
