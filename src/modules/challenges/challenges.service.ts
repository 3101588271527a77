import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../platform/clock/clock.ts';
import { validationFailed } from '../../platform/errors/errors.ts';
import type { Principal } from '../../platform/http/access.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import type { Logger } from '../../platform/logger/logger.ts';
import type { FileStorage } from '../../platform/storage/storage.ts';
import type { ExecutionService } from '../sandbox/sandbox.execution.types.ts';
import type { CheckerName } from '../submissions/submissions.checkers.ts';
import { readTestArchive } from './challenges.archive.ts';
import { challengeNotFound, notChallengeOwner } from './challenges.errors.ts';
import {
  archiveSettings,
  challengeProblems,
  type Difficulty,
  type HiddenSpec,
  sandboxOffer,
  type WeightSpec,
} from './challenges.models.ts';
import { isStaff, mayManage } from './challenges.policies.ts';
import {
  type LoadedTest,
  presentAddedTests,
  presentChallenge,
  presentSummary,
} from './challenges.presenter.ts';
import type {
  ChallengeContent,
  ChallengesRepository,
  TestInsert,
} from './challenges.repository.ts';
import type { ChallengeInput } from './challenges.schemas.ts';
import type { ChallengeRow, ChallengeTestRow } from './challenges.tables.ts';

const MiB = 1024 * 1024;
/** Storage calls in flight at once for one request. */
const STORAGE_CONCURRENCY = 8;
const cursorSchema = z.object({ createdAt: z.iso.datetime(), id: z.string() });

/** Where a test's data lives in the storage port. */
export const testDataKey = (challengeId: string, testId: string, side: 'in' | 'out') =>
  `challenges/${challengeId}/tests/${testId}.${side}`;

/** Runs `work` over `items`, a few at a time, and waits for every call before failing. */
async function eachLimited<T, R>(items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += STORAGE_CONCURRENCY) {
    const settled = await Promise.allSettled(
      items.slice(start, start + STORAGE_CONCURRENCY).map(work),
    );
    for (const outcome of settled) {
      if (outcome.status === 'rejected') throw outcome.reason;
      results.push(outcome.value);
    }
  }
  return results;
}

export type NewTest = {
  input: string | Buffer;
  expectedOutput: string | Buffer;
  hidden: boolean;
  weight: number;
};

/** The settings judging runs a challenge's tests with. */
export type ChallengeForJudging = {
  id: string;
  title: string;
  languages: string[];
  timeLimitMs: number;
  memoryLimitMb: number;
  checker: CheckerName;
  floatTolerance: number | null;
  points: number;
  deleted: boolean;
  /** Markdown; for the feedback's prompt. */
  statement: string;
  /** Public and hidden: with none there is nothing to judge against. */
  testCount: number;
};

/** A test as the judging pipeline gets it: everything, hidden data included. */
export type JudgingTest = {
  id: string;
  /** 1-based, as submission results number their tests. */
  index: number;
  hidden: boolean;
  weight: number;
  input: Buffer;
  expectedOutput: Buffer;
};

export function createChallengesService(deps: {
  repository: ChallengesRepository;
  storage: Pick<FileStorage, 'put' | 'get' | 'deleteKeys'>;
  /** The sandbox that judges: its languages and limits bound what a challenge may ask for. */
  execution: Pick<ExecutionService, 'status' | 'limits'>;
  clock: Clock;
  logger: Logger;
}) {
  const { repository, storage } = deps;

  /** Validated content with the sandbox's defaults filled in. */
  const contentOf = async (input: ChallengeInput): Promise<ChallengeContent> => {
    const { limits } = deps.execution;
    const content = {
      languages: input.languages,
      timeLimitMs: input.timeLimitMs ?? limits.run.cpuMs,
      memoryLimitMb: input.memoryLimitMb ?? Math.floor(limits.run.memoryBytes / MiB),
      starterCode: input.starterCode,
      checker: input.checker,
      floatTolerance: input.floatTolerance,
    };
    const offer = sandboxOffer({ status: await deps.execution.status(), limits });
    const problems = challengeProblems(content, offer);
    if (problems.length > 0)
      throw validationFailed(problems, 'The challenge does not fit this sandbox.');
    return {
      title: input.title,
      statement: input.statement,
      difficulty: input.difficulty,
      ...content,
      floatTolerance: content.floatTolerance ?? null,
      points: String(input.points),
    };
  };

  const loadLive = async (id: string) => {
    const row = await repository.findLive(id);
    if (!row) throw challengeNotFound();
    return row;
  };

  const loadOwned = async (principal: Principal, id: string) => {
    const row = await loadLive(id);
    if (!mayManage(principal, row)) throw notChallengeOwner();
    return row;
  };

  const readData = async (key: string) => {
    const data = await storage.get(key);
    // Rows are written only after their data: a missing file is an infrastructure fault.
    if (!data) throw new Error(`challenge test data is missing from storage: ${key}`);
    return data;
  };

  const load = (tests: ChallengeTestRow[]): Promise<LoadedTest[]> =>
    eachLimited(tests, async (row) => ({
      row,
      input: await readData(row.inputKey),
      expectedOutput: await readData(row.outputKey),
    }));

  const present = async (row: ChallengeRow, principal: Principal) => {
    const tests = await repository.tests(row.id);
    const audience = isStaff(principal) ? 'staff' : 'student';
    // A student's response is built from public tests only: hidden data is never read for it.
    const shown = audience === 'staff' ? tests : tests.filter((test) => !test.hidden);
    return presentChallenge(row, await load(shown), audience, tests.length);
  };

  const forget = async (keys: string[]) => {
    await storage
      .deleteKeys(keys)
      .catch((error: unknown) =>
        deps.logger.warn(
          { err: error, keys: keys.length, first: keys[0] },
          'could not remove unused challenge test data',
        ),
      );
  };

  /**
   * Data first, then the rows in one transaction; if the rows cannot be written, the data
   * goes again, so storage never holds files no row points at.
   */
  const append = async (challengeId: string, tests: NewTest[]) => {
    const at = deps.clock.now();
    const prepared = tests.map((test) => {
      const id = randomUUID();
      const input = Buffer.from(test.input);
      const expectedOutput = Buffer.from(test.expectedOutput);
      return {
        input,
        expectedOutput,
        row: {
          id,
          hidden: test.hidden,
          weight: test.weight,
          inputKey: testDataKey(challengeId, id, 'in'),
          outputKey: testDataKey(challengeId, id, 'out'),
          inputBytes: input.length,
          outputBytes: expectedOutput.length,
          createdAt: at,
        } satisfies TestInsert,
      };
    });
    const keys = prepared.flatMap((test) => [test.row.inputKey, test.row.outputKey]);
    let rows: ChallengeTestRow[] | undefined;
    try {
      await eachLimited(prepared, async (test) => {
        await storage.put(test.row.inputKey, test.input);
        await storage.put(test.row.outputKey, test.expectedOutput);
      });
      rows = await repository.appendTests(
        challengeId,
        prepared.map((test) => test.row),
        at,
      );
    } catch (error) {
      await forget(keys);
      throw error;
    }
    if (!rows) {
      await forget(keys);
      throw challengeNotFound();
    }
    const byId = new Map<string, (typeof prepared)[number]>(
      prepared.map((test) => [test.row.id, test]),
    );
    return {
      testCases: presentAddedTests(
        rows.map((row) => ({
          row,
          input: byId.get(row.id)!.input,
          expectedOutput: byId.get(row.id)!.expectedOutput,
        })),
      ),
    };
  };

  return {
    async create(principal: Principal, input: ChallengeInput) {
      const at = deps.clock.now();
      const row = await repository.insert({
        id: randomUUID(),
        ...(await contentOf(input)),
        createdBy: principal.userId,
        createdAt: at,
        updatedAt: at,
      });
      return presentChallenge(row, [], 'staff', 0);
    },

    async list(
      _principal: Principal,
      input: { difficulty?: Difficulty; language?: string; limit: number; cursor?: string },
    ) {
      const after = decodeCursor(input.cursor, cursorSchema);
      const rows = await repository.list(
        {
          ...(input.difficulty ? { difficulty: input.difficulty } : {}),
          ...(input.language ? { language: input.language } : {}),
        },
        {
          limit: input.limit + 1,
          ...(after ? { after: { createdAt: new Date(after.createdAt), id: after.id } } : {}),
        },
      );
      return toPage(
        rows,
        input.limit,
        (item) => presentSummary(item.challenge, item.testCount),
        (item) => ({ createdAt: item.challenge.createdAt.toISOString(), id: item.challenge.id }),
      );
    },

    async get(principal: Principal, id: string) {
      return present(await loadLive(id), principal);
    },

    async replace(principal: Principal, id: string, input: ChallengeInput) {
      await loadOwned(principal, id);
      const row = await repository.replace(id, {
        ...(await contentOf(input)),
        updatedAt: deps.clock.now(),
      });
      if (!row) throw challengeNotFound();
      return present(row, principal);
    },

    async remove(principal: Principal, id: string) {
      await loadOwned(principal, id);
      if (!(await repository.softDelete(id, deps.clock.now()))) throw challengeNotFound();
    },

    /** Throws unless the challenge is live and this principal may change it (before an upload is read). */
    async checkManages(principal: Principal, id: string): Promise<void> {
      await loadOwned(principal, id);
    },

    async addTests(principal: Principal, id: string, tests: NewTest[]) {
      await loadOwned(principal, id);
      return append(id, tests);
    },

    async addArchive(
      principal: Principal,
      id: string,
      upload: { archive: Uint8Array; hidden: HiddenSpec; weight: WeightSpec },
    ) {
      await loadOwned(principal, id);
      const pairs = readTestArchive(upload.archive);
      const { settings, problems } = archiveSettings(
        pairs.map((pair) => pair.number),
        upload.hidden,
        upload.weight,
      );
      if (problems.length > 0)
        throw validationFailed(problems, 'The upload’s fields do not fit the archive.');
      return append(
        id,
        pairs.map((pair, index) => ({
          input: pair.input,
          expectedOutput: pair.expectedOutput,
          ...settings[index]!,
        })),
      );
    },

    /** Which of these ids are live challenges (for modules that refer to many at once). */
    async liveIds(ids: readonly string[]): Promise<Set<string>> {
      return new Set(await repository.liveIds([...new Set(ids)]));
    },

    /** Whether a live challenge has this id (for modules that refer to challenges). */
    async exists(id: string): Promise<boolean> {
      return (await repository.findLive(id)) !== undefined;
    },

    /** The challenges whose submissions an instructor sees: those they wrote. */
    async idsManagedBy(principal: Principal): Promise<string[]> {
      return repository.idsCreatedBy(principal.userId);
    },

    /** Whether this principal may change the challenge, or see everything of it others did. */
    async manages(principal: Principal, id: string): Promise<boolean> {
      const row = await repository.findLive(id);
      return row !== undefined && mayManage(principal, row);
    },

    /**
     * What judging needs of a challenge: a live one, or with `includeDeleted` also one deleted
     * since (a submission made before the delete is still judged). Null when there is none.
     */
    async find(
      id: string,
      options: { includeDeleted?: boolean } = {},
    ): Promise<ChallengeForJudging | null> {
      const row = options.includeDeleted
        ? await repository.find(id)
        : await repository.findLive(id);
      if (!row) return null;
      return {
        id: row.id,
        title: row.title,
        languages: row.languages,
        timeLimitMs: row.timeLimitMs,
        memoryLimitMb: row.memoryLimitMb,
        checker: row.checker,
        floatTolerance: row.floatTolerance,
        points: Number(row.points),
        deleted: row.deletedAt !== null,
        statement: row.statement,
        testCount: await repository.countTests(row.id),
      };
    },

    /**
     * INTERNAL, for the judging pipeline only: never expose it through a route or hand its
     * result to a presenter. Every test of the challenge (soft-deleted ones too) in judging
     * order with its data, hidden tests included.
     */
    async testsForJudging(challengeId: string): Promise<JudgingTest[]> {
      const loaded = await load(await repository.tests(challengeId));
      return loaded.map((test) => ({
        id: test.row.id,
        index: test.row.position,
        hidden: test.row.hidden,
        weight: test.row.weight,
        input: test.input,
        expectedOutput: test.expectedOutput,
      }));
    },
  };
}

export type ChallengesService = ReturnType<typeof createChallengesService>;
