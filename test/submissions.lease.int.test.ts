import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubmissionsRepository } from '../src/modules/submissions/submissions.repository.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.ts';

const judged = {
  status: 'completed' as const,
  verdict: 'accepted' as const,
  score: 10,
  tests: [],
  compileOutput: null,
  feedback: null,
  finishedAt: new Date(),
};

// The submission row is its judge job's record: these are the claim rules the judge and the
// sweeper rely on, against the real database.
describe.each(databaseKinds())('a submission’s judge claim, on %s', (kind) => {
  let database: TestDatabase;
  let repository: ReturnType<typeof createSubmissionsRepository>;

  const add = async () => {
    const row = await repository.insert(database.db, {
      id: randomUUID(),
      challengeId: 'challenge',
      userId: 'student',
      language: 'python',
      source: 'print(1)\n',
      status: 'queued',
      maxScore: '10',
      createdAt: new Date(),
    });
    return row.id;
  };
  /** What a judge that died leaves: its lease ran out `ago` before now. */
  const expire = (id: string, ago = '1 second') =>
    database.db.execute(
      sql`update submissions set lease_until = now() - ${ago}::interval where id = ${id}`,
    );
  const claim = (id: string, holder: string) =>
    repository.claim({ id, holder, leaseMs: 60_000, now: new Date() });
  const finish = (id: string, holder: string | null) =>
    database.db.transaction((tx) => repository.finish(tx, id, judged, holder));
  const strandedIds = async (graceMs: number) =>
    (await repository.stranded({ graceMs, limit: 1_000, maxTries: 5 })).map((row) => row.id);

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    repository = createSubmissionsRepository(database.db);
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('lets one judge hold it; one whose judge died is taken over, and the dead one writes nothing', async () => {
    const id = await add();
    expect(await claim(id, 'a')).toMatchObject({ status: 'running', tries: 1, leasedBy: 'a' });
    expect(await claim(id, 'b')).toBeNull();
    await expire(id);
    expect(await claim(id, 'b')).toMatchObject({ tries: 2, leasedBy: 'b' });
    expect(await repository.extendLease(id, 'a', 60_000)).toBe(false);
    expect(await finish(id, 'a')).toBe(false);
    // Nor does a give-up overwrite the live judge's work.
    expect(await finish(id, null)).toBe(false);
    expect(await finish(id, 'b')).toBe(true);
    expect(await repository.find(id)).toMatchObject({ status: 'completed', leasedBy: null });
    expect(await claim(id, 'c')).toBeNull();
  });

  it('frees a released claim at once, and a late heartbeat does not take it back', async () => {
    const id = await add();
    await claim(id, 'a');
    expect(await repository.extendLease(id, 'a', 60_000)).toBe(true);
    await repository.release(id, 'a');
    expect(await repository.extendLease(id, 'a', 60_000)).toBe(false);
    expect(await claim(id, 'b')).toMatchObject({ tries: 2, leasedBy: 'b' });
    await repository.release(id, 'b');
    // With nobody holding it, a give-up may end it.
    expect(await finish(id, null)).toBe(true);
  });

  it('offers the sweeper what waited past the grace or lost its judge, and nothing live', async () => {
    const fresh = await add();
    const waited = await add();
    await expire(waited, '2 minutes');
    const held = await add();
    await claim(held, 'a');
    const died = await add();
    await claim(died, 'a');
    await expire(died, '2 minutes');
    const diedJustNow = await add();
    await claim(diedJustNow, 'a');
    await expire(diedJustNow, '1 second');
    // Left running by the judge before leases existed: no lease, old.
    const legacy = await add();
    await database.db.execute(
      sql`update submissions set status = 'running', lease_until = null,
        created_at = now() - interval '1 hour' where id = ${legacy}`,
    );
    const spent = await add();
    await database.db.execute(
      sql`update submissions set tries = 6, lease_until = now() - interval '1 hour' where id = ${spent}`,
    );
    const done = await add();
    await claim(done, 'a');
    await finish(done, 'a');

    const afterGrace = await strandedIds(60_000);
    expect(afterGrace).toEqual(expect.arrayContaining([waited, died, legacy]));
    for (const id of [fresh, held, diedJustNow, spent, done]) expect(afterGrace).not.toContain(id);
    const noGrace = await strandedIds(0);
    expect(noGrace).toEqual(expect.arrayContaining([fresh, waited, died, diedJustNow, legacy]));
    for (const id of [held, spent, done]) expect(noGrace).not.toContain(id);
  });
});
