import { describe, expect, it } from 'vitest';
import {
  type BpfInstruction,
  buildSeccompProgram,
  DENIED_SYSCALLS,
  EPERM,
  encodeSeccompProgram,
  SECCOMP_ARCHES,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
} from './sandbox.seccomp.ts';

/** A classic-BPF interpreter for the few instructions the filter uses, run over `seccomp_data`. */
function evaluate(program: readonly BpfInstruction[], data: Buffer): number {
  let accumulator = 0;
  let pc = 0;
  for (let steps = 0; steps < 1000; steps += 1) {
    const instruction = program[pc];
    if (!instruction) throw new Error(`fell off the program at ${pc}`);
    switch (instruction.code) {
      case 0x20:
        accumulator = data.readUInt32LE(instruction.k);
        pc += 1;
        break;
      case 0x15:
        pc += 1 + (accumulator === instruction.k ? instruction.jt : instruction.jf);
        break;
      case 0x35:
        pc += 1 + (accumulator >= instruction.k ? instruction.jt : instruction.jf);
        break;
      case 0x06:
        return instruction.k;
      default:
        throw new Error(`unexpected opcode ${instruction.code}`);
    }
  }
  throw new Error('no return');
}

const seccompData = (options: { nr: number; arch: number; arg0?: number }) => {
  const data = Buffer.alloc(64);
  data.writeInt32LE(options.nr, 0);
  data.writeUInt32LE(options.arch, 4);
  data.writeUInt32LE((options.arg0 ?? 0) >>> 0, 16);
  return data;
};

const DENY = (SECCOMP_RET_ERRNO | EPERM) >>> 0;

describe.each(Object.keys(SECCOMP_ARCHES))('the seccomp filter for %s', (archName) => {
  const arch = SECCOMP_ARCHES[archName]!;
  const program = buildSeccompProgram({ arch: archName });
  const verdict = (nr: number, arg0?: number) =>
    evaluate(
      program,
      seccompData({ nr, arch: arch.audit, ...(arg0 === undefined ? {} : { arg0 }) }),
    );

  it('refuses ptrace, bpf, perf_event_open, keyctl, io_uring and mount calls with EPERM', () => {
    for (const name of [
      'ptrace',
      'bpf',
      'perf_event_open',
      'keyctl',
      'add_key',
      'request_key',
      'io_uring_setup',
      'io_uring_enter',
      'io_uring_register',
      'mount',
      'umount2',
      'pivot_root',
      'move_mount',
      'open_tree',
      'fsopen',
      'fsmount',
      'fsconfig',
      'unshare',
      'setns',
      'kexec_load',
      'init_module',
      'finit_module',
      'delete_module',
      'reboot',
      'swapon',
      'swapoff',
      'userfaultfd',
      'process_vm_readv',
      'process_vm_writev',
    ]) {
      const nr = arch.syscalls[name];
      expect(nr, name).toBeTypeOf('number');
      expect(verdict(nr!), name).toBe(DENY);
    }
  });

  it('denies every listed call the architecture has', () => {
    for (const name of DENIED_SYSCALLS) {
      const nr = arch.syscalls[name];
      if (nr !== undefined) expect(verdict(nr), name).toBe(DENY);
    }
  });

  it('allows the calls ordinary programs make', () => {
    const denied = new Set(Object.values(arch.syscalls));
    for (let nr = 0; nr < 460; nr += 1) {
      if (!denied.has(nr)) expect(verdict(nr), `syscall ${nr}`).toBe(SECCOMP_RET_ALLOW);
    }
  });

  it('lets personality query and reset, but not change the execution domain', () => {
    const nr = arch.syscalls.personality!;
    expect(verdict(nr, 0xffffffff)).toBe(SECCOMP_RET_ALLOW);
    expect(verdict(nr, 0)).toBe(SECCOMP_RET_ALLOW);
    expect(verdict(nr, 0x0040000)).toBe(DENY); // ADDR_NO_RANDOMIZE
  });

  it('kills a call made with another architecture', () => {
    const other = archName === 'x64' ? 0x40000003 : 0xc000003e; // i386 / x86-64
    expect(evaluate(program, seccompData({ nr: 1, arch: other }))).toBe(SECCOMP_RET_KILL_PROCESS);
  });
});

describe('the x86-64 seccomp filter', () => {
  it('refuses x32 system calls, which would bypass the numbers above', () => {
    const program = buildSeccompProgram({ arch: 'x64' });
    const data = seccompData({ nr: 0x40000000 + 101, arch: SECCOMP_ARCHES.x64!.audit });
    expect(evaluate(program, data)).toBe(DENY);
  });

  it('encodes as struct sock_filter, 8 little-endian bytes per instruction', () => {
    const program = buildSeccompProgram({ arch: 'x64' });
    const bytes = encodeSeccompProgram(program);
    expect(bytes.length).toBe(program.length * 8);
    // ld [4] (the arch field), then jeq AUDIT_ARCH_X86_64
    expect([...bytes.subarray(0, 8)]).toEqual([0x20, 0, 0, 0, 4, 0, 0, 0]);
    expect(bytes.readUInt16LE(8)).toBe(0x15);
    expect(bytes.readUInt32LE(12)).toBe(0xc000003e);
  });

  it('has no filter for an unknown architecture', () => {
    expect(() => buildSeccompProgram({ arch: 'mips' })).toThrow(/mips/);
  });
});
