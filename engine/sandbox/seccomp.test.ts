import assert from 'node:assert/strict';
import { test } from 'node:test';
import { denyTracing } from './seccomp.ts';

/** [code, jt, jf, k] per instruction, little-endian as on x86-64 and arm64 hosts. */
function decode(bytes: Uint8Array): number[][] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 8 }, (_, i) => [view.getUint16(i * 8, true), view.getUint8(i * 8 + 2), view.getUint8(i * 8 + 3), view.getUint32(i * 8 + 4, true)]);
}

test('x86-64: the architecture is checked, x32 calls and the tracing calls refused with EPERM, the rest allowed', () => {
  assert.deepEqual(decode(denyTracing('x64')!), [
    [0x20, 0, 0, 4], // load arch
    [0x15, 0, 7, 0xc000003e], // not x86-64: to deny
    [0x20, 0, 0, 0], // load nr
    [0x35, 5, 0, 0x40000000], // x32: deny
    [0x15, 4, 0, 101], // ptrace
    [0x15, 3, 0, 310], // process_vm_readv
    [0x15, 2, 0, 311], // process_vm_writev
    [0x15, 1, 0, 438], // pidfd_getfd
    [0x06, 0, 0, 0x7fff0000], // allow
    [0x06, 0, 0, 0x00050001], // EPERM
  ]);
});

test('arm64 has its own numbers; an architecture Plumbline does not know gets no program', () => {
  const program = decode(denyTracing('arm64')!);
  assert.deepEqual(program[1], [0x15, 0, 6, 0xc00000b7]);
  assert.deepEqual(program.slice(3, 7).map((ins) => ins[3]), [117, 270, 271, 438]);
  assert.equal(denyTracing('riscv64'), null);
});
