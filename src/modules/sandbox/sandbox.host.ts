import { accessSync, constants } from 'node:fs';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BwrapFeatures,
  detectRootLayout,
  probeBwrapFeatures,
  type RootEntry,
} from './sandbox.bwrap.ts';
import { type CgroupDriver, createCgroupDriver } from './sandbox.cgroup.ts';
import { buildSeccompProgram, encodeSeccompProgram } from './sandbox.seccomp.ts';

/** Debian's `nobody`/`nogroup`: no files, no login, no processes of its own on a server. */
export const DEFAULT_SANDBOX_UID = 65534;
export const DEFAULT_SANDBOX_GID = 65534;

export class SandboxUnavailableError extends Error {
  override name = 'SandboxUnavailableError';
}

/** Everything about this machine a step needs, found once. */
export interface SandboxHost {
  bwrapPath: string;
  /** Runs the fixed helper that joins the step's cgroup and sets rlimits before bwrap runs. */
  shPath: string;
  /** Drops from root to the sandbox user where the helper has to join as root (cgroup v2). */
  setprivPath: string | null;
  features: BwrapFeatures;
  root: readonly RootEntry[];
  cgroups: CgroupDriver;
  seccomp: Buffer;
  uid: number;
  gid: number;
  /** Root-owned, mode 0711: step directories inside are reachable but cannot be listed. */
  workRoot: string;
  close(): Promise<void>;
}

const SEARCH_PATH = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];

function findExecutable(name: string): string {
  for (const dir of SEARCH_PATH) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // try the next directory
    }
  }
  throw new SandboxUnavailableError(`${name} is not installed`);
}

const WORK_ROOT_PREFIX = 'assay-sandbox-';

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Work roots of workers that died without cleaning up (their processes died with them: bwrap's
 * --die-with-parent, and the cgroup sweep kills any left). `fs.rm` does not follow symlinks.
 */
async function removeStaleWorkRoots(parent: string) {
  for (const name of await readdir(parent)) {
    const pid = Number(new RegExp(`^${WORK_ROOT_PREFIX}(\\d+)-`).exec(name)?.[1] ?? Number.NaN);
    if (Number.isNaN(pid) || isAlive(pid)) continue;
    await rm(join(parent, name), { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * Checks that this machine can sandbox: root (to make cgroups and drop to the sandbox user),
 * bubblewrap ≥ 0.8 (`--disable-userns`, `--size`, `--json-status-fd`), util-linux's `setpriv` (cgroup v2
 * only), a seccomp filter for this architecture, and cgroups. Throws
 * `SandboxUnavailableError` saying what is missing.
 */
export async function detectSandboxHost(
  options: { uid?: number; gid?: number; workRoot?: string; cgroupBase?: string } = {},
): Promise<SandboxHost> {
  if (process.platform !== 'linux') throw new SandboxUnavailableError('the sandbox needs Linux');
  if (process.getuid?.() !== 0) {
    throw new SandboxUnavailableError(
      'the sandbox needs root: it creates cgroups and drops to an unprivileged uid itself',
    );
  }
  const bwrapPath = findExecutable('bwrap');
  const shPath = findExecutable('sh');
  let features: BwrapFeatures;
  try {
    features = await probeBwrapFeatures({ bwrapPath });
  } catch (error) {
    throw new SandboxUnavailableError(`bwrap does not run: ${(error as Error).message}`);
  }
  if (!features.disableUserns || !features.tmpfsSize || !features.jsonStatus) {
    throw new SandboxUnavailableError(
      `bubblewrap ${features.version} lacks --disable-userns, --size or --json-status-fd (0.8 or later needed)`,
    );
  }
  let seccomp: Buffer;
  try {
    seccomp = encodeSeccompProgram(buildSeccompProgram({ arch: process.arch }));
  } catch (error) {
    throw new SandboxUnavailableError((error as Error).message);
  }
  let cgroups: CgroupDriver;
  try {
    cgroups = createCgroupDriver(options.cgroupBase ? { base: options.cgroupBase } : {});
  } catch (error) {
    throw new SandboxUnavailableError((error as Error).message);
  }
  const setprivPath = cgroups.version === 2 ? findExecutable('setpriv') : null;
  const parent = options.workRoot ?? tmpdir();
  await removeStaleWorkRoots(parent);
  const workRoot = await mkdtemp(join(parent, `${WORK_ROOT_PREFIX}${process.pid}-`));
  await chmod(workRoot, 0o711);
  return {
    bwrapPath,
    shPath,
    setprivPath,
    features,
    root: detectRootLayout(),
    cgroups,
    seccomp,
    uid: options.uid ?? DEFAULT_SANDBOX_UID,
    gid: options.gid ?? DEFAULT_SANDBOX_GID,
    workRoot,
    close: async () => {
      cgroups.close();
      await rm(workRoot, { recursive: true, force: true });
    },
  };
}
