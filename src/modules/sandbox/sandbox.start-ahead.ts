import type { Logger } from '../../platform/logger/logger.ts';
import {
  type BatchSandbox,
  type BatchShape,
  batchShapeKey,
  startBatchSandbox,
} from './sandbox.batch.ts';
import type { SandboxHost } from './sandbox.host.ts';

/**
 * Per-submission sandboxes started ahead of need (sandbox.spec.md, "Started ahead"): starting a
 * sandbox (cgroup moves, bwrap's mounts, the supervisor) is most of what a small batch costs, so
 * after a batch the next one of the same shape is started while the worker waits for work, and a
 * judge can start one while it compiles. Each sandbox serves ONE batch and is then removed: none
 * is ever handed back. Unused ones are removed after `idleMs`.
 */
export function createStartAheadPool(options: {
  host: SandboxHost;
  logger: Logger;
  /** Started-ahead sandboxes kept at most, all shapes together (the oldest goes first). */
  capacity: number;
  idleMs: number;
}) {
  const { host, capacity, idleMs } = options;
  const logger = options.logger.child({ component: 'sandbox', kind: 'start-ahead' });
  type Idle = { sandbox: BatchSandbox; timer: NodeJS.Timeout };
  /** A start in flight: a batch that cannot wait for one to be kept may claim it. */
  type Start = {
    key: string;
    claimed: boolean;
    done: Promise<BatchSandbox | null>;
    /** Settles once an unclaimed sandbox is kept (or removed). */
    settled: Promise<void>;
  };
  /** Oldest first. */
  const idle: Idle[] = [];
  const starting = new Set<Start>();
  let closed = false;

  const remove = (entry: Idle) => {
    clearTimeout(entry.timer);
    const index = idle.indexOf(entry);
    if (index >= 0) idle.splice(index, 1);
    return entry.sandbox.dispose();
  };

  const keep = (sandbox: BatchSandbox) => {
    if (closed || !sandbox.alive()) return sandbox.dispose();
    while (idle.length >= capacity && idle[0]) void remove(idle[0]);
    const entry: Idle = {
      sandbox,
      timer: setTimeout(() => void remove(entry), idleMs),
    };
    entry.timer.unref();
    idle.push(entry);
    return Promise.resolve();
  };

  const start = (key: string, shape: BatchShape): Start => {
    const record: Start = {
      key,
      claimed: false,
      settled: Promise.resolve(),
      done: (async () => {
        try {
          const sandbox = await startBatchSandbox({ host, shape, logger: options.logger });
          try {
            await sandbox.ready;
          } catch (error) {
            logger.warn({ err: error }, 'a sandbox started ahead did not start');
            await sandbox.dispose();
            return null;
          }
          return sandbox;
        } catch (error) {
          logger.warn({ err: error }, 'a sandbox could not be started ahead');
          return null;
        }
      })(),
    };
    starting.add(record);
    record.settled = record.done.then(async (sandbox) => {
      starting.delete(record);
      if (sandbox && !record.claimed) await keep(sandbox);
    });
    return record;
  };

  return {
    /**
     * A started sandbox for this shape, taken out of the pool (the caller disposes it), or null.
     * One still starting is waited for: it is further along than a new one would be.
     */
    async take(shape: BatchShape): Promise<BatchSandbox | null> {
      const key = batchShapeKey(shape);
      for (let index = idle.length - 1; index >= 0; index -= 1) {
        const entry = idle[index];
        if (entry?.sandbox.key !== key) continue;
        clearTimeout(entry.timer);
        idle.splice(index, 1);
        if (entry.sandbox.alive()) return entry.sandbox;
        await entry.sandbox.dispose();
      }
      const pending = [...starting].find((record) => record.key === key && !record.claimed);
      if (!pending) return null;
      pending.claimed = true;
      const sandbox = await pending.done;
      if (sandbox?.alive()) return sandbox;
      await sandbox?.dispose();
      return null;
    },

    /**
     * Starts one sandbox of this shape in the background, unless `capacity` of it are kept or on
     * their way already (as many as the batches that can run at once).
     */
    prepare(shape: BatchShape): void {
      if (closed || capacity === 0) return;
      const key = batchShapeKey(shape);
      const kept = idle.filter((entry) => entry.sandbox.key === key).length;
      const coming = [...starting].filter((record) => record.key === key && !record.claimed);
      if (kept + coming.length >= capacity) return;
      start(key, shape);
    },

    /** Settles once every sandbox being started is ready (or failed): nothing runs behind. */
    async settled(): Promise<void> {
      await Promise.allSettled([...starting].map((record) => record.settled));
    },

    /** How many are kept ready now. */
    size: () => idle.length,

    /** Removes every kept sandbox and stops starting new ones. */
    async close(): Promise<void> {
      closed = true;
      await Promise.allSettled([...starting].map((record) => record.settled));
      await Promise.all([...idle].map(remove));
    },
  };
}

export type StartAheadPool = ReturnType<typeof createStartAheadPool>;
