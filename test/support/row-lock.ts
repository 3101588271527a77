import type { SQL } from 'drizzle-orm';
import type { Database } from '../../src/platform/db/database.ts';

/**
 * Takes the row locks of `lockingQuery` (a `select … for update`) in a transaction of its own and
 * holds them until `release()`, as a concurrent writer would (a submit, a worker completing a
 * job). Resolves once the locks are held. PostgreSQL only: the embedded database has a single
 * connection, so nothing else could run meanwhile.
 */
export async function holdRowLock(db: Database, lockingQuery: SQL) {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let locked: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const holder = db.transaction(async (tx) => {
    await tx.execute(lockingQuery);
    locked();
    await released;
  });
  // A failing lock query must fail the test, not leave it waiting for `held`.
  await Promise.race([held, holder]);
  return {
    async release() {
      release();
      await holder;
    },
  };
}
