import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/logger/logger.ts';
import { BASE_ENV } from './sandbox.languages.ts';
import { runInSandbox } from './sandbox.runner.ts';
import {
  leftoverCgroups,
  newMarker,
  openTestSandbox,
  processesWithMarker,
  reportMissingSandbox,
  runCompiled,
  runPython,
  TIGHT_LIMITS,
  text,
} from './sandbox.test-utils.ts';

const MiB = 1024 * 1024;
const sandbox = await openTestSandbox();

describe.runIf(sandbox.available)('sandboxed runs', () => {
  if (!sandbox.available) return;
  const { service, host } = sandbox;
  afterAll(() => host.close());

  it('runs hello world in Python, C and JavaScript', async () => {
    const cases = [
      { language: 'python', source: 'print("hello from python")', expected: 'hello from python\n' },
      {
        language: 'c',
        source: '#include <stdio.h>\nint main(void) { puts("hello from c"); return 0; }\n',
        expected: 'hello from c\n',
      },
      {
        language: 'javascript',
        source: 'console.log("hello from node")',
        expected: 'hello from node\n',
      },
    ];
    for (const { language, source, expected } of cases) {
      const prepared = await service.prepare({ language, source });
      expect(prepared.ok, language).toBe(true);
      if (!prepared.ok) continue;
      const result = await service.run({ program: prepared.program });
      expect({ language, verdict: result.verdict, stdout: text(result.stdout) }).toEqual({
        language,
        verdict: 'ok',
        stdout: expected,
      });
      expect(result.exitCode).toBe(0);
      expect(result.stderr.length).toBe(0);
      expect(result.memoryBytes).toBeGreaterThan(0);
      expect(result.wallMs).toBeGreaterThan(0);
    }
  });

  it('compiles once and runs the binary many times, each with its own input', async () => {
    const prepared = await service.prepare({
      language: 'c',
      source:
        '#include <stdio.h>\nint main(void) { long a, b; if (scanf("%ld %ld", &a, &b) != 2) return 2; printf("%ld\\n", a + b); return 0; }\n',
    });
    expect(prepared.ok).toBe(true);
    if (!prepared.ok) return;
    expect(prepared.compile?.verdict).toBe('ok');
    expect(Object.keys(prepared.program.files)).toEqual(['main']);
    const outputs = [];
    for (const stdin of ['1 2\n', '40 2\n', '-5 5\n']) {
      const result = await service.run({ program: prepared.program, stdin });
      outputs.push(text(result.stdout));
    }
    expect(outputs).toEqual(['3\n', '42\n', '0\n']);
    expect((await service.run({ program: prepared.program, stdin: 'x' })).exitCode).toBe(2);
  });

  it('reports a compile error with the compiler output', async () => {
    const prepared = await service.prepare({
      language: 'c',
      source: 'int main(void) { return x; }\n',
    });
    expect(prepared.ok).toBe(false);
    expect(prepared.compile?.verdict).toBe('compile_error');
    expect(text(prepared.compile!.stderr)).toMatch(/x. undeclared/);
  });

  it('measures a 1 s busy loop as about 1 s of CPU, whatever else the machine is doing', async () => {
    const marker = newMarker();
    const result = await runCompiled({
      sandbox,
      marker,
      language: 'c',
      source: `#include <time.h>
int main(void) { volatile unsigned long n = 0; while (clock() < CLOCKS_PER_SEC) n++; return 0; }`,
      limits: { cpuMs: 3000, wallMs: 10_000 },
    });
    expect(result.verdict).toBe('ok');
    expect(result.cpuMs).toBeGreaterThanOrEqual(700);
    expect(result.cpuMs).toBeLessThanOrEqual(1300);
    expect(result.wallMs).toBeGreaterThanOrEqual(result.cpuMs - 50);
  });

  it('counts CPU of every process and thread of the run', async () => {
    const marker = newMarker();
    const result = await runCompiled({
      sandbox,
      marker,
      language: 'c',
      source: `#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
int main(void) {
  if (fork() == 0) { while (clock() < CLOCKS_PER_SEC / 2) ; return 0; }
  while (clock() < CLOCKS_PER_SEC / 2) ;
  wait(0);
  return 0;
}`,
      limits: { cpuMs: 3000, wallMs: 10_000 },
    });
    expect(result.verdict).toBe('ok');
    expect(result.cpuMs).toBeGreaterThanOrEqual(700);
    expect(result.cpuMs).toBeLessThanOrEqual(1300);
  });

  it('reports at least 100 MB of peak memory for a program that touches 100 MB', async () => {
    const marker = newMarker();
    const c = await runCompiled({
      sandbox,
      marker,
      language: 'c',
      source: `#include <stdlib.h>
int main(void) {
  size_t n = 100u << 20;
  volatile char *p = malloc(n);
  for (size_t i = 0; i < n; i += 4096) p[i] = 1;
  return p[n - 4096] == 1 ? 0 : 1;
}`,
      limits: { memoryBytes: 256 * MiB },
    });
    expect(c.verdict).toBe('ok');
    expect(c.memoryBytes).toBeGreaterThanOrEqual(100 * MiB);
    expect(c.memoryBytes).toBeLessThan(130 * MiB);

    const prepared = await service.prepare({
      language: 'javascript',
      source: 'const b = Buffer.alloc(100 * 1024 * 1024, 1); console.log(b[b.length - 1]);',
    });
    if (!prepared.ok) throw new Error('no program');
    const node = await service.run({
      program: prepared.program,
      limits: { memoryBytes: 256 * MiB },
    });
    expect(node.verdict).toBe('ok');
    expect(text(node.stdout)).toBe('1\n');
    expect(node.memoryBytes).toBeGreaterThanOrEqual(100 * MiB);
  });

  it('gives runtime errors with the exit code or the signal', async () => {
    const marker = newMarker();
    const exit = await runPython({ sandbox, marker, source: 'import sys; sys.exit(3)' });
    expect(exit).toMatchObject({ verdict: 'runtime_error', exitCode: 3, signal: null });
    const exception = await runPython({ sandbox, marker, source: 'raise ValueError("boom")' });
    expect(exception).toMatchObject({ verdict: 'runtime_error', exitCode: 1 });
    expect(text(exception.stderr)).toMatch(/ValueError: boom/);
    const segfault = await runCompiled({
      sandbox,
      marker,
      language: 'c',
      source: 'int main(void) { volatile int *p = 0; return *p; }',
    });
    expect(segfault).toMatchObject({ verdict: 'runtime_error', exitCode: null, signal: 'SIGSEGV' });
    const fpe = await runCompiled({
      sandbox,
      marker,
      language: 'c',
      source: 'int main(void) { volatile int seven = 7, zero = 0; return seven / zero; }',
    });
    expect(fpe).toMatchObject({ verdict: 'runtime_error', signal: 'SIGFPE' });
    expect(processesWithMarker(marker)).toEqual([]);
  });

  it('passes stdin through and keeps stdout and stderr apart', async () => {
    const marker = newMarker();
    const result = await runPython({
      sandbox,
      marker,
      source:
        'import sys\ndata = sys.stdin.read()\nprint(data.upper(), end="")\nprint("note", file=sys.stderr)',
      stdin: 'some input\n',
    });
    expect(result.verdict).toBe('ok');
    expect(text(result.stdout)).toBe('SOME INPUT\n');
    expect(text(result.stderr)).toBe('note\n');
  });

  it('reports failures of the harness as internal_error, and logs them', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'error',
      destination: { write: (line: string) => lines.push(line) },
    });
    const step = {
      kind: 'run' as const,
      files: { 'main.py': { content: 'print(1)' } },
      env: BASE_ENV,
    };
    const missingToolchain = await runInSandbox({
      host,
      logger,
      step: { ...step, argv: ['/usr/bin/no-such-interpreter', 'main.py'], limits: TIGHT_LIMITS },
    });
    expect(missingToolchain.result.verdict).toBe('internal_error');
    const badLimits = await runInSandbox({
      host,
      logger,
      step: {
        ...step,
        argv: ['/usr/bin/python3', 'main.py'],
        limits: { ...TIGHT_LIMITS, openFiles: 2 },
      },
    });
    expect(badLimits.result.verdict).toBe('internal_error');
    const logged = lines.map(
      (line) => JSON.parse(line) as { msg: string; err?: { message: string } },
    );
    expect(logged.map((line) => line.err?.message)).toEqual([
      expect.stringMatching(/bwrap ended without an exit status.*no-such-interpreter/s),
      expect.stringMatching(/openFiles must be at least/),
    ]);
    expect(readdirSync(host.workRoot)).toEqual([]);
  });

  it('leaves no cgroup, process or work directory behind', async () => {
    expect(leftoverCgroups(host)).toEqual([]);
  });
});

if (!sandbox.available) reportMissingSandbox('sandboxed runs', sandbox.reason);
