import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CgroupUnavailableError,
  openCgroupDriver,
  parseMountinfo,
  parseProcCgroup,
  readKey,
  resolveCgroupLayout,
} from './sandbox.cgroup.ts';

/** Recorded on a Debian 12 machine with v1 controllers and an empty unified hierarchy. */
const HYBRID_MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const HYBRID_SELF = `9:name=systemd:/
8:pids:/
6:freezer:/
4:memory:/process_api/a700
2:cpuacct:/
1:cpu:/
0::/
`;

describe('cgroup discovery', () => {
  it('uses v1 when the memory controller is on a v1 hierarchy, per controller', () => {
    const layout = resolveCgroupLayout({
      mounts: parseMountinfo(HYBRID_MOUNTINFO),
      self: parseProcCgroup(HYBRID_SELF),
    });
    expect(layout).toEqual({
      version: 1,
      own: {
        memory: '/sys/fs/cgroup/memory/process_api/a700',
        pids: '/sys/fs/cgroup/pids',
        cpuacct: '/sys/fs/cgroup/cpuacct',
        freezer: '/sys/fs/cgroup/freezer',
      },
    });
  });

  it('understands co-mounted v1 controllers', () => {
    const layout = resolveCgroupLayout({
      mounts: parseMountinfo(
        `1 0 0:1 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
2 0 0:2 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
3 0 0:3 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids`,
      ),
      self: parseProcCgroup('3:cpu,cpuacct:/a\n2:memory:/a\n1:pids:/a\n'),
    });
    expect(layout).toEqual({
      version: 1,
      own: {
        memory: '/sys/fs/cgroup/memory/a',
        pids: '/sys/fs/cgroup/pids/a',
        cpuacct: '/sys/fs/cgroup/cpu,cpuacct/a',
      },
    });
  });

  it('uses the unified hierarchy on a pure v2 system', () => {
    const layout = resolveCgroupLayout({
      mounts: parseMountinfo(
        '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot',
      ),
      self: parseProcCgroup('0::/system.slice/assay.service\n'),
    });
    expect(layout).toEqual({ version: 2, own: '/sys/fs/cgroup/system.slice/assay.service' });
  });

  it('maps paths through a mount that shows only part of the tree', () => {
    const layout = resolveCgroupLayout({
      mounts: parseMountinfo('30 23 0:26 /ctr /sys/fs/cgroup\\040x rw - cgroup2 cgroup2 rw'),
      self: parseProcCgroup('0::/ctr/worker\n'),
    });
    expect(layout).toEqual({ version: 2, own: '/sys/fs/cgroup x/worker' });
  });

  it('says which controller is missing', () => {
    expect(() =>
      resolveCgroupLayout({
        mounts: parseMountinfo('2 0 0:2 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory'),
        self: parseProcCgroup('2:memory:/\n'),
      }),
    ).toThrow(CgroupUnavailableError);
    expect(() => resolveCgroupLayout({ mounts: [], self: [] })).toThrow(/no cgroup/);
  });

  it('reads flat-keyed files', () => {
    const events = 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n';
    expect(readKey(events, 'max')).toBe(12);
    expect(readKey(events, 'oom_kill')).toBe(1);
    expect(readKey(events, 'oom_group_kill')).toBeNull();
  });
});

describe('the cgroup v2 driver, on a directory laid out like cgroupfs', () => {
  let root = '';
  const parent = `assay-sandbox-${process.pid}`;
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const fakeUnified = () => {
    root = mkdtempSync(join(tmpdir(), 'assay-fake-cgroup-'));
    writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    writeFileSync(join(root, 'cgroup.subtree_control'), '\n');
    mkdirSync(join(root, parent));
    writeFileSync(join(root, parent, 'cgroup.subtree_control'), 'memory pids\n');
    return openCgroupDriver({ layout: { version: 2, own: root } });
  };

  it('enables the controllers and writes the limits of a step', () => {
    const driver = fakeUnified();
    expect(driver.version).toBe(2);
    expect(readFileSync(join(root, 'cgroup.subtree_control'), 'utf8')).toBe('+memory +pids');
    const step = driver.create({ limits: { memoryBytes: 64 << 20, processes: 34 } });
    const dir = join(root, parent, step.id);
    expect(step.id).toMatch(/^[0-9a-f]{12}$/);
    expect(driver.parents).toEqual([join(root, parent)]);
    expect(step.procsFiles).toEqual([join(dir, 'cgroup.procs')]);
    expect(readFileSync(join(dir, 'memory.max'), 'utf8')).toBe(String(64 << 20));
    expect(readFileSync(join(dir, 'pids.max'), 'utf8')).toBe('34');
  });

  it('reads CPU, memory, OOM and pids counters, and kills with cgroup.kill', async () => {
    const driver = fakeUnified();
    const step = driver.create({ limits: { memoryBytes: 1 << 20, processes: 4 } });
    const dir = join(root, parent, step.id);
    writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n');
    writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n');
    writeFileSync(join(dir, 'pids.events'), 'max 3\n');
    writeFileSync(join(dir, 'cgroup.procs'), '');
    writeFileSync(join(dir, 'memory.current'), '4096\n');
    step.sampleMemory();
    writeFileSync(join(dir, 'memory.current'), '1024\n');
    step.sampleMemory();
    expect(step.cpuUsageMs()).toBe(1.5);
    expect(step.oomKills()).toBe(1);
    expect(step.memoryLimitHit()).toBe(true);
    expect(step.processesLimitHit()).toBe(true);
    expect(step.memoryPeakBytes()).toBe(4096); // sampled: this "kernel" has no memory.peak
    expect(step.pids()).toEqual([]);

    writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n');
    writeFileSync(join(dir, 'cgroup.kill'), '');
    await expect(step.killAll({ timeoutMs: 30 })).rejects.toThrow(/to empty/);
    expect(readFileSync(join(dir, 'cgroup.kill'), 'utf8')).toBe('1');
    writeFileSync(join(dir, 'cgroup.events'), 'populated 0\nfrozen 0\n');
    await step.killAll();
  });

  it('refuses, with the reason, when controllers cannot be enabled', () => {
    root = mkdtempSync(join(tmpdir(), 'assay-fake-cgroup-'));
    writeFileSync(join(root, 'cgroup.controllers'), 'cpu io\n');
    expect(() => openCgroupDriver({ layout: { version: 2, own: root } })).toThrow(
      /controller "memory" is not available/,
    );
    expect(readdirSync(root)).toEqual(['cgroup.controllers']);
  });
});
