import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxUnavailableError } from '../src/modules/sandbox/sandbox.host.ts';
import {
  reportMissingSandbox,
  sandboxUnusable,
} from '../src/modules/sandbox/sandbox.test-utils.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, signedIn, type Tokens } from './support/auth.ts';
import { expectInvalidAt } from './support/problems.ts';

const usable = await sandboxUnusable();

const A_PLUS_B: Record<string, string> = {
  python: 'a, b = map(int, input().split())\nprint(a + b)\n',
  javascript:
    'const [a, b] = require("fs").readFileSync(0, "utf8").trim().split(/\\s+/).map(Number);\nconsole.log(a + b);\n',
  c: '#include <stdio.h>\nint main(void) { long a, b; scanf("%ld %ld", &a, &b); printf("%ld\\n", a + b); return 0; }\n',
  cpp: '#include <iostream>\nint main() { long a, b; std::cin >> a >> b; std::cout << a + b << "\\n"; }\n',
  // An inner class: the compile leaves Main$Pair.class beside Main.class.
  java: 'import java.util.Scanner;\npublic class Main {\n  static class Pair { long a, b; long sum() { return a + b; } }\n  public static void main(String[] args) {\n    Scanner in = new Scanner(System.in);\n    Pair p = new Pair(); p.a = in.nextLong(); p.b = in.nextLong();\n    System.out.println(p.sum());\n  }\n}\n',
  r: 'x <- scan(file("stdin"), quiet = TRUE)\ncat(sum(x), "\\n", sep = "")\n',
  bash: 'read a b\necho $((a + b))\n',
  typescript:
    'const input: string = require("fs").readFileSync(0, "utf8");\nconst [a, b] = input.trim().split(/\\s+/).map(Number);\nconsole.log(a + b);\n',
};

describe('a machine without a usable sandbox', () => {
  it('runs nothing, and /health, /languages and /runs say why', async () => {
    const t = await createTestApp({
      detectSandboxHost: () =>
        Promise.reject(new SandboxUnavailableError('bwrap is not installed')),
    });
    try {
      await t.deps.execution.status();
      const health = await t.app.inject({ method: 'GET', url: '/health' });
      expect(health.json().checks.sandbox).toMatchObject({
        status: 'down',
        reason: 'bwrap is not installed',
      });
      const languages = await t.app.inject({ method: 'GET', url: '/api/v1/languages' });
      expect(languages.statusCode).toBe(503);
      expect(languages.json()).toMatchObject({
        code: 'SANDBOX_UNAVAILABLE',
        detail: 'bwrap is not installed',
      });
      const student = await signedIn(t, 'student');
      const run = await t.app.inject({
        method: 'POST',
        url: '/api/v1/runs',
        headers: bearer(student),
        payload: { language: 'python', source: 'print(1)\n' },
      });
      expect(run.statusCode).toBe(503);
      expect(run.json()).toMatchObject({
        code: 'SANDBOX_UNAVAILABLE',
        detail: 'bwrap is not installed',
      });
      expect(t.logs.some((line) => line.msg.includes('code execution is unavailable'))).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('reports the sandbox down while it is still being detected, without waiting for it', async () => {
    let finish: (error: Error) => void = () => undefined;
    const t = await createTestApp({
      detectSandboxHost: () => new Promise((_, reject) => (finish = reject)),
    });
    try {
      const health = await t.app.inject({ method: 'GET', url: '/health' });
      expect(health.statusCode).toBe(200);
      expect(health.json().checks.sandbox).toMatchObject({
        status: 'down',
        reason: 'still detecting (self-test and toolchain probes)',
      });
    } finally {
      finish(new SandboxUnavailableError('stopped'));
      await t.close();
    }
  });

  it('runs code unsandboxed only with SANDBOX=unsafe-none, saying so loudly', async () => {
    const t = await createTestApp({ env: { SANDBOX: 'unsafe-none' } });
    try {
      const student = await signedIn(t, 'student');
      const run = await t.app.inject({
        method: 'POST',
        url: '/api/v1/runs',
        headers: bearer(student),
        payload: { language: 'python', source: A_PLUS_B.python, stdin: '1 2\n' },
      });
      expect(run.json()).toMatchObject({ status: 'ok', stdout: '3\n' });
      expect(
        t.logs.some((line) => line.level === 'warn' && /WITHOUT isolation/.test(line.msg)),
      ).toBe(true);
    } finally {
      await t.close();
    }
  });
});

if (usable !== null) {
  reportMissingSandbox('the runs API', usable);
} else {
  describe('the runs API', () => {
    let t: TestApp;
    let student: Tokens;
    beforeAll(async () => {
      t = await createTestApp({ env: { RATE_LIMIT_RUNS_PER_MINUTE: '1000' } });
      student = await signedIn(t, 'student');
    });
    afterAll(async () => {
      await t.close();
    });

    const run = (payload: Record<string, unknown>, who: Tokens | null = student) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/runs',
        ...(who ? { headers: bearer(who) } : {}),
        payload,
      });

    it('offers only toolchains that answer, with their real versions, Judge0 ids and limits', async () => {
      const response = await t.app.inject({ method: 'GET', url: '/api/v1/languages' });
      expect(response.statusCode).toBe(200);
      const languages = response.json() as Array<{
        id: string;
        version: string;
        judge0Id: number | null;
        compiled: boolean;
        limits: Record<string, number>;
      }>;
      const ids = languages.map((language) => language.id);
      // Debian's toolchains on every machine this runs on (CI installs R).
      for (const id of ['python', 'javascript', 'c', 'cpp', 'java', 'bash'])
        expect(ids).toContain(id);
      if (process.env.CI === 'true') expect(ids).toContain('r');
      for (const language of languages) expect(language.version).toMatch(/^\d+\.\d+/);
      const c = languages.find((language) => language.id === 'c');
      expect(c).toMatchObject({ judge0Id: 50, compiled: true });
      expect(c?.version).toBe(
        (await import('node:child_process'))
          .execFileSync('/usr/bin/gcc', ['-dumpfullversion'])
          .toString()
          .trim(),
      );
      expect(languages.find((language) => language.id === 'python')).toMatchObject({
        judge0Id: 71,
        compiled: false,
      });
      expect(c?.limits).toMatchObject({
        cpuMs: 2000,
        wallMs: 5000,
        memoryMb: 256,
        maxCpuMs: 10000,
      });
      // Absent toolchains are not offered (Go is not installed by CI).
      expect(ids).not.toContain('go');
    });

    it('compiles and runs a+b in every offered language', async () => {
      const offered = (
        (await t.app.inject({ method: 'GET', url: '/api/v1/languages' })).json() as Array<{
          id: string;
        }>
      ).map((language) => language.id);
      for (const language of offered.filter((id) => A_PLUS_B[id])) {
        const response = await run({ language, source: A_PLUS_B[language], stdin: '40 2\n' });
        expect(response.statusCode, language).toBe(200);
        const body = response.json();
        expect(body, `${language}: ${body.stderr}${body.compileOutput ?? ''}`).toMatchObject({
          status: 'ok',
          stdout: '42\n',
          exitCode: 0,
        });
        expect(body.timeMs, language).toBeGreaterThan(0);
        expect(body.wallTimeMs, language).toBeGreaterThanOrEqual(body.timeMs / 2);
        expect(body.memoryKb, language).toBeGreaterThan(0);
      }
    }, 120_000);

    it('reports user-code failures as statuses, with the compiler’s message or the exit code', async () => {
      const broken = await run({ language: 'c', source: 'int main(void) { return x; }\n' });
      expect(broken.statusCode).toBe(200);
      expect(broken.json().status).toBe('compile_error');
      expect(broken.json().compileOutput).toMatch(/main\.c:1:\d+: error: .x. undeclared/);

      const failing = await run({
        language: 'python',
        source: 'import sys\nprint("partial")\nsys.stderr.write("bad input\\n")\nsys.exit(3)\n',
      });
      expect(failing.json()).toMatchObject({
        status: 'runtime_error',
        exitCode: 3,
        stdout: 'partial\n',
        stderr: 'bad input\n',
      });

      const crash = await run({
        language: 'c',
        source: '#include <stdlib.h>\nint main(void) { int *p = NULL; return *p; }\n',
      });
      expect(crash.json()).toMatchObject({ status: 'runtime_error', signal: 'SIGSEGV' });
    });

    it('enforces the CPU limit the request asks for, and the memory limit', async () => {
      const spin = await run({
        language: 'python',
        source: 'while True: pass\n',
        timeLimitMs: 300,
      });
      expect(spin.json()).toMatchObject({ status: 'time_limit_exceeded', limitExceeded: 'cpu' });
      expect(spin.json().timeMs).toBeGreaterThanOrEqual(300);
      expect(spin.json().timeMs).toBeLessThan(1500);

      const hog = await run({
        language: 'python',
        source: 'x = bytearray(200 * 1024 * 1024)\nfor i in range(0, len(x), 4096): x[i] = 1\n',
        memoryLimitMb: 64,
      });
      expect(hog.json()).toMatchObject({
        status: 'memory_limit_exceeded',
        limitExceeded: 'memory',
      });
    });

    it('refuses bad requests before anything runs', async () => {
      expect((await run({ language: 'python', source: 'print(1)' }, null)).statusCode).toBe(401);
      expectInvalidAt(
        await run({ language: 'python', source: 'print(1)', timeLimitMs: 60_000 }),
        'body.timeLimitMs',
        'CPU above the maximum',
      );
      expectInvalidAt(
        await run({ language: 'python', source: 'print(1)', memoryLimitMb: 4096 }),
        'body.memoryLimitMb',
        'memory above the maximum',
      );
      expectInvalidAt(
        await run({ language: 'python', source: 'print(1)', sandbox: false }),
        'body',
        'an unknown field',
      );
      expectInvalidAt(
        await run({ language: 'python', source: 'x'.repeat(64 * 1024 + 1) }),
        'body.source',
        'a source over 64 KiB',
      );
      const cobol = await run({ language: 'cobol', source: 'DISPLAY "HI".' });
      expect(cobol.statusCode).toBe(400);
      expect(cobol.json()).toMatchObject({ code: 'LANGUAGE_NOT_AVAILABLE' });
      expect(cobol.json().detail).toMatch(/python/);
    });
  });

  describe('the runs API’s rate limit', () => {
    it('allows RATE_LIMIT_RUNS_PER_MINUTE runs per user, then 429 with Retry-After', async () => {
      const t = await createTestApp({ env: { RATE_LIMIT_RUNS_PER_MINUTE: '2' } });
      try {
        const student = await signedIn(t, 'student');
        const statuses = [];
        for (let index = 0; index < 3; index++) {
          const response = await t.app.inject({
            method: 'POST',
            url: '/api/v1/runs',
            headers: bearer(student),
            payload: { language: 'bash', source: 'echo hi\n' },
          });
          statuses.push(response.statusCode);
          if (response.statusCode === 429)
            expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
        }
        expect(statuses).toEqual([200, 200, 429]);
      } finally {
        await t.close();
      }
    });
  });
}
