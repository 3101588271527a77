import { execFile } from 'node:child_process';
import { lstatSync, readlinkSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where the step's work directory appears inside the sandbox (also the working directory). */
export const SANDBOX_WORK_DIR = '/box';
export const SANDBOX_HOSTNAME = 'sandbox';

/** How the host's root is reproduced: `/usr` read-only, the merged-usr links as links. */
export type RootEntry =
  | { kind: 'ro-bind'; path: string }
  | { kind: 'symlink'; path: string; target: string };

const ROOT_NAMES = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

/**
 * The few `/etc` entries toolchains read at start-up: the dynamic linker's cache and Debian's
 * alternatives links (`/usr/bin/java` → `/etc/alternatives/java` → `/usr/lib/jvm/…`). Never
 * `/etc` as a whole (shadow, machine-id, ssh keys, the app's own configuration).
 */
export const ETC_ENTRIES = ['/etc/ld.so.cache', '/etc/alternatives'];

export function detectRootLayout(): RootEntry[] {
  const entries: RootEntry[] = [{ kind: 'ro-bind', path: '/usr' }];
  for (const name of ROOT_NAMES) {
    const path = `/${name}`;
    try {
      const stat = lstatSync(path);
      if (stat.isSymbolicLink())
        entries.push({ kind: 'symlink', path, target: readlinkSync(path) });
      else if (stat.isDirectory()) entries.push({ kind: 'ro-bind', path });
    } catch {
      // not on this system
    }
  }
  return entries;
}

export interface BwrapFeatures {
  version: string;
  disableUserns: boolean;
  tmpfsSize: boolean;
  jsonStatus: boolean;
}

/** Which of the options the sandbox relies on this bwrap has. */
export async function probeBwrapFeatures(options: { bwrapPath: string }): Promise<BwrapFeatures> {
  const { stdout: version } = await run(options.bwrapPath, ['--version'], {
    env: {},
    timeout: 5000,
  });
  const { stdout: help } = await run(options.bwrapPath, ['--help'], { env: {}, timeout: 5000 });
  return {
    version: version.trim().replace(/^bubblewrap\s*/, ''),
    disableUserns: help.includes('--disable-userns'),
    tmpfsSize: help.includes('--size'),
    jsonStatus: help.includes('--json-status-fd'),
  };
}

/** A host path bound read-only at the same place, or at another (`dest`) inside the sandbox. */
export type ReadOnlyPath = string | { source: string; dest: string };

export interface BwrapOptions {
  root: readonly RootEntry[];
  /** Extra read-only paths a language needs (bound only when they exist). */
  readOnlyPaths: readonly ReadOnlyPath[];
  workDir: string;
  /** Compile steps write their output into the work directory; runs get it read-only. */
  writable: boolean;
  env: Readonly<Record<string, string>>;
  tmpBytes: number;
  uid: number;
  gid: number;
  seccompFd: number;
  statusFd: number;
  argv: readonly string[];
  /** Host files bound read-only at another path (the per-submission supervisor). */
  binds?: readonly { source: string; dest: string }[];
  /** The program is pid 1 of the sandbox itself, with no bwrap reaper (the supervisor). */
  asPid1?: boolean;
}

/**
 * The bwrap command line of one step. bwrap runs as the unprivileged sandbox user (see the
 * runner), so `--unshare-user` maps that same uid inside and nothing maps to root on the host.
 */
export function buildBwrapArgs(options: BwrapOptions): string[] {
  const args = [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--uid',
    String(options.uid),
    '--gid',
    String(options.gid),
    '--hostname',
    SANDBOX_HOSTNAME,
    '--cap-drop',
    'ALL',
    '--new-session',
    '--die-with-parent',
    '--clearenv',
  ];
  for (const [name, value] of Object.entries(options.env)) args.push('--setenv', name, value);
  for (const entry of options.root) {
    if (entry.kind === 'ro-bind') args.push('--ro-bind', entry.path, entry.path);
    else args.push('--symlink', entry.target, entry.path);
  }
  for (const path of [...ETC_ENTRIES, ...options.readOnlyPaths]) {
    if (typeof path === 'string') args.push('--ro-bind-try', path, path);
    else args.push('--ro-bind-try', path.source, path.dest);
  }
  for (const bind of options.binds ?? []) args.push('--ro-bind', bind.source, bind.dest);
  if (options.asPid1) args.push('--as-pid-1');
  const tmpSize = String(options.tmpBytes);
  args.push(
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--size',
    tmpSize,
    '--tmpfs',
    '/dev/shm',
    '--size',
    tmpSize,
    '--tmpfs',
    '/tmp',
    options.writable ? '--bind' : '--ro-bind',
    options.workDir,
    SANDBOX_WORK_DIR,
    // Nothing but /tmp, /dev/shm and (for a compile) the work directory stays writable.
    '--remount-ro',
    '/dev',
    '--remount-ro',
    '/',
    '--chdir',
    SANDBOX_WORK_DIR,
    '--seccomp',
    String(options.seccompFd),
    '--json-status-fd',
    String(options.statusFd),
    '--',
    ...options.argv,
  );
  return args;
}
