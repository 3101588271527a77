/**
 * A classic-BPF seccomp filter, assembled here so that no native module or libseccomp binding is
 * needed: bwrap loads the bytes from a file descriptor (`--seccomp FD`) just before it executes
 * the program. A deny list (not an allow list) because compilers, JVMs and language runtimes use
 * wide and changing sets of calls; everything that reaches the kernel's attack surface or other
 * processes without being needed by a program that reads stdin and writes stdout is refused.
 */

/** Offsets in `struct seccomp_data` (nr, arch, instruction_pointer, args[6]). */
const DATA_NR = 0;
const DATA_ARCH = 4;
const DATA_ARG0_LOW = 16; // little-endian: the low 32 bits of args[0]

const BPF_LD_W_ABS = 0x20;
const BPF_JMP_JEQ_K = 0x15;
const BPF_JMP_JGE_K = 0x35;
const BPF_RET_K = 0x06;

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const EPERM = 1;

/** x32 system calls arrive with AUDIT_ARCH_X86_64 and this bit set in the number. */
const X32_SYSCALL_BIT = 0x40000000;

export interface SeccompArch {
  audit: number;
  hasX32: boolean;
  syscalls: Readonly<Record<string, number>>;
}

/**
 * Numbers from the kernel's uapi headers (`asm/unistd_64.h` for x86-64, `asm-generic/unistd.h`
 * for arm64). A name missing on an architecture is simply not in its table.
 */
export const SECCOMP_ARCHES: Readonly<Record<string, SeccompArch>> = {
  x64: {
    audit: 0xc000003e,
    hasX32: true,
    syscalls: {
      ptrace: 101,
      bpf: 321,
      perf_event_open: 298,
      keyctl: 250,
      add_key: 248,
      request_key: 249,
      io_uring_setup: 425,
      io_uring_enter: 426,
      io_uring_register: 427,
      mount: 165,
      umount2: 166,
      pivot_root: 155,
      move_mount: 429,
      open_tree: 428,
      fsopen: 430,
      fsconfig: 431,
      fsmount: 432,
      fspick: 433,
      mount_setattr: 442,
      unshare: 272,
      setns: 308,
      kexec_load: 246,
      kexec_file_load: 320,
      init_module: 175,
      finit_module: 313,
      delete_module: 176,
      reboot: 169,
      swapon: 167,
      swapoff: 168,
      userfaultfd: 323,
      process_vm_readv: 310,
      process_vm_writev: 311,
      process_madvise: 440,
      pidfd_getfd: 438,
      kcmp: 312,
      name_to_handle_at: 303,
      open_by_handle_at: 304,
      lookup_dcookie: 212,
      acct: 163,
      quotactl: 179,
      syslog: 103,
      iopl: 172,
      ioperm: 173,
      uselib: 134,
      personality: 135,
    },
  },
  arm64: {
    audit: 0xc00000b7,
    hasX32: false,
    syscalls: {
      ptrace: 117,
      bpf: 280,
      perf_event_open: 241,
      keyctl: 219,
      add_key: 217,
      request_key: 218,
      io_uring_setup: 425,
      io_uring_enter: 426,
      io_uring_register: 427,
      mount: 40,
      umount2: 39,
      pivot_root: 41,
      move_mount: 429,
      open_tree: 428,
      fsopen: 430,
      fsconfig: 431,
      fsmount: 432,
      fspick: 433,
      mount_setattr: 442,
      unshare: 97,
      setns: 268,
      kexec_load: 104,
      kexec_file_load: 294,
      init_module: 105,
      finit_module: 273,
      delete_module: 106,
      reboot: 142,
      swapon: 224,
      swapoff: 225,
      userfaultfd: 282,
      process_vm_readv: 270,
      process_vm_writev: 271,
      process_madvise: 440,
      pidfd_getfd: 438,
      kcmp: 272,
      name_to_handle_at: 264,
      open_by_handle_at: 265,
      lookup_dcookie: 18,
      acct: 89,
      quotactl: 60,
      syslog: 116,
      personality: 92,
    },
  },
};

/** Refused with EPERM. `personality` is special-cased: querying (0xffffffff) and PER_LINUX stay allowed. */
export const DENIED_SYSCALLS: readonly string[] = Object.keys(SECCOMP_ARCHES.x64!.syscalls).filter(
  (name) => name !== 'personality',
);

export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

type Target = string | 'next';
type Item =
  | { label: string }
  | { load: number }
  | { jump: 'jeq' | 'jge'; k: number; ifTrue: Target; ifFalse: Target }
  | { ret: number };

/** Resolves labels into the relative jump offsets of classic BPF (0–255 instructions ahead). */
export function assemble(items: readonly Item[]): BpfInstruction[] {
  const labels = new Map<string, number>();
  let index = 0;
  for (const item of items) {
    if ('label' in item) labels.set(item.label, index);
    else index += 1;
  }
  const program: BpfInstruction[] = [];
  for (const item of items) {
    if ('label' in item) continue;
    const here = program.length;
    const offset = (target: Target) => {
      if (target === 'next') return 0;
      const at = labels.get(target);
      if (at === undefined) throw new Error(`seccomp: unknown label ${target}`);
      const distance = at - (here + 1);
      if (distance < 0 || distance > 255)
        throw new Error(`seccomp: jump to ${target} out of range`);
      return distance;
    };
    if ('load' in item) program.push({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: item.load });
    else if ('ret' in item) program.push({ code: BPF_RET_K, jt: 0, jf: 0, k: item.ret >>> 0 });
    else
      program.push({
        code: item.jump === 'jeq' ? BPF_JMP_JEQ_K : BPF_JMP_JGE_K,
        jt: offset(item.ifTrue),
        jf: offset(item.ifFalse),
        k: item.k >>> 0,
      });
  }
  return program;
}

export function buildSeccompProgram(options: { arch: string }): BpfInstruction[] {
  const arch = SECCOMP_ARCHES[options.arch];
  if (!arch) throw new Error(`seccomp: no filter for architecture ${options.arch}`);
  const denied = DENIED_SYSCALLS.flatMap((name) => {
    const nr = arch.syscalls[name];
    return nr === undefined ? [] : [nr];
  });
  const personality = arch.syscalls.personality;
  const items: Item[] = [
    { load: DATA_ARCH },
    // A call made through another ABI (int 0x80 on x86-64) would have other numbers: kill it.
    { jump: 'jeq', k: arch.audit, ifTrue: 'next', ifFalse: 'kill' },
    { load: DATA_NR },
    ...(arch.hasX32
      ? [{ jump: 'jge' as const, k: X32_SYSCALL_BIT, ifTrue: 'deny', ifFalse: 'next' }]
      : []),
    ...(personality === undefined
      ? []
      : [{ jump: 'jeq' as const, k: personality, ifTrue: 'personality', ifFalse: 'next' }]),
    ...denied.map((nr) => ({ jump: 'jeq' as const, k: nr, ifTrue: 'deny', ifFalse: 'next' })),
    { ret: SECCOMP_RET_ALLOW },
    { label: 'personality' },
    { load: DATA_ARG0_LOW },
    { jump: 'jeq', k: 0xffffffff, ifTrue: 'allow', ifFalse: 'next' },
    { jump: 'jeq', k: 0, ifTrue: 'allow', ifFalse: 'deny' },
    { label: 'allow' },
    { ret: SECCOMP_RET_ALLOW },
    { label: 'deny' },
    { ret: SECCOMP_RET_ERRNO | EPERM },
    { label: 'kill' },
    { ret: SECCOMP_RET_KILL_PROCESS },
  ];
  return assemble(items);
}

/** `struct sock_filter[]` as the kernel reads it: u16 code, u8 jt, u8 jf, u32 k, little-endian. */
export function encodeSeccompProgram(program: readonly BpfInstruction[]): Buffer {
  const bytes = Buffer.alloc(program.length * 8);
  program.forEach((instruction, index) => {
    bytes.writeUInt16LE(instruction.code, index * 8);
    bytes.writeUInt8(instruction.jt, index * 8 + 2);
    bytes.writeUInt8(instruction.jf, index * 8 + 3);
    bytes.writeUInt32LE(instruction.k, index * 8 + 4);
  });
  return bytes;
}
