import { randomBytes } from 'node:crypto';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmdirSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * One cgroup per sandboxed step: it carries the memory and process limits, counts CPU time and
 * peak memory of every process of the step, notices the OOM killer, and is how the whole process
 * tree is killed. Works on cgroup v1 (one directory per controller) and v2 (one directory).
 *
 * cgroupfs is an in-kernel file system: reads and writes take microseconds and never block on a
 * disk, so they are synchronous here; only the waiting for processes to die is asynchronous.
 */

export interface CgroupLimits {
  memoryBytes: number;
  processes: number;
}

export interface StepCgroup {
  readonly id: string;
  /** The `cgroup.procs` files a process writes its own pid to, to join before it execs. */
  readonly procsFiles: readonly string[];
  /**
   * Lets a process of `uid` move itself in (v1: the `cgroup.procs` files become its own). False
   * on v2, where moving also needs write access to the common ancestor, so a root helper joins.
   */
  allowJoinAs(owner: { uid: number; gid: number }): boolean;
  cpuUsageMs(): number;
  /** Peak memory; on v2 kernels without `memory.peak`, the highest of the samples taken. */
  memoryPeakBytes(): number;
  /** Takes a memory sample (only matters without a kernel peak counter). */
  sampleMemory(): void;
  /** OOM kills inside the cgroup, or null when this kernel does not count them. */
  oomKills(): number | null;
  /** Whether memory ever hit the limit (v1 `failcnt`, v2 `max` events). */
  memoryLimitHit(): boolean;
  processesLimitHit(): boolean;
  /** Restarts the peak memoryPeakBytes reports (between the tests one supervisor runs). */
  resetPeak(): void;
  /** The counters behind the booleans above, for per-test differences within one cgroup. */
  eventCounts(): EventCounts;
  pids(): number[];
  /** Kills every process in the cgroup and waits until it is empty. */
  killAll(options?: { timeoutMs?: number }): Promise<void>;
  /** Kills what is left and removes the directories. */
  destroy(): Promise<void>;
}

export interface EventCounts {
  oomKills: number | null;
  memoryLimitHits: number;
  processesLimitHits: number;
}

export interface CgroupDriver {
  readonly version: 1 | 2;
  /** Where step cgroups are made (this process's own, one per v1 controller). */
  readonly parents: readonly string[];
  create(options: { limits: CgroupLimits }): StepCgroup;
  /** Removes the parents (they are empty once every step is destroyed). */
  close(): void;
}

export class CgroupUnavailableError extends Error {
  override name = 'CgroupUnavailableError';
}

// ——— discovery (pure, tested with recorded files) ———

export interface CgroupMount {
  mountPoint: string;
  /** The cgroup path this mount shows at its mount point (`/` unless inside a cgroup namespace). */
  root: string;
  version: 1 | 2;
  /** v1: the controllers bound to this hierarchy. */
  controllers: string[];
}

const unescapeMountField = (field: string) =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );

/** The cgroup mounts from `/proc/self/mountinfo`. */
export function parseMountinfo(text: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    const separator = line.indexOf(' - ');
    if (separator < 0) continue;
    const before = line.slice(0, separator).split(' ');
    const after = line.slice(separator + 3).split(' ');
    const [fsType, , superOptions = ''] = after;
    const root = before[3];
    const mountPoint = before[4];
    if (root === undefined || mountPoint === undefined) continue;
    if (fsType === 'cgroup2') {
      mounts.push({
        mountPoint: unescapeMountField(mountPoint),
        root,
        version: 2,
        controllers: [],
      });
    } else if (fsType === 'cgroup') {
      const controllers = superOptions
        .split(',')
        .filter((option) => !['rw', 'ro'].includes(option) && !option.includes('='));
      mounts.push({ mountPoint: unescapeMountField(mountPoint), root, version: 1, controllers });
    }
  }
  return mounts;
}

/** `/proc/self/cgroup`: hierarchy id, controllers (empty for v2), path. */
export function parseProcCgroup(text: string): { controllers: string[]; path: string }[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .flatMap((line) => {
      const match = /^\d+:([^:]*):(.*)$/.exec(line);
      if (!match) return [];
      return [{ controllers: match[1] ? match[1].split(',') : [], path: match[2] ?? '/' }];
    });
}

const V1_REQUIRED = ['memory', 'pids', 'cpuacct'] as const;
const V1_OPTIONAL = ['freezer'] as const;

export type CgroupLayout =
  | { version: 1; own: Readonly<Record<string, string>> }
  | { version: 2; own: string };

const joinCgroupPath = (mount: CgroupMount, path: string) => {
  const relative =
    mount.root !== '/' && (path === mount.root || path.startsWith(`${mount.root}/`))
      ? path.slice(mount.root.length)
      : path;
  const joined = join(mount.mountPoint, relative);
  return joined.length > 1 && joined.endsWith('/') ? joined.slice(0, -1) : joined;
};

/**
 * The directories of this process's own cgroups. v1 is used when the memory controller is bound
 * to a v1 hierarchy (hybrid systems have an empty cgroup2 beside it, as on Debian with
 * `systemd.unified_cgroup_hierarchy=0`); otherwise the unified hierarchy.
 */
export function resolveCgroupLayout(options: {
  mounts: readonly CgroupMount[];
  self: readonly { controllers: string[]; path: string }[];
}): CgroupLayout {
  const v1Memory = options.mounts.find((m) => m.version === 1 && m.controllers.includes('memory'));
  if (v1Memory) {
    const own: Record<string, string> = {};
    for (const controller of [...V1_REQUIRED, ...V1_OPTIONAL]) {
      const mount = options.mounts.find(
        (m) => m.version === 1 && m.controllers.includes(controller),
      );
      const entry = options.self.find((line) => line.controllers.includes(controller));
      if (!mount || !entry) {
        if ((V1_REQUIRED as readonly string[]).includes(controller)) {
          throw new CgroupUnavailableError(`cgroup v1 controller "${controller}" is not mounted`);
        }
        continue;
      }
      own[controller] = joinCgroupPath(mount, entry.path);
    }
    return { version: 1, own };
  }
  const unified = options.mounts.find((m) => m.version === 2);
  const entry = options.self.find((line) => line.controllers.length === 0);
  if (!unified || !entry) throw new CgroupUnavailableError('no cgroup file system is mounted');
  return { version: 2, own: joinCgroupPath(unified, entry.path) };
}

// ——— the drivers ———

const readText = (file: string) => readFileSync(file, 'utf8');
const readNumber = (file: string) => Number(readText(file).trim());

/** A `key value` line of a flat-keyed file such as `memory.events` or `cpu.stat`. */
export function readKey(text: string, key: string): number | null {
  const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

const parsePids = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.length > 0)
    .map(Number);

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const killPid = (pid: number) => {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
};

const stepName = () => randomBytes(6).toString('hex');

/**
 * Each worker process has its own parent, `<name>-<pid>`, under its own cgroup: nothing is shared
 * between workers, and the parents of a worker that died are found by their pid.
 */
const parentName = (name: string) => `${name}-${process.pid}`;

async function waitUntil(options: {
  done: () => boolean;
  timeoutMs: number;
  what: string;
}): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  // What is usually waited for (bwrap's own init finishing its exit after the program's status
  // was reported) takes a few ms: look every ms for the first 10 ms, so a run is not held up
  // to twice that long by a doubling pause, then back off.
  let pause = 1;
  let waited = 0;
  while (!options.done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what}`);
    await sleep(pause);
    waited += pause;
    if (waited >= 10) pause = Math.min(pause * 2, 20);
  }
}

const removeDir = async (dir: string) => {
  // An emptied cgroup can stay busy for a moment while the last task is released.
  for (let attempt = 0; ; attempt += 1) {
    try {
      rmdirSync(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= 50) throw error;
      await sleep(Math.min(2 ** attempt, 20));
    }
  }
};

function createV1Driver(options: {
  own: Readonly<Record<string, string>>;
  name: string;
}): CgroupDriver {
  const parents: Record<string, string> = {};
  sweepStale(Object.values(options.own), options.name);
  for (const [controller, dir] of Object.entries(options.own)) {
    parents[controller] = join(dir, parentName(options.name));
    mkdirSync(parents[controller], { recursive: true });
  }
  const memoryParent = parents.memory!;
  const pidsParent = parents.pids!;
  const cpuParent = parents.cpuacct!;
  const freezerParent = parents.freezer;

  const create = ({ limits }: { limits: CgroupLimits }): StepCgroup => {
    const id = stepName();
    const dirs = Object.values(parents).map((parent) => join(parent, id));
    const made: string[] = [];
    const memory = join(memoryParent, id);
    const pids = join(pidsParent, id);
    const cpu = join(cpuParent, id);
    const freezer = freezerParent ? join(freezerParent, id) : null;
    try {
      for (const dir of dirs) {
        mkdirSync(dir);
        made.push(dir);
      }
      writeFileSync(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      // With swap accounting, memory+swap gets the same limit so nothing spills into swap;
      // without it, swappiness 0 keeps anonymous memory out of swap.
      if (existsSync(join(memory, 'memory.memsw.limit_in_bytes'))) {
        writeFileSync(join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
      } else {
        writeFileSync(join(memory, 'memory.swappiness'), '0');
      }
      writeFileSync(join(pids, 'pids.max'), String(limits.processes));
    } catch (error) {
      for (const dir of made.reverse()) {
        try {
          rmdirSync(dir);
        } catch {
          // best effort; the sweep at start-up removes what is left
        }
      }
      throw error;
    }

    const listPids = () => parsePids(readText(join(pids, 'cgroup.procs')));
    const freezerState = (state: 'FROZEN' | 'THAWED') =>
      writeFileSync(join(freezer!, 'freezer.state'), state);

    const killAll = async ({ timeoutMs = 5000 } = {}) => {
      if (listPids().length === 0) return;
      const deadline = Date.now() + timeoutMs;
      while (listPids().length > 0) {
        if (Date.now() > deadline) throw new Error(`cgroup ${id} did not empty`);
        if (freezer) {
          // Frozen tasks neither fork nor exit, so no pid read here can be reused by another
          // process before it is signalled; they die as soon as they are thawed.
          freezerState('FROZEN');
          try {
            // A task in uninterruptible sleep can hold FREEZING for long; kill what is there then.
            await waitUntil({
              done: () => readText(join(freezer, 'freezer.state')).trim() === 'FROZEN',
              timeoutMs: 1000,
              what: 'the freezer',
            }).catch(() => undefined);
            for (const pid of listPids()) killPid(pid);
          } finally {
            freezerState('THAWED');
          }
        } else {
          for (const pid of listPids()) killPid(pid);
        }
        await waitUntil({
          done: () => listPids().length === 0,
          timeoutMs: Math.max(0, Math.min(1000, deadline - Date.now())),
          what: 'killed processes to exit',
        }).catch(() => undefined);
      }
    };

    return {
      id,
      procsFiles: dirs.map((dir) => join(dir, 'cgroup.procs')),
      allowJoinAs: ({ uid, gid }) => {
        // v1 lets a task move itself when it may write the destination's cgroup.procs.
        for (const dir of dirs) chownSync(join(dir, 'cgroup.procs'), uid, gid);
        return true;
      },
      cpuUsageMs: () => readNumber(join(cpu, 'cpuacct.usage')) / 1e6,
      memoryPeakBytes: () => readNumber(join(memory, 'memory.max_usage_in_bytes')),
      sampleMemory: () => undefined,
      // Writing 0 sets the maximum to the current usage.
      resetPeak: () => writeFileSync(join(memory, 'memory.max_usage_in_bytes'), '0'),
      eventCounts: () => ({
        oomKills: readKey(readText(join(memory, 'memory.oom_control')), 'oom_kill'),
        memoryLimitHits: readNumber(join(memory, 'memory.failcnt')),
        processesLimitHits: readKey(readText(join(pids, 'pids.events')), 'max') ?? 0,
      }),
      oomKills: () => readKey(readText(join(memory, 'memory.oom_control')), 'oom_kill'),
      memoryLimitHit: () => readNumber(join(memory, 'memory.failcnt')) > 0,
      processesLimitHit: () => (readKey(readText(join(pids, 'pids.events')), 'max') ?? 0) > 0,
      pids: listPids,
      killAll,
      destroy: async () => {
        await killAll();
        for (const dir of dirs) await removeDir(dir);
      },
    };
  };

  return {
    version: 1,
    parents: Object.values(parents),
    create,
    close: () => removeParents(Object.values(parents)),
  };
}

function enableControllers(dir: string, controllers: readonly string[]) {
  const enabled = readText(join(dir, 'cgroup.subtree_control')).split(/\s+/);
  const missing = controllers.filter((controller) => !enabled.includes(controller));
  if (missing.length === 0) return;
  try {
    writeFileSync(
      join(dir, 'cgroup.subtree_control'),
      missing.map((controller) => `+${controller}`).join(' '),
    );
  } catch (error) {
    throw new CgroupUnavailableError(
      `cannot enable ${missing.join(', ')} in ${dir} (${(error as Error).message}); on cgroup v2 ` +
        'run the worker in a delegated cgroup whose processes live in a leaf, or pass a parent',
    );
  }
}

function createV2Driver(options: { base: string; name: string }): CgroupDriver {
  const available = readText(join(options.base, 'cgroup.controllers')).split(/\s+/);
  for (const controller of ['memory', 'pids']) {
    if (!available.includes(controller)) {
      throw new CgroupUnavailableError(`cgroup v2 controller "${controller}" is not available`);
    }
  }
  enableControllers(options.base, ['memory', 'pids']);
  sweepStale([options.base], options.name);
  const parent = join(options.base, parentName(options.name));
  mkdirSync(parent, { recursive: true });
  enableControllers(parent, ['memory', 'pids']);

  const create = ({ limits }: { limits: CgroupLimits }): StepCgroup => {
    const id = stepName();
    const dir = join(parent, id);
    mkdirSync(dir);
    try {
      writeFileSync(join(dir, 'memory.max'), String(limits.memoryBytes));
      if (existsSync(join(dir, 'memory.swap.max')))
        writeFileSync(join(dir, 'memory.swap.max'), '0');
      // One OOM kill takes the whole step down, as a wall or CPU kill does.
      if (existsSync(join(dir, 'memory.oom.group')))
        writeFileSync(join(dir, 'memory.oom.group'), '1');
      writeFileSync(join(dir, 'pids.max'), String(limits.processes));
    } catch (error) {
      rmdirSync(dir);
      throw error;
    }
    let sampling = !existsSync(join(dir, 'memory.peak'));
    let sampledPeak = 0;
    // memory.peak is reset per open descriptor (Linux 6.12+): after a reset it is read through
    // the descriptor that reset it; a kernel that refuses the write is sampled instead.
    let peakFd: number | null = null;
    const file = (name: string) => join(dir, name);
    const listPids = () => parsePids(readText(file('cgroup.procs')));
    const populated = () => readKey(readText(file('cgroup.events')), 'populated') === 1;

    const killAll = async ({ timeoutMs = 5000 } = {}) => {
      if (!populated()) return;
      if (existsSync(file('cgroup.kill'))) {
        writeFileSync(file('cgroup.kill'), '1');
      } else {
        writeFileSync(file('cgroup.freeze'), '1');
        try {
          await waitUntil({
            done: () => readKey(readText(file('cgroup.events')), 'frozen') === 1,
            timeoutMs: 1000,
            what: 'the freezer',
          }).catch(() => undefined);
          for (const pid of listPids()) killPid(pid);
        } finally {
          writeFileSync(file('cgroup.freeze'), '0');
        }
      }
      await waitUntil({ done: () => !populated(), timeoutMs, what: `cgroup ${id} to empty` });
    };

    return {
      id,
      procsFiles: [file('cgroup.procs')],
      allowJoinAs: () => false,
      cpuUsageMs: () => (readKey(readText(file('cpu.stat')), 'usage_usec') ?? 0) / 1000,
      memoryPeakBytes: () => {
        if (sampling) return sampledPeak;
        if (peakFd === null) return readNumber(file('memory.peak'));
        const bytes = Buffer.alloc(32);
        return Number(bytes.toString('latin1', 0, readSync(peakFd, bytes, 0, 32, 0)).trim());
      },
      sampleMemory: () => {
        if (sampling) sampledPeak = Math.max(sampledPeak, readNumber(file('memory.current')));
      },
      resetPeak: () => {
        sampledPeak = readNumber(file('memory.current'));
        if (sampling) return;
        try {
          peakFd ??= openSync(file('memory.peak'), 'r+');
          writeSync(peakFd, 'reset');
        } catch {
          if (peakFd !== null) closeSync(peakFd);
          peakFd = null;
          sampling = true;
        }
      },
      eventCounts: () => {
        const events = readText(file('memory.events'));
        return {
          oomKills: readKey(events, 'oom_kill'),
          memoryLimitHits: readKey(events, 'max') ?? 0,
          processesLimitHits: readKey(readText(file('pids.events')), 'max') ?? 0,
        };
      },
      oomKills: () => readKey(readText(file('memory.events')), 'oom_kill'),
      memoryLimitHit: () => (readKey(readText(file('memory.events')), 'max') ?? 0) > 0,
      processesLimitHit: () => (readKey(readText(file('pids.events')), 'max') ?? 0) > 0,
      pids: listPids,
      killAll,
      destroy: async () => {
        if (peakFd !== null) closeSync(peakFd);
        peakFd = null;
        await killAll();
        await removeDir(dir);
      },
    };
  };

  return { version: 2, parents: [parent], create, close: () => removeParents([parent]) };
}

function removeParents(parents: readonly string[]) {
  for (const parent of parents) {
    try {
      rmdirSync(parent);
    } catch {
      // a step is still there (it is logged where it failed); the next start-up sweeps it
    }
  }
}

/** Removes the parents of workers that died without cleaning up, killing what still runs there. */
function sweepStale(bases: readonly string[], name: string) {
  const pattern = new RegExp(`^${name}-(\\d+)$`);
  for (const base of bases) {
    for (const entry of readdirSync(base)) {
      const pid = Number(pattern.exec(entry)?.[1] ?? Number.NaN);
      const parent = join(base, entry);
      if (Number.isNaN(pid) || isAlive(pid) || !statSync(parent).isDirectory()) continue;
      try {
        for (const step of readdirSync(parent)) {
          const dir = join(parent, step);
          if (!statSync(dir).isDirectory()) continue;
          for (const stray of parsePids(readText(join(dir, 'cgroup.procs')))) killPid(stray);
          rmdirSync(dir);
        }
        rmdirSync(parent);
      } catch {
        // still busy: the next start-up tries again
      }
    }
  }
}

/**
 * Finds the cgroup hierarchy and prepares a parent for step cgroups under this process's own
 * cgroup (`<own>/assay-sandbox`), so the sandbox is charged to the worker that runs it. On v2
 * `base` may name a delegated cgroup instead. Throws `CgroupUnavailableError` with the reason.
 */
export function createCgroupDriver(options: { name?: string; base?: string } = {}): CgroupDriver {
  let layout: CgroupLayout;
  try {
    layout = resolveCgroupLayout({
      mounts: parseMountinfo(readText('/proc/self/mountinfo')),
      self: parseProcCgroup(readText('/proc/self/cgroup')),
    });
  } catch (error) {
    if (error instanceof CgroupUnavailableError) throw error;
    throw new CgroupUnavailableError(`cannot read cgroups: ${(error as Error).message}`);
  }
  return openCgroupDriver({ layout, ...options });
}

/** The driver for a known layout (exported so the v2 paths can be exercised on a v1 machine). */
export function openCgroupDriver(options: {
  layout: CgroupLayout;
  name?: string;
  base?: string;
}): CgroupDriver {
  const { layout } = options;
  const name = options.name ?? 'assay-sandbox';
  try {
    if (layout.version === 1) return createV1Driver({ own: layout.own, name });
    return createV2Driver({ base: options.base ?? layout.own, name });
  } catch (error) {
    if (error instanceof CgroupUnavailableError) throw error;
    throw new CgroupUnavailableError(
      `cannot create cgroups (${(error as Error).message}); the sandbox needs root or a delegated cgroup`,
    );
  }
}
