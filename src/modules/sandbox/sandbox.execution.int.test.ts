import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/logger/logger.ts';
import { PACKAGE_ROOT } from '../../platform/paths.ts';
import { createExecutionService } from './sandbox.execution.ts';
import type { ExecutionService } from './sandbox.execution.types.ts';
import { reportMissingSandbox, sandboxUnusable } from './sandbox.test-utils.ts';

const usable = await sandboxUnusable();

const settings = {
  mode: 'bwrap' as const,
  poolSize: 2,
  queueMax: 10,
  cpuMs: 2000,
  wallMs: 5000,
  memoryMb: 256,
  maxCpuMs: 10_000,
  maxWallMs: 20_000,
  maxMemoryMb: 1024,
  processes: 64,
  outputBytes: 1024 * 1024,
};

if (usable !== null) {
  reportMissingSandbox('the execution service', usable);
} else {
  describe('the execution service', () => {
    let execution: ExecutionService;
    beforeAll(() => {
      execution = createExecutionService({
        settings,
        logger: createLogger({ level: 'silent' }),
        hiddenPaths: ['/etc/shadow'],
        appDir: PACKAGE_ROOT,
        hostPath: '/usr/bin:/bin',
      });
    });
    afterAll(async () => {
      await execution.close();
    });

    it('compiles a submission once and runs each test in order, reporting each as it ends', async () => {
      const seen: number[] = [];
      const outcome = await execution.executeTests({
        owner: 'test',
        language: 'c',
        source:
          '#include <stdio.h>\nint main(void) { long a, b; if (scanf("%ld %ld", &a, &b) != 2) return 3; printf("%ld\\n", a + b); return 0; }\n',
        tests: [{ stdin: '1 2\n' }, { stdin: '40 2\n' }, { stdin: 'oops\n' }],
        onTest: (index) => {
          seen.push(index);
        },
      });
      expect(outcome.compile?.status).toBe('ok');
      expect(outcome.tests.map((test) => [test.verdict, test.stdout.toString()])).toEqual([
        ['ok', '3\n'],
        ['ok', '42\n'],
        ['runtime_error', ''],
      ]);
      expect(outcome.tests[2]?.exitCode).toBe(3);
      expect(seen).toEqual([0, 1, 2]);
    });

    it('runs no test when the compile fails, and says why', async () => {
      const outcome = await execution.executeTests({
        owner: 'test',
        language: 'cpp',
        source: 'int main() { undefined_thing(); }\n',
        tests: [{ stdin: '' }],
      });
      expect(outcome.compile?.status).toBe('compile_error');
      expect(outcome.compile?.output.toString()).toMatch(/undefined_thing/);
      expect(outcome.tests).toEqual([]);
    });

    it('has no compile step for interpreted languages', async () => {
      const outcome = await execution.executeTests({
        owner: 'test',
        language: 'python',
        source: 'print(input()[::-1])\n',
        tests: [{ stdin: 'abc\n' }],
      });
      expect(outcome.compile).toBeNull();
      expect(outcome.tests[0]?.stdout.toString()).toBe('cba\n');
    });
  });
}
