import { accessSync, constants } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
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
  /** Joins the step's cgroup, sets rlimits and drops to the sandbox user before bwrap runs. */
  shPath: string;
  prlimitPath: string;
  setprivPath: string;
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

/**
 * Checks that this machine can sandbox: root (to make cgroups and drop to the sandbox user),
 * bubblewrap ≥ 0.8 (`--disable-userns`, `--size`, `--json-status-fd`), util-linux's `prlimit` and
 * `setpriv`, a seccomp filter for this architecture, and cgroups. Throws
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
  const prlimitPath = findExecutable('prlimit');
  const setprivPath = findExecutable('setpriv');
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
  const workRoot = await mkdtemp(join(options.workRoot ?? tmpdir(), 'assay-sandbox-'));
  await chmod(workRoot, 0o711);
  return {
    bwrapPath,
    shPath,
    prlimitPath,
    setprivPath,
    features,
    root: detectRootLayout(),
    cgroups,
    seccomp,
    uid: options.uid ?? DEFAULT_SANDBOX_UID,
    gid: options.gid ?? DEFAULT_SANDBOX_GID,
    workRoot,
    close: () => rm(workRoot, { recursive: true, force: true }),
  };
}
