import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChallengesRepository } from '../src/modules/challenges/challenges.repository.ts';
import { createChallengesService } from '../src/modules/challenges/challenges.service.ts';
import { SandboxUnavailableError } from '../src/modules/sandbox/sandbox.host.ts';
import {
  reportMissingSandbox,
  sandboxUnusable,
} from '../src/modules/sandbox/sandbox.test-utils.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, signedIn, type Tokens } from './support/auth.ts';
import { databaseKinds } from './support/databases.ts';
import { expectInvalidAt } from './support/problems.ts';

const MiB = 1024 * 1024;

const usable = await sandboxUnusable();

const marker = (what: string) => `${what}-${randomBytes(8).toString('hex')}`;

/** Every file under the storage root (relative paths), for orphan checks. */
async function storedFiles(t: TestApp): Promise<string[]> {
  const root = t.deps.storage.location;
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1))
    .filter((path) => path.startsWith('challenges/'))
    .sort();
}

const zipForm = (zip: Uint8Array, fields: Record<string, string> = {}, name = 'file') => {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  form.append(name, new Blob([zip], { type: 'application/zip' }), 'tests.zip');
  return form;
};

if (usable !== null) reportMissingSandbox('coding challenges', usable);
else
  for (const kind of databaseKinds()) {
    describe(`coding challenges (${kind})`, () => {
      let t: TestApp;
      let admin: Tokens;
      let author: Tokens;
      let otherInstructor: Tokens;
      let student: Tokens;
      let languages: string[];
      let limits: { maxCpuMs: number; maxMemoryMb: number };

      beforeAll(async () => {
        t = await createTestApp({ database: kind });
        admin = await signedIn(t, 'admin');
        author = await signedIn(t, 'instructor');
        otherInstructor = await signedIn(t, 'instructor');
        student = await signedIn(t, 'student');
        languages = (await t.deps.execution.status()).languages.map((language) => language.id);
        limits = {
          maxCpuMs: t.deps.execution.limits.maxCpuMs,
          maxMemoryMb: t.deps.execution.limits.maxMemoryBytes / MiB,
        };
      });
      afterAll(async () => {
        await t?.close();
      });

      const valid = (overrides: Record<string, unknown> = {}) => ({
        title: 'A + B',
        statement: '# Sum\n\nRead two integers, print their sum.',
        difficulty: 'easy',
        languages: languages.slice(0, 2),
        starterCode: { [languages[0]!]: '# your code here\n' },
        checker: 'tokens',
        points: 50,
        ...overrides,
      });
      const create = (payload: Record<string, unknown>, who: Tokens = author) =>
        t.app.inject({ method: 'POST', url: '/api/v1/challenges', headers: bearer(who), payload });
      const get = (id: string, who: Tokens) =>
        t.app.inject({ method: 'GET', url: `/api/v1/challenges/${id}`, headers: bearer(who) });
      const list = (query: string, who: Tokens) =>
        t.app.inject({ method: 'GET', url: `/api/v1/challenges?${query}`, headers: bearer(who) });
      const remove = (id: string, who: Tokens) =>
        t.app.inject({ method: 'DELETE', url: `/api/v1/challenges/${id}`, headers: bearer(who) });
      const addJson = (id: string, payload: unknown, who: Tokens = author) =>
        t.app.inject({
          method: 'POST',
          url: `/api/v1/challenges/${id}/testcases`,
          headers: bearer(who),
          payload: payload as Record<string, unknown>,
        });
      const addZip = (id: string, form: FormData, who: Tokens = author) =>
        t.app.inject({
          method: 'POST',
          url: `/api/v1/challenges/${id}/testcases`,
          headers: bearer(who),
          payload: form,
        });
      const newChallenge = async (overrides: Record<string, unknown> = {}) => {
        const response = await create(valid(overrides));
        expect(response.statusCode, response.body).toBe(201);
        return response.json() as { id: string };
      };

      it('creates with the sandbox defaults filled in; staff see everything', async () => {
        const response = await create(valid({ timeLimitMs: undefined }));
        expect(response.statusCode, response.body).toBe(201);
        const challenge = response.json();
        expect(challenge).toMatchObject({
          title: 'A + B',
          difficulty: 'easy',
          languages: languages.slice(0, 2),
          timeLimitMs: t.deps.execution.limits.run.cpuMs,
          memoryLimitMb: t.deps.execution.limits.run.memoryBytes / MiB,
          checker: 'tokens',
          points: 50,
          testCaseCount: 0,
          examples: [],
          testCases: [],
          createdBy: author.user.id,
        });
        expect(challenge).not.toHaveProperty('floatTolerance');
        const defaults = (
          await create({ title: 'T', statement: 'S', languages: [languages[0]] })
        ).json();
        expect(defaults).toMatchObject({
          difficulty: 'medium',
          checker: 'trim',
          points: 100,
          starterCode: {},
        });
      });

      it('lets anyone signed in list and read, only staff create, only the author or an admin change', async () => {
        const { id } = await newChallenge({ title: 'Owned by the author' });
        expect((await create(valid(), student)).statusCode).toBe(403);
        const anonymous = await t.app.inject({ method: 'GET', url: '/api/v1/challenges' });
        expect(anonymous.statusCode).toBe(401);

        const listed = await list('limit=100', student);
        expect(listed.statusCode).toBe(200);
        const item = listed.json().items.find((entry: { id: string }) => entry.id === id);
        expect(item).toMatchObject({ title: 'Owned by the author', testCaseCount: 0 });
        expect(item).not.toHaveProperty('statement');
        const read = await get(id, student);
        expect(read.statusCode).toBe(200);
        expect(read.json()).toMatchObject({ id, statement: valid().statement, examples: [] });
        expect(read.json()).not.toHaveProperty('testCases');

        const replacement = valid({ title: 'Replaced', checker: 'float', floatTolerance: 1e-6 });
        const put = (who: Tokens) =>
          t.app.inject({
            method: 'PUT',
            url: `/api/v1/challenges/${id}`,
            headers: bearer(who),
            payload: replacement,
          });
        expect((await put(otherInstructor)).statusCode).toBe(403);
        expect((await put(student)).statusCode).toBe(403);
        expect((await remove(id, otherInstructor)).statusCode).toBe(403);
        expect(
          (await addJson(id, [{ input: '1', expectedOutput: '1' }], otherInstructor)).statusCode,
        ).toBe(403);
        const pair = zipSync({ '1.in': strToU8('1'), '1.out': strToU8('1') });
        expect((await addZip(id, zipForm(pair), otherInstructor)).statusCode).toBe(403);
        expect((await addJson(id, [{ input: '1', expectedOutput: '1' }], student)).statusCode).toBe(
          403,
        );
        expect((await addZip(id, zipForm(pair), admin)).statusCode).toBe(201);
        const byAuthor = await put(author);
        expect(byAuthor.statusCode, byAuthor.body).toBe(200);
        expect(byAuthor.json()).toMatchObject({
          title: 'Replaced',
          checker: 'float',
          floatTolerance: 1e-6,
        });
        const byAdmin = await t.app.inject({
          method: 'PUT',
          url: `/api/v1/challenges/${id}`,
          headers: bearer(admin),
          payload: valid({ title: 'Fixed by an admin' }),
        });
        expect(byAdmin.statusCode, byAdmin.body).toBe(200);
        expect(byAdmin.json()).toMatchObject({
          title: 'Fixed by an admin',
          createdBy: author.user.id,
        });
        expect(byAdmin.json()).not.toHaveProperty('floatTolerance');
      });

      it('pages newest first and filters by difficulty and language', async () => {
        const hard = [];
        for (let index = 0; index < 3; index++) {
          t.clock.advance(1_000);
          hard.push((await newChallenge({ title: `Hard ${index}`, difficulty: 'hard' })).id);
        }
        const page = async (query: string) => {
          const response = await list(`${query}`, student);
          expect(response.statusCode, response.body).toBe(200);
          return response.json() as { items: Array<{ id: string }>; nextCursor: string | null };
        };
        const first = await page('difficulty=hard&limit=2');
        expect(first.items.map((item) => item.id)).toEqual([hard[2], hard[1]]);
        const second = await page(
          `difficulty=hard&limit=2&cursor=${encodeURIComponent(first.nextCursor!)}`,
        );
        expect(second.items.map((item) => item.id)).toEqual([hard[0]]);
        expect(second.nextCursor).toBeNull();
        const other = languages.find((language) => !valid().languages.includes(language));
        if (other) expect((await page(`language=${other}`)).items).toEqual([]);
        expect((await page(`language=${languages[0]}&limit=100`)).items.length).toBeGreaterThan(3);
      });

      it('refuses content that does not fit the sandbox, naming the field', async () => {
        expectInvalidAt(
          await create(valid({ languages: [languages[0], 'cobol-85'] })),
          'body.languages[1]',
          'unknown language',
        );
        expectInvalidAt(
          await create(valid({ languages: [languages[0], languages[0]] })),
          'body.languages[1]',
          'language listed twice',
        );
        expectInvalidAt(
          await create(valid({ checker: 'float' })),
          'body.floatTolerance',
          'float without tolerance',
        );
        expectInvalidAt(
          await create(valid({ checker: 'float', floatTolerance: -0.1 })),
          'body.floatTolerance',
          'negative tolerance',
        );
        expectInvalidAt(
          await create(valid({ checker: 'exact', floatTolerance: 0.1 })),
          'body.floatTolerance',
          'tolerance without float',
        );
        expectInvalidAt(
          await create(valid({ timeLimitMs: limits.maxCpuMs + 1 })),
          'body.timeLimitMs',
          'time limit above the sandbox maximum',
        );
        expectInvalidAt(
          await create(valid({ memoryLimitMb: limits.maxMemoryMb + 1 })),
          'body.memoryLimitMb',
          'memory limit above the sandbox maximum',
        );
        expectInvalidAt(
          await create(valid({ starterCode: { 'not-a-language-here': 'x' } })),
          'body.starterCode.not-a-language-here',
          'starter code for a language the challenge does not take',
        );
        expectInvalidAt(await create(valid({ checker: 'fuzzy' })), 'body.checker', 'checker');
        const unknown = await create(valid({ hiddenTests: [] }));
        expect(unknown.statusCode).toBe(400);
        expect(JSON.stringify(unknown.json().errors)).toContain('hiddenTests');
        const { id } = await newChallenge();
        expectInvalidAt(
          await addJson(id, [{ input: '1', expectedOutput: '1', secret: true }]),
          'body[0]',
          'unknown test case field',
        );
        expectInvalidAt(
          await addJson(id, [{ input: '1', expectedOutput: '1', weight: -1 }]),
          'body[0].weight',
          'negative weight',
        );
        expectInvalidAt(await addJson(id, []), 'body', 'no test cases');
      });

      it('adds tests by JSON and by zip, in order, with hidden flags and weights', async () => {
        const { id } = await newChallenge();
        const json = await addJson(id, [
          { input: '1 2\n', expectedOutput: '3\n' },
          { input: '5 5\n', expectedOutput: '10\n', hidden: true, weight: 2 },
        ]);
        expect(json.statusCode, json.body).toBe(201);
        expect(json.json().testCases).toMatchObject([
          { index: 1, input: '1 2\n', expectedOutput: '3\n', hidden: false, weight: 1 },
          { index: 2, input: '5 5\n', expectedOutput: '10\n', hidden: true, weight: 2 },
        ]);

        const zip = zipSync({
          '1.in': strToU8('10 20\n'),
          '1.out': strToU8('30\n'),
          '2.in': strToU8('-1 1\n'),
          '2.out': strToU8('0\n'),
          '10.in': strToU8('7 8\n'),
          '10.out': strToU8('15\n'),
        });
        const upload = await addZip(id, zipForm(zip, { hidden: '2,10', weight: '1:0,10:3' }));
        expect(upload.statusCode, upload.body).toBe(201);
        expect(upload.json().testCases).toMatchObject([
          { index: 3, input: '10 20\n', hidden: false, weight: 0 },
          { index: 4, input: '-1 1\n', hidden: true, weight: 1 },
          { index: 5, input: '7 8\n', expectedOutput: '15\n', hidden: true, weight: 3 },
        ]);
        const allHidden = await addZip(
          id,
          zipForm(zipSync({ '1.in': strToU8('0 0\n'), '1.out': strToU8('0\n') }), {
            hidden: 'true',
            weight: '4',
          }),
        );
        expect(allHidden.json().testCases).toMatchObject([{ index: 6, hidden: true, weight: 4 }]);

        const staff = (await get(id, otherInstructor)).json();
        expect(staff.testCaseCount).toBe(6);
        expect(
          staff.testCases.map((test: { index: number; hidden: boolean }) => [
            test.index,
            test.hidden,
          ]),
        ).toEqual([
          [1, false],
          [2, true],
          [3, false],
          [4, true],
          [5, true],
          [6, true],
        ]);
        expect(staff.examples.map((test: { index: number }) => test.index)).toEqual([1, 3]);
        const studentView = (await get(id, student)).json();
        expect(studentView.examples).toEqual(staff.examples);
        expect(studentView.testCaseCount).toBe(6);
        const listed = (await list('limit=100', student)).json();
        expect(listed.items.find((item: { id: string }) => item.id === id).testCaseCount).toBe(6);

        const files = (await storedFiles(t)).filter((path) => path.startsWith(`challenges/${id}/`));
        expect(files).toHaveLength(12);
        for (const test of staff.testCases)
          expect(files).toContain(`challenges/${id}/tests/${test.id}.in`);
      });

      it('refuses archives that escape, pair badly, are not zips or unpack too far', async () => {
        const { id } = await newChallenge();
        const before = await storedFiles(t);

        const traversal = await addZip(
          id,
          zipForm(
            zipSync({
              '../1.in': strToU8('x'),
              '1.out': strToU8('y'),
              'nested/2.in': strToU8('x'),
              '/etc/3.in': strToU8('x'),
            }),
          ),
        );
        expectInvalidAt(traversal, 'body.file', 'traversal');
        const messages = JSON.stringify(traversal.json().errors);
        for (const name of ['../1.in', 'nested/2.in', '/etc/3.in'])
          expect(messages).toContain(name);

        const unpaired = await addZip(
          id,
          zipForm(
            zipSync({
              '1.in': strToU8('1'),
              '1.out': strToU8('1'),
              '2.in': strToU8('2'),
              '3.out': strToU8('3'),
            }),
          ),
        );
        expectInvalidAt(unpaired, 'body.file', 'unpaired');
        expect(unpaired.json().errors).toEqual([
          { path: 'body.file', message: '"2.in" has no matching .out file' },
          { path: 'body.file', message: '"3.out" has no matching .in file' },
        ]);

        const bomb = zipSync({ '1.in': new Uint8Array(65 * MiB), '1.out': strToU8('0') });
        expect(bomb.length).toBeLessThan(MiB);
        const exploded = await addZip(id, zipForm(bomb));
        expect(exploded.statusCode, exploded.body).toBe(413);
        expect(exploded.json()).toMatchObject({ code: 'ARCHIVE_TOO_LARGE' });
        expect(exploded.json().detail).toContain('1.in');

        const zeros = new Uint8Array(60 * MiB);
        const total = await addZip(
          id,
          zipForm(zipSync({ '1.in': zeros, '1.out': zeros, '2.in': zeros, '2.out': zeros })),
        );
        expect(total.statusCode).toBe(413);
        expect(total.json().code).toBe('ARCHIVE_TOO_LARGE');

        const many: Record<string, Uint8Array> = {};
        for (let index = 1; index <= 501; index++) {
          many[`${index}.in`] = strToU8(String(index));
          many[`${index}.out`] = strToU8(String(index));
        }
        const crowded = await addZip(id, zipForm(zipSync(many)));
        expect(crowded.statusCode).toBe(413);
        expect(crowded.json().detail).toContain('1000 entries');

        const packed = await addZip(id, zipForm(randomBytes(21 * MiB)));
        expect(packed.statusCode).toBe(413);
        expect(packed.json().code).toBe('PAYLOAD_TOO_LARGE');

        expectInvalidAt(await addZip(id, zipForm(strToU8('not a zip'))), 'body.file', 'not a zip');
        const twice = zipForm(strToU8('not read'));
        twice.append('file', new Blob([strToU8('again')], { type: 'application/zip' }), 'b.zip');
        expectInvalidAt(await addZip(id, twice), 'body.file', 'two files');
        // A JSON body has the limit of every JSON body; big tests go in a zip.
        const bigJson = await addJson(id, [
          { input: 'x'.repeat(2 * MiB), expectedOutput: '', hidden: true },
        ]);
        expect(bigJson.statusCode, bigJson.body).toBe(413);
        expect(bigJson.json().code).toBe('PAYLOAD_TOO_LARGE');
        const pair = zipSync({ '1.in': strToU8('1'), '1.out': strToU8('1') });
        expectInvalidAt(
          await addZip(id, zipForm(pair, { hidden: '1,7' })),
          'body.hidden',
          'hidden names a test the archive lacks',
        );
        expectInvalidAt(
          await addZip(id, zipForm(pair, { weight: '1:lots' })),
          'body.weight',
          'bad weight',
        );
        expectInvalidAt(
          await addZip(id, zipForm(pair, { visibility: 'hidden' })),
          'body.visibility',
          'unknown field',
        );
        expectInvalidAt(
          await addZip(id, zipForm(pair, {}, 'tests')),
          'body.tests',
          'wrong file field',
        );

        expect((await get(id, author)).json().testCaseCount).toBe(0);
        expect(await storedFiles(t)).toEqual(before);
      }, 60_000);

      it('never lets a hidden input or expected output reach a student', async () => {
        const { id } = await newChallenge({ title: 'Leak check' });
        const secrets = {
          jsonInput: marker('hidden-json-input'),
          jsonOutput: marker('hidden-json-output'),
          zipInput: marker('hidden-zip-input'),
          zipOutput: marker('hidden-zip-output'),
        };
        const shown = { input: marker('public-input'), output: marker('public-output') };
        expect(
          (
            await addJson(id, [
              { input: shown.input, expectedOutput: shown.output },
              { input: secrets.jsonInput, expectedOutput: secrets.jsonOutput, hidden: true },
            ])
          ).statusCode,
        ).toBe(201);
        expect(
          (
            await addZip(
              id,
              zipForm(
                zipSync({
                  '1.in': strToU8(secrets.zipInput),
                  '1.out': strToU8(secrets.zipOutput),
                }),
                { hidden: 'true' },
              ),
            )
          ).statusCode,
        ).toBe(201);

        const bodies = [
          (await get(id, student)).body,
          (await list('limit=100', student)).body,
          (await list(`limit=100&language=${languages[0]}`, student)).body,
        ];
        for (const body of bodies)
          for (const [name, secret] of Object.entries(secrets))
            expect(body.includes(secret), `${name} leaked: ${body.slice(0, 300)}`).toBe(false);
        expect(bodies[0]).toContain(shown.input);
        expect(bodies[0]).toContain(shown.output);
        // The markers are real: staff do see them.
        const staff = (await get(id, author)).body;
        for (const secret of Object.values(secrets)) expect(staff).toContain(secret);
      });

      it('soft-deletes: 404 to everyone, data kept for judging', async () => {
        const { id } = await newChallenge();
        await addJson(id, [
          { input: 'a', expectedOutput: 'A' },
          { input: 'b', expectedOutput: 'B', hidden: true, weight: 5 },
        ]);
        const removed = await remove(id, author);
        expect(removed.statusCode).toBe(204);
        for (const who of [student, author, admin])
          expect((await get(id, who)).statusCode).toBe(404);
        expect((await remove(id, admin)).statusCode).toBe(404);
        expect((await addJson(id, [{ input: 'c', expectedOutput: 'C' }], admin)).statusCode).toBe(
          404,
        );
        const listed = await list('limit=100', admin);
        expect(listed.json().items.map((item: { id: string }) => item.id)).not.toContain(id);

        expect(await t.deps.challenges.find(id)).toBeNull();
        expect(await t.deps.challenges.find(id, { includeDeleted: true })).toMatchObject({
          id,
          deleted: true,
          checker: 'tokens',
          points: 50,
        });
        const tests = await t.deps.challenges.testsForJudging(id);
        expect(
          tests.map((test) => [
            test.index,
            test.hidden,
            test.weight,
            test.input.toString(),
            test.expectedOutput.toString(),
          ]),
        ).toEqual([
          [1, false, 1, 'a', 'A'],
          [2, true, 5, 'b', 'B'],
        ]);
      });

      it('leaves no test data behind when the rows cannot be written', async () => {
        const { id } = await newChallenge();
        const real = createChallengesRepository(t.deps.database.db);
        const failing = createChallengesService({
          repository: {
            ...real,
            appendTests: async () => {
              throw new Error('database went away');
            },
          },
          storage: t.deps.storage,
          execution: t.deps.execution,
          clock: t.clock,
          logger: t.deps.logger,
        });
        const principal = {
          userId: author.user.id,
          role: 'instructor' as const,
          email: '',
          name: '',
        };
        const before = await storedFiles(t);
        await expect(
          failing.addTests(principal, id, [
            { input: '1', expectedOutput: '1', hidden: false, weight: 1 },
            { input: '2', expectedOutput: '2', hidden: true, weight: 1 },
          ]),
        ).rejects.toThrow('database went away');
        expect(await storedFiles(t)).toEqual(before);

        // Deleted between the ownership check and the write: refused, and nothing stays.
        const racing = createChallengesService({
          repository: {
            ...real,
            appendTests: async (challengeId, rows, at) => {
              await real.softDelete(challengeId, at);
              return real.appendTests(challengeId, rows, at);
            },
          },
          storage: t.deps.storage,
          execution: t.deps.execution,
          clock: t.clock,
          logger: t.deps.logger,
        });
        await expect(
          racing.addTests(principal, id, [
            { input: '1', expectedOutput: '1', hidden: false, weight: 1 },
          ]),
        ).rejects.toMatchObject({ code: 'CHALLENGE_NOT_FOUND' });
        expect(await storedFiles(t)).toEqual(before);
      });
    });
  }

describe('coding challenges on a machine without a usable sandbox', () => {
  it('refuses every language, saying why', async () => {
    const t = await createTestApp({
      detectSandboxHost: () =>
        Promise.reject(new SandboxUnavailableError('bwrap is not installed')),
    });
    try {
      const instructor = await signedIn(t, 'instructor');
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/challenges',
        headers: bearer(instructor),
        payload: { title: 'T', statement: 'S', languages: ['python'] },
      });
      expectInvalidAt(response, 'body.languages[0]', 'no sandbox');
      expect(response.json().errors[0].message).toContain('bwrap is not installed');
    } finally {
      await t.close();
    }
  });
});
