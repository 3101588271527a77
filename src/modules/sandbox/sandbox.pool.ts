/**
 * A fixed number of sandboxes shared fairly: each owner (a user, a Judge0 key, the judge) waits
 * in its own line and free slots go to the lines in turn, so one client queueing a hundred runs
 * delays another client's single run by at most one run per slot.
 */
export class PoolFullError extends Error {
  override name = 'PoolFullError';
}

interface Task {
  start: () => void;
}

export function createFairPool(options: { size: number; maxQueued: number }) {
  if (!Number.isInteger(options.size) || options.size < 1) throw new Error('pool size must be ≥ 1');
  const lines = new Map<string, Task[]>();
  /** Owners with waiting work, in the order they are served next. */
  const turn: string[] = [];
  let running = 0;
  let queued = 0;

  const next = () => {
    while (running < options.size && turn.length > 0) {
      const owner = turn.shift() as string;
      const line = lines.get(owner) as Task[];
      const task = line.shift() as Task;
      queued--;
      if (line.length > 0) turn.push(owner);
      else lines.delete(owner);
      running++;
      task.start();
    }
  };

  return {
    /** Runs `work` when a slot is free; throws `PoolFullError` at once when the queue is full. */
    run<T>(owner: string, work: () => Promise<T>): Promise<T> {
      if (running >= options.size && queued >= options.maxQueued) {
        return Promise.reject(new PoolFullError(`${queued} runs are waiting`));
      }
      return new Promise<T>((resolve, reject) => {
        const task: Task = {
          start: () => {
            work()
              .then(resolve, reject)
              .finally(() => {
                running--;
                next();
              });
          },
        };
        const line = lines.get(owner);
        if (line) line.push(task);
        else {
          lines.set(owner, [task]);
          turn.push(owner);
        }
        queued++;
        next();
      });
    },
    stats: () => ({ size: options.size, running, queued }),
  };
}

export type FairPool = ReturnType<typeof createFairPool>;
