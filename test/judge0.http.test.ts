import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appSchedules } from '../src/jobs.ts';
import { createJudge0JobHandlers } from '../src/modules/judge0/judge0.jobs.ts';
import { KEY_OWNER } from '../src/modules/judge0/judge0.models.ts';
import { createJudge0Repository } from '../src/modules/judge0/judge0.repository.ts';
import {
  reportMissingSandbox,
  sandboxUnusable,
} from '../src/modules/sandbox/sandbox.test-utils.ts';
import { createSubmissionsJobHandlers } from '../src/modules/submissions/submissions.jobs.ts';
import type { RunningWorker } from '../src/platform/queue/job-queue.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, signedIn, type Tokens } from './support/auth.ts';
import { databaseKinds } from './support/databases.ts';

const KEY = 'judge0-test-key-0123456789';
const key = { 'x-auth-token': KEY };
const b64 = (text: string) => Buffer.from(text).toString('base64');
const unb64 = (text: string) => Buffer.from(text, 'base64').toString();

const A_PLUS_B = {
  python: 'a, b = map(int, input().split())\nprint(a + b)\n',
  c: '#include <stdio.h>\nint main(void) { long a, b; scanf("%ld %ld", &a, &b); printf("%ld\\n", a + b); return 0; }\n',
};

const sandboxProblem = await sandboxUnusable();

type Submission = Record<string, unknown> & { status?: { id: number; description: string } };

describe.each(databaseKinds())('the Judge0-compatible surface on %s', (kind) => {
  let t: TestApp;
  let student: Tokens;
  let other: Tokens;
  let worker: RunningWorker;
  beforeAll(async () => {
    t = await createTestApp({
      database: kind,
      env: { JUDGE0_AUTH_TOKEN: KEY, RATE_LIMIT_RUNS_PER_MINUTE: '1000' },
    });
    student = await signedIn(t, 'student');
    other = await signedIn(t, 'student');
    worker = await t.deps.jobs.startWorker({
      // The judge queue also carries challenge submissions: its worker handles both.
      handlers: { ...createJudge0JobHandlers(t.deps), ...createSubmissionsJobHandlers(t.deps) },
      queues: ['judge'],
      concurrency: 2,
    });
  });
  afterAll(async () => {
    await worker?.close(5_000);
    await t?.close();
  });

  const post = (url: string, payload: unknown, headers: Record<string, string> = key) =>
    t.app.inject({ method: 'POST', url, headers, payload: payload as Record<string, unknown> });
  const get = (url: string, headers: Record<string, string> = key) =>
    t.app.inject({ method: 'GET', url, headers });

  it('refuses callers without credentials or with a wrong X-Auth-Token', async () => {
    for (const [method, url] of [
      ['GET', '/judge0/languages'],
      ['GET', '/judge0/submissions/some-token'],
      ['POST', '/judge0/submissions'],
    ] as const) {
      const anonymous = await t.app.inject({
        method,
        url,
        payload: method === 'POST' ? {} : undefined,
      });
      expect(anonymous.statusCode, `${method} ${url}`).toBe(401);
      const wrong = await t.app.inject({
        method,
        url,
        headers: { 'x-auth-token': `${KEY}-not` },
        ...(method === 'POST' ? { payload: {} } : {}),
      });
      expect(wrong.statusCode, `${method} ${url} wrong key`).toBe(401);
      // A valid bearer token does not make a wrong key right.
      const both = await t.app.inject({
        method,
        url,
        headers: { 'x-auth-token': 'nope', ...bearer(student) },
        ...(method === 'POST' ? { payload: {} } : {}),
      });
      expect(both.statusCode).toBe(401);
    }
    expect((await get('/judge0/statuses')).statusCode).toBe(200);
    expect((await get('/judge0/statuses', bearer(student))).statusCode).toBe(200);
    // The key is never echoed or logged.
    expect(JSON.stringify(t.logs)).not.toContain(KEY);
  });

  it('lists statuses 1–14, the version and a config with the limits Assay enforces', async () => {
    const statuses = (await get('/judge0/statuses')).json() as Array<{ id: number }>;
    expect(statuses.map((status) => status.id)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    ]);
    expect(statuses[5]).toEqual({ id: 6, description: 'Compilation Error' });
    expect((await get('/judge0/about')).json()).toMatchObject({ version: '1.13.1' });
    const config = (await get('/judge0/config_info')).json() as Record<string, unknown>;
    const { limits } = t.deps.execution;
    expect(config).toMatchObject({
      enable_wait_result: true,
      enable_batched_submissions: true,
      max_submission_batch_size: 20,
      enable_network: false,
      allow_enable_network: false,
      cpu_time_limit: limits.run.cpuMs / 1000,
      max_cpu_time_limit: limits.maxCpuMs / 1000,
      wall_time_limit: limits.run.wallMs / 1000,
      memory_limit: limits.run.memoryBytes / 1024,
      max_memory_limit: limits.maxMemoryBytes / 1024,
    });
    for (const name of [
      'maintenance_mode',
      'enable_compiler_options',
      'allowed_languages_for_compile_options',
      'enable_command_line_arguments',
      'enable_submission_delete',
      'enable_callbacks',
      'callbacks_max_tries',
      'callbacks_timeout',
      'enable_additional_files',
      'max_queue_size',
      'cpu_extra_time',
      'max_cpu_extra_time',
      'max_wall_time_limit',
      'stack_limit',
      'max_stack_limit',
      'max_processes_and_or_threads',
      'max_max_processes_and_or_threads',
      'enable_per_process_and_thread_time_limit',
      'allow_enable_per_process_and_thread_time_limit',
      'enable_per_process_and_thread_memory_limit',
      'allow_enable_per_process_and_thread_memory_limit',
      'max_file_size',
      'max_max_file_size',
      'number_of_runs',
      'max_number_of_runs',
      'redirect_stderr_to_stdout',
      'max_extract_size',
      'submission_cache_duration',
      'use_docs_as_homepage',
    ]) {
      expect(config, name).toHaveProperty(name);
    }
  });

  it("answers Judge0's errors in Judge0's shapes", async () => {
    const unknown = await post('/judge0/submissions', { source_code: 'x', language_id: 150000 });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json()).toEqual({ language_id: ["language with id 150000 doesn't exist"] });

    // Half a surrogate pair, which no database keeps: refused like any invalid attribute.
    const broken = await post('/judge0/submissions', { source_code: 'x\ud800', language_id: 71 });
    expect(broken.statusCode).toBe(422);
    expect(broken.json()).toEqual({ source_code: ['is invalid'] });

    const fields = await get('/judge0/submissions/whatever?fields=stdout,bogus');
    expect(fields.statusCode).toBe(400);
    expect(fields.json()).toEqual({ error: 'invalid fields: [bogus]' });

    const many = Array.from({ length: 21 }, () => ({ source_code: 'print(1)', language_id: 71 }));
    const tooMany = await post('/judge0/submissions/batch', { submissions: many });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json()).toEqual({
      error: 'number of submissions in a batch should be less than or equal to 20',
    });
    const none = await get('/judge0/submissions/batch?tokens=');
    expect(none.statusCode).toBe(400);

    const missing = await get('/judge0/submissions/00000000-0000-4000-8000-000000000000');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'Not Found' });
  });

  if (sandboxProblem !== null) {
    reportMissingSandbox('Judge0 submissions in the sandbox', sandboxProblem);
    return;
  }

  const untilDone = async (token: string, headers: Record<string, string> = key) => {
    let last: Submission = {};
    await expect
      .poll(
        async () => {
          last = (await get(`/judge0/submissions/${token}?fields=*`, headers)).json() as Submission;
          return (last.status?.id ?? 0) >= 3;
        },
        { timeout: 30_000, interval: 100 },
      )
      .toBe(true);
    return last;
  };

  it('lists only the toolchains present here, by Judge0 CE id', async () => {
    const languages = (await get('/judge0/languages')).json() as Array<{
      id: number;
      name: string;
    }>;
    const present = (await t.deps.execution.status()).languages;
    const expected = present.flatMap((language) => (language.judge0Id ? [language.judge0Id] : []));
    expect(languages.map((language) => language.id)).toEqual(expect.arrayContaining(expected));
    expect(languages.map((language) => language.id)).toEqual(expect.arrayContaining([71, 50]));
    const extra = languages.filter(
      (language) => !expected.includes(language.id) && language.id !== 52,
    );
    expect(extra).toEqual([]);
    const python = languages.find((language) => language.id === 71);
    expect(python?.name).toMatch(/^Python.* \(\d+\.\d+/);
    expect((await get('/judge0/languages/71')).json()).toMatchObject({
      id: 71,
      is_archived: false,
    });
    expect((await get('/judge0/languages/150000')).statusCode).toBe(404);
  });

  it('runs a+b with wait=true in Python and C, base64 in and out', async () => {
    for (const [language, languageId] of [
      ['python', 71],
      ['c', 50],
    ] as const) {
      const response = await post('/judge0/submissions?base64_encoded=true&wait=true', {
        source_code: b64(A_PLUS_B[language]),
        language_id: languageId,
        stdin: b64('40 2\n'),
      });
      expect(response.statusCode, language).toBe(201);
      const body = response.json() as Submission;
      expect(Object.keys(body).sort()).toEqual(
        [
          'compile_output',
          'memory',
          'message',
          'status',
          'stderr',
          'stdout',
          'time',
          'token',
        ].sort(),
      );
      expect(body.status).toEqual({ id: 3, description: 'Accepted' });
      expect(body.stdout).toMatch(/\n$/);
      expect(unb64(body.stdout as string)).toBe('42\n');
      expect(body.time).toMatch(/^\d+\.\d+$/);
      expect(body.memory).toBeGreaterThan(0);
      expect(body.stderr).toBeNull();

      // The result is stored: reading it back gives the same, in plain text by default.
      const again = (
        await get(`/judge0/submissions/${body.token}?fields=stdout,status_id,language_id`)
      ).json();
      expect(again).toEqual({ stdout: '42\n', status_id: 3, language_id: languageId });
    }
  });

  it('judges expected_output, compile errors and runtime errors as Judge0 does', async () => {
    const run = async (payload: Record<string, unknown>) =>
      (await post('/judge0/submissions?wait=true&fields=*', payload)).json() as Submission;
    const accepted = await run({
      source_code: A_PLUS_B.python,
      language_id: 71,
      stdin: '1 2',
      expected_output: '3  \n\n',
    });
    expect(accepted.status?.id).toBe(3);
    const wrong = await run({
      source_code: A_PLUS_B.python,
      language_id: 71,
      stdin: '1 2',
      expected_output: '4',
    });
    expect(wrong.status).toEqual({ id: 4, description: 'Wrong Answer' });
    expect(wrong.stdout).toBe('3\n');

    const broken = await run({ source_code: 'int main(void) { return x; }\n', language_id: 50 });
    expect(broken.status).toEqual({ id: 6, description: 'Compilation Error' });
    expect(broken.compile_output).toMatch(/error/);
    expect(broken.stdout).toBeNull();
    expect(broken.time).toBeNull();

    const failing = await run({ source_code: 'import sys\nsys.exit(3)\n', language_id: 71 });
    expect(failing).toMatchObject({
      status: { id: 11, description: 'Runtime Error (NZEC)' },
      exit_code: 3,
      message: 'Exited with error status 3',
    });
    const crashing = await run({
      source_code: '#include <signal.h>\nint main(void) { raise(SIGSEGV); return 0; }\n',
      language_id: 50,
    });
    expect(crashing).toMatchObject({ status: { id: 7 }, exit_signal: 11 });

    const slow = await run({
      source_code: 'while True:\n    pass\n',
      language_id: 71,
      cpu_time_limit: 0.5,
    });
    expect(slow).toMatchObject({ status: { id: 5 }, cpu_time_limit: '0.5' });

    const greedy = await run({
      source_code: 'chunks = []\nwhile True:\n    chunks.append(bytearray(1 << 20))\n',
      language_id: 71,
      memory_limit: 65_536,
    });
    expect(greedy).toMatchObject({ message: 'Memory limit exceeded', memory_limit: 65_536 });
    expect([7, 10, 11, 12]).toContain(greedy.status?.id);
  });

  it('queues a submission for a token and finishes it in a worker', async () => {
    const created = await post('/judge0/submissions', {
      source_code: A_PLUS_B.python,
      language_id: 71,
      stdin: '20 22',
      expected_output: '42',
      unknown_attribute: 'ignored',
    });
    expect(created.statusCode).toBe(201);
    const { token } = created.json() as { token: string };
    expect(Object.keys(created.json())).toEqual(['token']);
    const done = await untilDone(token);
    expect(done).toMatchObject({
      token,
      status: { id: 3, description: 'Accepted' },
      stdout: '42\n',
      language_id: 71,
      stdin: '20 22',
      expected_output: '42',
    });
    expect(done.finished_at).toEqual(expect.any(String));
    expect(done.wall_time).toMatch(/^\d+\.\d+$/);
  });

  it('creates a batch of 3, reads it back in order, and reports bad items in place', async () => {
    const created = await post('/judge0/submissions/batch?base64_encoded=true', {
      submissions: [
        { source_code: b64(A_PLUS_B.python), language_id: 71, stdin: b64('1 1') },
        { source_code: b64(A_PLUS_B.c), language_id: 50, stdin: b64('2 2') },
        { source_code: b64('print(6)'), language_id: 71 },
      ],
    });
    expect(created.statusCode).toBe(201);
    const tokens = (created.json() as Array<{ token: string }>).map((item) => item.token);
    expect(tokens).toHaveLength(3);
    for (const token of tokens) await untilDone(token);
    const read = await get(
      `/judge0/submissions/batch?tokens=${tokens.join(',')},not-a-token&base64_encoded=true&fields=stdout,status_id`,
    );
    expect(read.statusCode).toBe(200);
    const { submissions } = read.json() as { submissions: Array<Submission | null> };
    expect(submissions.map((item) => item && unb64(item.stdout as string))).toEqual([
      '2\n',
      '4\n',
      '6\n',
      null,
    ]);

    const mixed = await post('/judge0/submissions/batch', {
      submissions: [{ source_code: 'print(1)', language_id: 71 }, { language_id: 71 }],
    });
    expect(mixed.statusCode).toBe(201);
    expect((mixed.json() as unknown[])[1]).toEqual({ source_code: ["can't be blank"] });
    const invalid = await post('/judge0/submissions/batch', {
      submissions: [{ source_code: 'x', language_id: 1 }],
    });
    expect(invalid.statusCode).toBe(422);
  });

  it('changes nothing when the run job is delivered again', async () => {
    const { token } = (
      await post('/judge0/submissions', { source_code: 'print(7)', language_id: 71 })
    ).json() as { token: string };
    const done = await untilDone(token);
    await t.deps.judge0.run({
      token,
      attempt: 2,
      transaction: () => {
        throw new Error('a finished submission is not written again');
      },
      logger: t.deps.logger,
    });
    expect(await untilDone(token)).toEqual(done);
  });

  it('shows Internal Error, not Processing forever, when a job fails for good', async () => {
    const { token } = (
      await post('/judge0/submissions', { source_code: 'print(7)', language_id: 71 })
    ).json() as { token: string };
    const done = await untilDone(token);
    // A finished submission keeps its own result.
    await t.deps.judge0.abandon(token, 'the database kept failing');
    expect(await untilDone(token)).toEqual(done);
    // One left Processing (its worker kept dying, or the last try's write failed).
    const repository = createJudge0Repository(t.deps.database.db);
    const [stored] = await repository.findMany(KEY_OWNER, [token]);
    const stuck = randomUUID();
    await repository.insert(repository.executor, [
      { ...stored!, token: stuck, statusId: 2, stdout: null, finishedAt: null },
    ]);
    await t.deps.judge0.abandon(stuck, 'the database kept failing');
    const abandoned = (await get(`/judge0/submissions/${stuck}?fields=status,message`)).json();
    expect(abandoned).toMatchObject({ status: { id: 13, description: 'Internal Error' } });
    expect(abandoned.message).toContain('the database kept failing');
  });

  it('forgets finished submissions after the retention, hourly, and never an unfinished one', async () => {
    const { token } = (
      await post('/judge0/submissions', { source_code: 'print(8)', language_id: 71 })
    ).json() as { token: string };
    await untilDone(token);
    const repository = createJudge0Repository(t.deps.database.db);
    const [stored] = await repository.findMany(KEY_OWNER, [token]);
    const daysAgo = (days: number) => new Date(t.clock.now().getTime() - days * 24 * 3600 * 1000);
    const rows = {
      old: { ...stored!, token: randomUUID(), createdAt: daysAgo(9), finishedAt: daysAgo(8) },
      recent: { ...stored!, token: randomUUID(), createdAt: daysAgo(9), finishedAt: daysAgo(6) },
      queued: {
        ...stored!,
        token: randomUUID(),
        statusId: 1,
        createdAt: daysAgo(30),
        finishedAt: null,
      },
    };
    await repository.insert(repository.executor, Object.values(rows));
    const schedule = appSchedules.find((entry) => entry.type === 'judge0.prune');
    expect(schedule?.everyMs).toBe(3600 * 1000);
    const retentionDays = (schedule?.payload as { retentionDays?: number } | undefined)
      ?.retentionDays;
    if (retentionDays === undefined) throw new Error('no judge0.prune schedule');
    expect(retentionDays).toBe(7);
    expect(await t.deps.judge0.prune(retentionDays * 24 * 3600 * 1000)).toBeGreaterThanOrEqual(1);
    const status = async (of: string) => (await get(`/judge0/submissions/${of}`)).statusCode;
    expect(await status(rows.old.token)).toBe(404);
    expect(await status(rows.recent.token)).toBe(200);
    expect(await status(rows.queued.token)).toBe(200);
    expect(await status(token)).toBe(200);
  });

  it("keeps each owner's tokens to themselves", async () => {
    const mine = (
      await post(
        '/judge0/submissions',
        { source_code: 'print(1)', language_id: 71 },
        bearer(student),
      )
    ).json() as { token: string };
    await untilDone(mine.token, bearer(student));
    expect((await get(`/judge0/submissions/${mine.token}`, bearer(other))).statusCode).toBe(404);
    expect((await get(`/judge0/submissions/${mine.token}`)).statusCode).toBe(404);
    const batch = (
      await get(`/judge0/submissions/batch?tokens=${mine.token}`, bearer(other))
    ).json() as { submissions: unknown[] };
    expect(batch.submissions).toEqual([null]);
  });

  it('refuses to show output that is not UTF-8 unless base64 is asked for', async () => {
    const response = await post('/judge0/submissions?wait=true', {
      source_code: 'import sys\nsys.stdout.buffer.write(bytes([0xff, 0xfe, 0x41]))\n',
      language_id: 71,
    });
    expect(response.statusCode).toBe(201);
    const body = response.json() as { error: string; token: string };
    expect(body.error).toMatch(/cannot be converted to UTF-8, use base64_encoded=true/);
    const plain = await get(`/judge0/submissions/${body.token}`);
    expect(plain.statusCode).toBe(400);
    const encoded = (
      await get(`/judge0/submissions/${body.token}?base64_encoded=true`)
    ).json() as Submission;
    expect(Buffer.from(encoded.stdout as string, 'base64')).toEqual(
      Buffer.from([0xff, 0xfe, 0x41]),
    );
  });
});

describe('Judge0 submissions are rate-limited like runs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { JUDGE0_AUTH_TOKEN: KEY, RATE_LIMIT_RUNS_PER_MINUTE: '2' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('per user, while the key (one trusted backend) gets a user allowance', async () => {
    const student = await signedIn(t, 'student');
    const create = (headers: Record<string, string>) =>
      t.app.inject({
        method: 'POST',
        url: '/judge0/submissions',
        headers,
        payload: { source_code: 'x', language_id: 150000 },
      });
    const codes = [];
    for (let index = 0; index < 3; index += 1)
      codes.push((await create(bearer(student))).statusCode);
    expect(codes).toEqual([422, 422, 429]);
    const limited = await create(bearer(student));
    expect(limited.headers['retry-after']).toEqual(expect.any(String));
    for (let index = 0; index < 3; index += 1) expect((await create(key)).statusCode).toBe(422);
  });
});
