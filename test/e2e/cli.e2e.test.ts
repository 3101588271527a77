import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { assay, cleanEnv, freePort, type Server, startAssay, tempDataDir } from '../support/cli.ts';

describe('the assay command', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const serveEmbedded = async (dataDir: string, extra: Record<string, string> = {}) => {
    const port = await freePort();
    const server = await startAssay(
      ['serve'],
      cleanEnv({ DATA_DIR: dataDir, PORT: String(port), ...extra }),
    );
    cleanups.push(() => server.stop('SIGKILL'));
    return server;
  };

  // Three server starts, a seed and a whole quiz: more than the default bound on a busy machine.
  it('serves the embedded default, stops cleanly on SIGTERM, and keeps its data across restarts', async () => {
    const data = await tempDataDir();
    cleanups.push(data.remove);
    const first = await serveEmbedded(data.dir);
    const health = await fetch(first.url('/health'));
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ checks: { db: { status: 'up' } } });
    expect(await first.stop()).toBe(0);
    expect(first.output()).toMatch(/"msg":"stopped"/);

    const env = cleanEnv({ DATA_DIR: data.dir });
    const seeded = await assay(['seed'], env);
    expect(seeded.code).toBe(0);
    expect(seeded.stdout.match(/^created/gm)).toHaveLength(8);
    // Random per account, never a fixed demo password.
    const passwords = [...seeded.stdout.matchAll(/password: (\S+)/g)].map((match) => match[1]);
    expect(new Set(passwords).size).toBe(5);
    const studentPassword = seeded.stdout.match(/student1@assay\.local +password: (\S+)/)?.[1];

    // A seeded student takes the demo quiz over HTTP against the real server.
    const second = await serveEmbedded(data.dir);
    expect((await fetch(second.url('/health'))).status).toBe(200);
    const api = async (
      path: string,
      init: { method?: string; body?: unknown; token?: string } = {},
    ) => {
      const response = await fetch(second.url(`/api/v1${path}`), {
        method: init.method ?? 'GET',
        headers: {
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
      // biome-ignore lint/suspicious/noExplicitAny: the test walks response JSON loosely
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    };
    const session = await api('/auth/login', {
      method: 'POST',
      body: { email: 'student1@assay.local', password: studentPassword },
    });
    const token = session.body.accessToken as string;
    const quizzes = await api('/quizzes', { token });
    const demo = quizzes.body.items.find((quiz: { title: string }) =>
      quiz.title.startsWith('Assay tour'),
    );
    expect(demo).toMatchObject({ status: 'published', questionCount: 6, durationMinutes: 15 });
    const started = await api(`/attempts/quizzes/${demo.id}/start`, { method: 'POST', token });
    expect(started.status).toBe(201);
    const types = started.body.questions.map((question: { type: string }) => question.type).sort();
    expect(types).toEqual([
      'code',
      'multiple_choice',
      'numeric',
      'short_answer',
      'single_choice',
      'true_false',
    ]);
    const byType = (type: string) =>
      started.body.questions.find((question: { type: string }) => question.type === type);
    const mercury = byType('single_choice').options.find(
      (option: { text: string }) => option.text === 'Mercury',
    ).id;
    for (const [questionId, answer] of [
      [byType('single_choice').id, mercury],
      [byType('true_false').id, true],
      [byType('short_answer').id, '  tokyo '],
      [byType('numeric').id, 3.139],
    ] as const) {
      const saved = await api(`/attempts/${started.body.id}/answers`, {
        method: 'POST',
        token,
        body: { questionId, answer },
      });
      expect(saved.status).toBe(200);
    }
    const result = await api(`/attempts/${started.body.id}/submit`, { method: 'POST', token });
    expect(result.body).toMatchObject({ score: 4, maxScore: 9, reviewAvailable: true });

    // The same student solves the demo challenge; the server's own workers judge it.
    const challenges = await api('/challenges', { token });
    const aPlusB = challenges.body.items.find((item: { title: string }) => item.title === 'A + B');
    const submitted = await api('/submissions', {
      method: 'POST',
      token,
      body: {
        challengeId: aPlusB.id,
        language: 'python',
        source: 'a, b = map(int, input().split())\nprint(a + b)\n',
      },
    });
    expect(submitted.status).toBe(202);
    let judged: Record<string, unknown> = {};
    await expect
      .poll(
        async () => {
          judged = (await api(`/submissions/${submitted.body.id}`, { token })).body;
          return judged.status;
        },
        { timeout: 30_000, interval: 200 },
      )
      .toBe('completed');
    expect(judged).toMatchObject({ verdict: 'accepted', score: 100, maxScore: 100 });
    expect(await second.stop()).toBe(0);

    const again = await assay(['seed'], env);
    // Five accounts, the two demo challenges and the quiz, all already there.
    expect(again.stdout.match(/^exists/gm)).toHaveLength(8);
    expect(again.stdout).toMatch(/^exists {2}challenge +\S+ +A \+ B$/m);
    expect(again.stdout).toMatch(/admin +admin@assay\.local/);
    expect(again.stdout.match(/student +student\d@assay\.local/g)).toHaveLength(3);
  }, 90_000);

  it('ensures the ADMIN_EMAIL admin at start, who can then sign in over HTTP', async () => {
    const data = await tempDataDir();
    cleanups.push(data.remove);
    const server = await serveEmbedded(data.dir, {
      ADMIN_EMAIL: 'Boss@Example.com',
      ADMIN_PASSWORD: 'a-very-long-admin-passphrase',
    });
    const response = await fetch(server.url('/api/v1/auth/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'boss@example.com', password: 'a-very-long-admin-passphrase' }),
    });
    expect(response.status).toBe(200);
    const session = (await response.json()) as { user: { role: string }; accessToken: string };
    expect(session.user.role).toBe('admin');
    const users = await fetch(server.url('/api/v1/users'), {
      headers: { authorization: `Bearer ${session.accessToken}` },
    });
    expect(users.status).toBe(200);
    expect(server.output()).not.toContain('a-very-long-admin-passphrase');
    expect(await server.stop()).toBe(0);
  });

  it('refuses to start on bad configuration, naming each variable on its own line', async () => {
    const result = await assay(
      ['serve'],
      cleanEnv({ PORT: 'abc', DATABASE_URL: 'nonsense', HEALTH_CACHE_MS: '-5' }),
    );
    expect(result.code).not.toBe(0);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.some((line) => /^config error: PORT: /.test(line))).toBe(true);
    expect(lines.some((line) => /^config error: DATABASE_URL: /.test(line))).toBe(true);
    expect(lines.some((line) => /^config error: HEALTH_CACHE_MS: /.test(line))).toBe(true);
  });

  it('reads .env from the working directory, with the real environment winning', async () => {
    const data = await tempDataDir();
    cleanups.push(data.remove);
    await writeFile(join(data.dir, '.env'), 'PORT=not-a-port\nWORKER_CONCURRENCY=lots\n');
    const fromFile = await assay(['doctor'], cleanEnv({ DATA_DIR: data.dir }), { cwd: data.dir });
    expect(fromFile.code).not.toBe(0);
    expect(fromFile.stderr).toMatch(/^config error: PORT: /m);
    expect(fromFile.stderr).toMatch(/^config error: WORKER_CONCURRENCY: /m);
    const overridden = await assay(
      ['doctor'],
      cleanEnv({ DATA_DIR: data.dir, PORT: '8123', WORKER_CONCURRENCY: '2' }),
      { cwd: data.dir },
    );
    expect(overridden.code).toBe(0);
  });

  it('refuses production start-up without a long JWT_SECRET', async () => {
    const missing = await assay(['serve'], cleanEnv({ NODE_ENV: 'production' }));
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('JWT_SECRET: is required when NODE_ENV=production');
    const short = await assay(
      ['serve'],
      cleanEnv({ NODE_ENV: 'production', JWT_SECRET: 'too-short' }),
    );
    expect(short.code).not.toBe(0);
    expect(short.stderr).toMatch(/JWT_SECRET: must be at least 32 characters/);
  });

  it('finishes an in-flight request on SIGTERM before exiting 0', async () => {
    const data = await tempDataDir();
    cleanups.push(data.remove);
    const server = await serveEmbedded(data.dir);
    const body = JSON.stringify({ padding: 'x'.repeat(2_000) });
    const responded = new Promise<number>((resolve, reject) => {
      const slow = request(server.url('/api/v1/anything'), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          // The server answers 100 once it has the request: only then is it in flight (a request
          // that arrives after SIGTERM is rightly refused with 503, which a loaded machine made
          // happen when this test waited a fixed 200 ms instead).
          expect: '100-continue',
        },
      });
      slow.on('response', (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      slow.on('error', reject);
      // Half the body, SIGTERM, the rest later: the request is in flight during shutdown.
      slow.on('continue', () => {
        slow.write(body.slice(0, 1_000));
        server.process.kill('SIGTERM');
        setTimeout(() => slow.end(body.slice(1_000)), 500);
      });
      slow.flushHeaders();
    });
    expect(await responded).toBe(404);
    expect(await server.exited).toBe(0);
  });

  it('creates users from the command line and refuses bad input', async () => {
    const data = await tempDataDir();
    cleanups.push(data.remove);
    const env = cleanEnv({ DATA_DIR: data.dir });
    const created = await assay(
      [
        'users',
        'create',
        '--email',
        'Teach@Example.com',
        '--name',
        'Tea Cher',
        '--role',
        'instructor',
        '--password',
        'a long password',
      ],
      env,
    );
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/created instructor teach@example\.com/);
    const duplicate = await assay(
      [
        'users',
        'create',
        '--email',
        'teach@example.com',
        '--name',
        'Again',
        '--role',
        'student',
        '--password',
        'a long password',
      ],
      env,
    );
    expect(duplicate.code).not.toBe(0);
    expect(duplicate.stderr).toMatch(/already registered/);
    const badRole = await assay(
      [
        'users',
        'create',
        '--email',
        'x@example.com',
        '--name',
        'X',
        '--role',
        'root',
        '--password',
        'a long password',
      ],
      env,
    );
    expect(badRole.code).not.toBe(0);
    expect(badRole.stderr).toMatch(/admin, instructor, student/);
    const shortPassword = await assay(
      [
        'users',
        'create',
        '--email',
        'y@example.com',
        '--name',
        'Y',
        '--role',
        'student',
        '--password',
        'short',
      ],
      env,
    );
    expect(shortPassword.code).not.toBe(0);
    expect(shortPassword.stderr).toMatch(/password: must be at least 8 characters/);
  });

  it('doctor prints each dependency and whether it answers', async () => {
    const data = await tempDataDir();
    cleanups.push(data.remove);
    const result = await assay(['doctor'], cleanEnv({ DATA_DIR: data.dir }));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok +database +pglite /m);
    expect(result.stdout).toMatch(/^- +redis +not configured/m);
    expect(result.stdout).toMatch(/^ok +storage /m);
    // The sandbox line names what isolation was found; each language ran a real hello world.
    if (process.env.CI === 'true' || /^ok +sandbox/m.test(result.stdout)) {
      expect(result.stdout).toMatch(
        /^ok +sandbox +bubblewrap \S+, cgroup v[12], seccomp .*self-test passed$/m,
      );
      expect(result.stdout).toMatch(/^ok +python +Python 3 3\.\d+\.\d+: hello ran in \d+ ms$/m);
      expect(result.stdout).toMatch(/^ok +c +C \(GCC\) \d+\.\d+\.\d+: hello ran/m);
      expect(result.stdout).toMatch(/^ok +java +Java/m);
    } else {
      expect(result.stdout).toMatch(/^FAIL +sandbox +bwrap: \S/m);
    }

    const broken = await assay(
      ['doctor'],
      cleanEnv({
        DATA_DIR: data.dir,
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
        HEALTH_CHECK_TIMEOUT_MS: '500',
      }),
    );
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/^FAIL +database +postgres postgres:\/\/127\.0\.0\.1:1\/none/m);
    expect(broken.stdout).not.toContain('nobody@');
  });

  it('will not split the embedded database between processes', async () => {
    const worker = await assay(['worker'], cleanEnv({}));
    expect(worker.code).not.toBe(0);
    expect(worker.stderr).toMatch(/needs DATABASE_URL/);
    const apiOnly = await assay(['serve', '--no-workers'], cleanEnv({}));
    expect(apiOnly.code).not.toBe(0);
    expect(apiOnly.stderr).toMatch(/--no-workers needs DATABASE_URL/);
  });

  describe.runIf(inject('postgresTemplate') !== null && inject('redis') !== null)(
    'production mode',
    () => {
      it('runs an API without workers and a separate worker on PostgreSQL + Redis', async () => {
        const template = inject('postgresTemplate')!;
        const redis = inject('redis')!;
        const { createTestDatabase } = await import('../support/databases.ts');
        const database = await createTestDatabase('postgres');
        cleanups.push(() => database.destroy());
        if (database.location.kind !== 'postgres') throw new Error('expected postgres');
        expect(template.name).toBeTruthy();
        const data = await tempDataDir();
        cleanups.push(data.remove);
        const port = await freePort();
        const env = cleanEnv({
          DATA_DIR: data.dir,
          PORT: String(port),
          DATABASE_URL: database.location.url,
          REDIS_URL: redis.url,
          REDIS_PREFIX: `${redis.prefix}-e2e`,
        });
        const api: Server = await startAssay(['serve', '--no-workers'], env);
        cleanups.push(() => api.stop('SIGKILL'));
        const worker: Server = await startAssay(
          ['worker', '--queues', 'maintenance'],
          env,
          /assay worker is running/,
        );
        cleanups.push(() => worker.stop('SIGKILL'));
        const health = await (await fetch(api.url('/health'))).json();
        expect(health).toMatchObject({
          status: expect.any(String),
          checks: { db: { status: 'up' }, redis: { status: 'up' } },
        });
        expect(api.output()).toMatch(/"database":"postgres","queue":"bullmq","workers":"none"/);
        expect(await worker.stop()).toBe(0);
        expect(await api.stop()).toBe(0);
      });
    },
  );
});
