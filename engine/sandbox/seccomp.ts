import { endianness } from 'node:os';

/**
 * A seccomp program (classic BPF, as `bwrap --seccomp FD` loads it) that
 * refuses the calls that read or steer another process: ptrace,
 * process_vm_readv/writev and pidfd_getfd. It is for units granted processes
 * that outlive the run, which share the host's process table: without it, a
 * process of theirs could attach to a process of the daemon's user that holds
 * no capabilities (bubblewrap's own monitor is one) and act from there,
 * outside the sandbox. Calls of another architecture than the host's (a
 * 32-bit binary) are refused altogether: their numbers differ.
 */

interface Architecture {
  /** AUDIT_ARCH_* of seccomp_data.arch. */
  audit: number;
  /** ptrace, process_vm_readv, process_vm_writev, pidfd_getfd. */
  denied: readonly number[];
  /** x86-64's x32 calls carry this bit: refused as a whole. */
  x32Bit?: number;
}

const ARCHITECTURES: Readonly<Record<string, Architecture>> = {
  x64: { audit: 0xc000003e, denied: [101, 310, 311, 438], x32Bit: 0x40000000 },
  arm64: { audit: 0xc00000b7, denied: [117, 270, 271, 438] },
};

const LD_W_ABS = 0x20;
const JMP_JEQ_K = 0x15;
const JMP_JGE_K = 0x35;
const RET_K = 0x06;
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const RET_ALLOW = 0x7fff0000;
const RET_EPERM = 0x00050000 | 1;

interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** The program for `arch` (`process.arch`), or null where Plumbline knows no call numbers. */
export function denyTracing(arch: string = process.arch): Uint8Array | null {
  const spec = ARCHITECTURES[arch];
  if (!spec) return null;
  const checks = (spec.x32Bit !== undefined ? 1 : 0) + spec.denied.length;
  // Indexes: 0 load arch, 1 arch check, 2 load nr, 3.. checks, then allow, then deny.
  const allow = 3 + checks;
  const deny = allow + 1;
  const to = (from: number, target: number): number => target - (from + 1);
  const program: Instruction[] = [
    { code: LD_W_ABS, jt: 0, jf: 0, k: OFFSET_ARCH },
    { code: JMP_JEQ_K, jt: 0, jf: to(1, deny), k: spec.audit },
    { code: LD_W_ABS, jt: 0, jf: 0, k: OFFSET_NR },
  ];
  if (spec.x32Bit !== undefined) program.push({ code: JMP_JGE_K, jt: to(program.length, deny), jf: 0, k: spec.x32Bit });
  for (const nr of spec.denied) program.push({ code: JMP_JEQ_K, jt: to(program.length, deny), jf: 0, k: nr });
  program.push({ code: RET_K, jt: 0, jf: 0, k: RET_ALLOW }, { code: RET_K, jt: 0, jf: 0, k: RET_EPERM });
  return encode(program);
}

/** struct sock_filter, in the host's byte order. */
function encode(program: readonly Instruction[]): Uint8Array {
  const bytes = new Uint8Array(program.length * 8);
  const view = new DataView(bytes.buffer);
  const little = endianness() === 'LE';
  program.forEach((ins, i) => {
    view.setUint16(i * 8, ins.code, little);
    view.setUint8(i * 8 + 2, ins.jt);
    view.setUint8(i * 8 + 3, ins.jf);
    view.setUint32(i * 8 + 4, ins.k, little);
  });
  return bytes;
}
