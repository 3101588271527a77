import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/logger/logger.ts';
import { type BatchShape, runBatch, startBatchSandbox } from './sandbox.batch.ts';
import { BASE_ENV } from './sandbox.languages.ts';
import { createSandboxService } from './sandbox.service.ts';
import { createStartAheadPool } from './sandbox.start-ahead.ts';
import {
  leftoverCgroups,
  newMarker,
  openTestSandbox,
  processesWithMarker,
  reportMissingSandbox,
  stepDirectories,
  TIGHT_LIMITS,
  text,
} from './sandbox.test-utils.ts';

const sandbox = await openTestSandbox();

/** Host processes running `sleep 31.7`, the background process the single-run test leaves. */
const sleepers = () =>
  readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'latin1') === '/usr/bin/sleep\x0031.7\x00';
      } catch {
        return false;
      }
    });

const ECHO = 'import sys\nprint(sys.stdin.read().upper())\n';

describe.runIf(sandbox.available)('sandboxes started ahead of a batch', () => {
  if (!sandbox.available) return;
  const { host } = sandbox;
  const logger = createLogger({ level: 'silent' });
  let marker = '';
  const shape = (memoryBytes = TIGHT_LIMITS.memoryBytes): BatchShape => ({
    argv: ['/usr/bin/python3', '-B', 'main.py'],
    limits: { ...TIGHT_LIMITS, memoryBytes },
    env: { ...BASE_ENV, ASSAY_MARK: marker },
  });

  beforeEach(() => {
    marker = newMarker();
  });

  afterEach(() => {
    expect(processesWithMarker(marker), 'stray processes').toEqual([]);
    expect(leftoverCgroups(host), 'leftover cgroups').toEqual([]);
    expect(stepDirectories(host), 'leftover work directories').toEqual([]);
  });

  afterAll(() => host.close());

  it('serves one batch only: it is removed afterwards and the next batch gets another', async () => {
    const warm = createStartAheadPool({ host, logger, capacity: 1, idleMs: 60_000 });
    warm.prepare(shape());
    warm.prepare(shape()); // `capacity` of a shape are kept at most: this starts nothing
    await warm.settled();
    expect(warm.size()).toBe(1);
    expect(new Set(leftoverCgroups(host)).size).toBe(1);

    const first = await warm.take(shape());
    expect(first).not.toBeNull();
    expect(await warm.take(shape())).toBeNull();
    if (!first) return;
    // Nothing of the program is there before the batch writes it.
    expect(readdirSync(first.workDir)).toEqual([]);
    const results = await runBatch({
      host,
      logger,
      sandbox: first,
      program: { ...shape(), files: { 'main.py': { content: ECHO } } },
      tests: [{ stdin: 'one' }, { stdin: 'two' }],
    });
    expect(results.map((result) => [result.verdict, text(result.stdout)])).toEqual([
      ['ok', 'ONE\n'],
      ['ok', 'TWO\n'],
    ]);
    expect(first.alive()).toBe(false);
    expect(existsSync(first.workDir)).toBe(false);
    // Handed to a second batch anyway: refused, and nothing of that batch runs.
    const again = await runBatch({
      host,
      logger,
      sandbox: first,
      program: { ...shape(), files: { 'main.py': { content: ECHO } } },
      tests: [{ stdin: 'three' }],
    });
    expect(again.map((result) => result.verdict)).toEqual(['internal_error']);

    warm.prepare(shape());
    await warm.settled();
    const second = await warm.take(shape());
    expect(second).not.toBeNull();
    expect(second?.workDir).not.toBe(first.workDir);
    expect(second?.cgroup.id).not.toBe(first.cgroup.id);
    await second?.dispose();
    await warm.close();
  });

  it('is kept for its own shape only, and a batch still starting is waited for', async () => {
    const warm = createStartAheadPool({ host, logger, capacity: 2, idleMs: 60_000 });
    warm.prepare(shape());
    await warm.settled();
    // Another memory limit is another cgroup: not this sandbox.
    expect(await warm.take(shape(TIGHT_LIMITS.memoryBytes * 2))).toBeNull();
    expect(warm.size()).toBe(1);

    warm.prepare(shape(TIGHT_LIMITS.memoryBytes * 2));
    const claimed = await warm.take(shape(TIGHT_LIMITS.memoryBytes * 2)); // not awaited: starting
    expect(claimed?.alive()).toBe(true);
    await claimed?.dispose();
    await warm.settled();
    expect(warm.size()).toBe(1);
    await warm.close();
    expect(warm.size()).toBe(0);
  });

  it('is removed unused after its idle time, and at most `capacity` are kept', async () => {
    const warm = createStartAheadPool({ host, logger, capacity: 2, idleMs: 300 });
    for (const factor of [1, 2, 3]) {
      warm.prepare(shape(TIGHT_LIMITS.memoryBytes * factor));
      await warm.settled();
    }
    expect(warm.size()).toBe(2);
    // The oldest went first.
    expect(await warm.take(shape())).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(warm.size()).toBe(0);
    await warm.close();

    // Of one shape, as many as the capacity (batches of one language run side by side).
    const sideBySide = createStartAheadPool({ host, logger, capacity: 2, idleMs: 60_000 });
    for (let index = 0; index < 3; index += 1) sideBySide.prepare(shape());
    await sideBySide.settled();
    expect(sideBySide.size()).toBe(2);
    const taken = [await sideBySide.take(shape()), await sideBySide.take(shape())];
    expect(taken.every((sandbox) => sandbox?.alive())).toBe(true);
    expect(taken[0]?.cgroup.id).not.toBe(taken[1]?.cgroup.id);
    for (const sandbox of taken) await sandbox?.dispose();
    await sideBySide.close();
  });

  it('a kept sandbox that died is not handed out', async () => {
    const warm = createStartAheadPool({ host, logger, capacity: 1, idleMs: 60_000 });
    warm.prepare(shape());
    await warm.settled();
    for (const pid of processesWithMarker(marker)) {
      if (readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('/.assay/')) {
        process.kill(pid, 'SIGKILL');
      }
    }
    for (let tries = 0; tries < 100 && processesWithMarker(marker).length > 0; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await warm.take(shape())).toBeNull();
    await warm.close();
  });

  it('a batch given a sandbox of another shape runs nothing in it, and removes it', async () => {
    const other = await startBatchSandbox({
      host,
      logger,
      shape: shape(TIGHT_LIMITS.memoryBytes * 2),
    });
    await other.ready;
    const results = await runBatch({
      host,
      logger,
      sandbox: other,
      program: { ...shape(), files: { 'main.py': { content: ECHO } } },
      tests: [{ stdin: 'one' }, { stdin: 'two' }],
    });
    expect(results.map((result) => result.verdict)).toEqual(['internal_error', 'internal_error']);
    expect(other.alive()).toBe(false);
  });

  it('through the service: the sandbox started while a program compiles is the one its tests use', async () => {
    const service = createSandboxService({
      host,
      logger,
      startAhead: { capacity: 2, idleMs: 60_000 },
    });
    const limits = { memoryBytes: TIGHT_LIMITS.memoryBytes, cpuMs: 1_000 };
    service.startAhead({ language: 'python', limits });
    expect(await service.startedAhead()).toBe(1);
    const program = { language: 'python', files: { 'main.py': { content: ECHO } } };
    const [result] = await service.runMany({ program, tests: [{ stdin: 'x' }], limits });
    expect(result?.verdict).toBe('ok');
    // Taken and replaced by one of the same shape: another shape would leave two kept.
    expect(await service.startedAhead()).toBe(1);
    await service.close();
  });

  it('through the service: a sandbox for a single run starts while compiling only when nothing runs', async () => {
    const service = createSandboxService({
      host,
      logger,
      startAhead: { capacity: 2, idleMs: 60_000 },
    });
    const limits = { memoryBytes: TIGHT_LIMITS.memoryBytes };
    const slow = {
      language: 'python',
      files: { 'main.py': { content: 'import time\ntime.sleep(1)\n' } },
    };
    const inFlight = service.run({ program: slow, limits }); // counted as running at once
    // A busy machine: a single run would cost more CPU in a started sandbox than in its own.
    service.startAhead({ language: 'python', limits, forSingleRun: true });
    expect(await service.startedAhead()).toBe(0);
    // A submission's tests need a started sandbox anyway: that one starts.
    service.startAhead({ language: 'python', limits });
    expect(await service.startedAhead()).toBe(1);
    expect((await inFlight).verdict).toBe('ok');
    await service.close();
  });

  it('through the service: each runMany leaves the next one started, and close removes it', async () => {
    const service = createSandboxService({
      host,
      logger,
      startAhead: { capacity: 2, idleMs: 60_000 },
    });
    const program = { language: 'python', files: { 'main.py': { content: ECHO } } };
    for (const input of ['first', 'second', 'third']) {
      const [result] = await service.runMany({
        program,
        tests: [{ stdin: input }],
        limits: { memoryBytes: TIGHT_LIMITS.memoryBytes },
      });
      expect(text(result?.stdout ?? Buffer.alloc(0))).toBe(`${input.toUpperCase()}\n`);
      expect(await service.startedAhead()).toBe(1);
      expect(new Set(leftoverCgroups(host)).size).toBe(1);
    }
    await service.close();
    expect(await service.startedAhead()).toBe(0);
  });

  it('through the service: a single run uses a sandbox started ahead, once, and is as fresh as its own', async () => {
    const service = createSandboxService({
      host,
      logger,
      startAhead: { capacity: 2, idleMs: 60_000 },
    });
    // Each run looks for what an earlier run could have left, then leaves some of its own.
    const source = [
      'import os, subprocess, sys',
      "print(sorted(os.listdir('/tmp')), sys.stdin.read())",
      "open('/tmp/left-behind', 'w').write('x')",
      "subprocess.Popen(['/usr/bin/sleep', '31.7'], start_new_session=True)",
    ].join('\n');
    const program = { language: 'python', files: { 'main.py': { content: source } } };
    const limits = { memoryBytes: TIGHT_LIMITS.memoryBytes };
    expect(await service.startedAhead()).toBe(0);
    // Nothing started yet: a sandbox of its own, and the next one starts afterwards.
    const first = await service.run({ program, stdin: 'one', limits });
    expect([first.verdict, text(first.stdout)]).toEqual(['ok', '[] one\n']);
    expect(await service.startedAhead()).toBe(1);
    for (const [input, cpuMs] of [
      ['two', 1_000],
      ['three', 2_000],
    ] as const) {
      const [waiting] = leftoverCgroups(host);
      // Per-run CPU and wall limits do not change the shape: the started one is used.
      const result = await service.run({ program, stdin: input, limits: { ...limits, cpuMs } });
      expect([result.verdict, text(result.stdout)]).toEqual(['ok', `[] ${input}\n`]);
      expect(await service.startedAhead()).toBe(1);
      const now = new Set(leftoverCgroups(host));
      expect(now.has(waiting!), 'the sandbox it used is removed').toBe(false);
      expect(now.size).toBe(1);
    }
    // Two at once: the first to end starts nothing (the machine is busy), the last one does.
    const both = await Promise.all(
      ['four', 'five'].map((input) => service.run({ program, stdin: input, limits })),
    );
    expect(both.map((result) => result.verdict)).toEqual(['ok', 'ok']);
    expect(await service.startedAhead()).toBe(1);
    await service.close();
    expect(await service.startedAhead()).toBe(0);
    expect(sleepers(), 'background processes left running').toEqual([]);
  });
});

if (!sandbox.available) reportMissingSandbox('sandboxes started ahead', sandbox.reason);
