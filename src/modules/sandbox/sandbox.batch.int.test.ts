import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/logger/logger.ts';
import { type BatchTest, runBatch, startBatchSandbox } from './sandbox.batch.ts';
import { BASE_ENV, findLanguage } from './sandbox.languages.ts';
import type { SandboxStep } from './sandbox.runner.ts';
import {
  leftoverCgroups,
  newMarker,
  openTestSandbox,
  processesWithMarker,
  reportMissingSandbox,
  TIGHT_LIMITS,
  text,
} from './sandbox.test-utils.ts';
import type { Limits } from './sandbox.types.ts';

const sandbox = await openTestSandbox();

const A_PLUS_B_PY = 'import sys\na, b = map(int, sys.stdin.read().split())\nprint(a + b)\n';
const A_PLUS_B_C =
  '#include <stdio.h>\nint main(void) { long a, b; if (scanf("%ld %ld", &a, &b) != 2) return 2; printf("%ld\\n", a + b); return 0; }\n';
const INPUTS = ['1 2\n', '40 2\n', '-5 5\n', '1000000 1\n', '7 -9\n'];
const SUMS = ['3\n', '42\n', '0\n', '1000001\n', '-2\n'];

describe.runIf(sandbox.available)(
  'per-submission mode: the tests of one submission in one sandbox',
  () => {
    if (!sandbox.available) return;
    const { host, service } = sandbox;
    let marker = '';
    let logged: { level: number; msg: string; reason?: string }[] = [];
    const logger = createLogger({
      level: 'warn',
      destination: { write: (line: string) => logged.push(JSON.parse(line)) },
    });
    const fellBack = () => logged.filter((line) => line.msg.includes('fresh sandboxes'));

    beforeEach(() => {
      marker = newMarker();
      logged = [];
    });

    afterEach(() => {
      expect(processesWithMarker(marker), 'stray processes').toEqual([]);
      expect(leftoverCgroups(host), 'leftover cgroups').toEqual([]);
      // The compiled supervisor stays for the host's lifetime; no step directory does.
      expect(
        readdirSync(host.workRoot).filter((name) => !name.startsWith('supervisor-')),
        'leftover work directories',
      ).toEqual([]);
      expect(readdirSync(tmpdir()).filter((name) => name.includes(marker))).toEqual([]);
    });

    afterAll(() => host.close());

    for (const ahead of [false, true]) {
      describe(
        ahead ? 'in a sandbox started ahead of the batch' : 'in a sandbox started by the batch',
        () => {
          const python = async (
            source: string,
            tests: BatchTest[],
            limits: Partial<Limits> = {},
          ) => {
            const program = {
              argv: ['/usr/bin/python3', '-B', 'main.py'],
              files: { 'main.py': { content: source } },
              limits: { ...TIGHT_LIMITS, ...limits },
              env: { ...BASE_ENV, ASSAY_MARK: marker },
            } satisfies Omit<SandboxStep, 'kind'>;
            // Started and ready before the program is known, as the judge's start-ahead pool does.
            const started = ahead
              ? await startBatchSandbox({ host, logger, shape: program })
              : undefined;
            await started?.ready;
            return runBatch({
              host,
              logger,
              tests,
              program,
              ...(started ? { sandbox: started } : {}),
            });
          };

          it('runs five tests of a Python and a C a+b with their own inputs, outputs and times', async () => {
            const tests = INPUTS.map((stdin) => ({ stdin }));
            const py = await python(A_PLUS_B_PY, tests);
            const prepared = await service.prepare({ language: 'c', source: A_PLUS_B_C });
            if (!prepared.ok) throw new Error('does not compile');
            const c = await runBatch({
              host,
              logger,
              tests,
              program: {
                argv: findLanguage('c')!.run,
                files: prepared.program.files,
                limits: TIGHT_LIMITS,
                env: { ...BASE_ENV, ASSAY_MARK: marker },
              },
            });
            for (const results of [py, c]) {
              expect(results.map((result) => text(result.stdout))).toEqual(SUMS);
              for (const result of results) {
                expect(result).toMatchObject({ verdict: 'ok', exitCode: 0, signal: null });
                expect(result.cpuMs).toBeLessThan(TIGHT_LIMITS.cpuMs);
                expect(result.wallMs).toBeLessThan(TIGHT_LIMITS.wallMs);
                expect(result.memoryBytes).toBeGreaterThan(0);
              }
            }
            // Python's start-up is measured per test, not once for the batch.
            for (const result of py) expect(result.cpuMs).toBeGreaterThanOrEqual(3);
            expect(fellBack()).toEqual([]);

            const viaService = await service.runMany({
              program: prepared.program,
              tests: [{ stdin: '2 2\n' }, { stdin: 'x' }],
            });
            expect(viaService.map((result) => [result.verdict, text(result.stdout)])).toEqual([
              ['ok', '4\n'],
              ['runtime_error', ''],
            ]);
          });

          it('no process of a test survives into the next: daemons, setsid and double forks die', async () => {
            const results = await python(
              `
import os, subprocess, sys, time
if sys.stdin.read() == 'leave':
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(60)
        os._exit(0)
    if os.fork() == 0:
        time.sleep(60)
    subprocess.Popen(['/usr/bin/sleep', '60'])
    print('left')
else:
    print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()) == sorted([1, os.getpid()]))
`,
              [{ stdin: 'leave' }, { stdin: 'look' }, { stdin: 'leave' }, { stdin: 'look' }],
            );
            expect(results.map((result) => [result.verdict, text(result.stdout)])).toEqual([
              ['ok', 'left\n'],
              ['ok', 'True\n'],
              ['ok', 'left\n'],
              ['ok', 'True\n'],
            ]);
            // Not held until the wall limit by the children holding stdout.
            expect(results[0]!.wallMs).toBeLessThan(2000);
            expect(fellBack()).toEqual([]);
          });

          it('every test starts with an empty /tmp and /dev/shm and no SysV IPC object', async () => {
            const results = await python(
              `
import ctypes, os, sys
if sys.stdin.read() == 'litter':
    for root in ['/tmp', '/dev/shm']:
        open(f'{root}/file', 'w').write('x' * 100000)
        deep = root
        for level in range(300):
            deep = os.path.join(deep, 'd')
            os.mkdir(deep)
        open(os.path.join(deep, 'bottom'), 'w').write('x')
        os.symlink('/box', f'{root}/link')
        os.mkfifo(f'{root}/fifo')
        os.mkdir(f'{root}/locked')
        open(f'{root}/locked/inside', 'w').write('x')
        os.chmod(f'{root}/locked', 0)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmget(0, 4096, 0o1000 | 0o600)
    libc.msgget(0, 0o1000 | 0)
    print('littered')
else:
    ipc = [len(open(f'/proc/sysvipc/{kind}').read().splitlines()) - 1 for kind in ['shm', 'msg', 'sem']]
    print(os.listdir('/tmp'), os.listdir('/dev/shm'), ipc)
`,
              [{ stdin: 'litter' }, { stdin: 'look' }],
            );
            expect(results.map((result) => [result.verdict, text(result.stdout)])).toEqual([
              ['ok', 'littered\n'],
              ['ok', '[] [] [0, 0, 0]\n'],
            ]);
            expect(fellBack()).toEqual([]);
          });

          it("a test cannot read the supervisor's pipes or the next test's input, nor kill the supervisor", async () => {
            const results = await python(
              `
import json, os, signal, sys
def attempt(fn):
    try:
        fn()
        return 'ok'
    except OSError as error:
        return type(error).__name__
own = sys.stdin.read()
report = {
    'own input': own,
    'fd0': attempt(lambda: open('/proc/1/fd/0', 'rb').read(1)),
    'fd5': attempt(lambda: open('/proc/1/fd/5', 'rb').read(1)),
    'fds': attempt(lambda: os.listdir('/proc/1/fd')),
    'mem': attempt(lambda: open('/proc/1/mem', 'rb').read(1)),
    'started': open('/proc/1/stat').read().split(')')[1].split()[19],
}
if own == 'first':
    os.kill(1, signal.SIGKILL)
    os.kill(1, signal.SIGTERM)
print(json.dumps(report))
`,
              [{ stdin: 'first' }, { stdin: 'second' }],
            );
            expect(results.map((result) => result.verdict)).toEqual(['ok', 'ok']);
            const [first, second] = results.map((result) => JSON.parse(text(result.stdout)));
            expect(first).toMatchObject({
              'own input': 'first',
              fd0: 'PermissionError',
              fd5: 'PermissionError',
              fds: 'PermissionError',
              mem: 'PermissionError',
            });
            expect(second['own input']).toBe('second');
            // The same supervisor (pid 1 started at the same time) ran the second test: it survived.
            expect(second.started).toBe(first.started);
            expect(fellBack()).toEqual([]);
          });

          it('a test over a limit does not break the tests after it', async () => {
            const results = await python(
              `
import sys, time
what = sys.stdin.read()
if what == 'spin':
    while True: pass
elif what == 'sleep':
    time.sleep(60)
elif what == 'hog':
    chunks = []
    while True: chunks.append(bytearray(1 << 20))
elif what == 'flood':
    while True: sys.stdout.write('flood ' * 1000)
elif what == 'crash':
    raise SystemExit(3)
else:
    print(sum(map(int, what.split())))
`,
              [
                { stdin: 'spin' },
                { stdin: '1 2' },
                { stdin: 'sleep', limits: { wallMs: 800 } },
                { stdin: '3 4' },
                { stdin: 'hog' },
                { stdin: '5 6' },
                { stdin: 'flood' },
                { stdin: 'crash' },
                { stdin: '7 8' },
              ],
            );
            expect(
              results.map((result) => [
                result.verdict,
                result.limitExceeded,
                text(result.stdout).length,
              ]),
            ).toEqual([
              ['time_limit_exceeded', 'cpu', 0],
              ['ok', null, 2],
              ['time_limit_exceeded', 'wall', 0],
              ['ok', null, 2],
              ['memory_limit_exceeded', 'memory', 0],
              ['ok', null, 3],
              ['output_limit_exceeded', 'output', TIGHT_LIMITS.outputBytes],
              ['runtime_error', null, 0],
              ['ok', null, 3],
            ]);
            expect(results[0]!.cpuMs).toBeGreaterThanOrEqual(TIGHT_LIMITS.cpuMs);
            expect(results[0]!.cpuMs).toBeLessThan(TIGHT_LIMITS.cpuMs + 300);
            expect(results[1]!.cpuMs).toBeLessThan(200);
            expect(results[2]!.wallMs).toBeGreaterThanOrEqual(800);
            expect(results[4]!.memoryBytes).toBeLessThanOrEqual(TIGHT_LIMITS.memoryBytes);
            // The peak restarts with each test.
            expect(results[5]!.memoryBytes).toBeLessThan(TIGHT_LIMITS.memoryBytes / 2);
            expect(results[7]!.exitCode).toBe(3);
            // All in the one sandbox: none of these made the supervisor give up.
            expect(fellBack()).toEqual([]);
          });

          it('a test that changes the supervisor (priority, limits) sends the rest to fresh sandboxes', async () => {
            const results = await python(
              `
import os, resource, sys
what = sys.stdin.read()
if what == 'renice':
    os.setpriority(os.PRIO_PROCESS, 1, 5)
elif what == 'prlimit':
    resource.prlimit(1, resource.RLIMIT_NOFILE, (20, 20))
print(what, os.getpriority(os.PRIO_PROCESS, 0), resource.getrlimit(resource.RLIMIT_NOFILE)[0])
`,
              [{ stdin: 'renice' }, { stdin: 'look' }, { stdin: 'prlimit' }, { stdin: 'look' }],
            );
            expect(results.map((result) => [result.verdict, text(result.stdout)])).toEqual([
              ['ok', 'renice 0 64\n'],
              ['ok', 'look 0 64\n'],
              ['ok', 'prlimit 0 64\n'],
              ['ok', 'look 0 64\n'],
            ]);
            expect(fellBack().map((line) => line.reason)).toEqual([
              expect.stringContaining('no longer fresh'),
            ]);
          });

          it('a supervisor lost during a test: that test and the rest run again in fresh sandboxes', async () => {
            const batch = python(
              'import sys, time\nwhat = sys.stdin.read()\nif what == "wait": time.sleep(1)\nprint(what)\n',
              [{ stdin: 'wait' }, { stdin: 'next' }, { stdin: 'last' }],
            );
            // Killed from the host: the supervisor is the marked process that runs /.assay/supervise.
            let killed = false;
            for (let tries = 0; tries < 100 && !killed; tries += 1) {
              const commands = new Map<number, string>();
              for (const pid of processesWithMarker(marker)) {
                try {
                  commands.set(pid, readFileSync(`/proc/${pid}/cmdline`, 'latin1'));
                } catch {
                  // exited meanwhile
                }
              }
              // Only once the first test runs, so that it is a test the supervisor is lost in.
              const supervisor = [...commands].find(([, command]) =>
                command.startsWith('/.assay/'),
              );
              if (
                supervisor &&
                [...commands.values()].some((command) => command.startsWith('/usr/bin/python3'))
              ) {
                process.kill(supervisor[0], 'SIGKILL');
                killed = true;
              }
              if (!killed) await new Promise((resolve) => setTimeout(resolve, 10));
            }
            const results = await batch;
            expect(killed).toBe(true);
            expect(results.map((result) => [result.verdict, text(result.stdout)])).toEqual([
              ['ok', 'wait\n'],
              ['ok', 'next\n'],
              ['ok', 'last\n'],
            ]);
            expect(fellBack().map((line) => line.reason)).toEqual([
              expect.stringContaining('the supervisor ended during a test'),
            ]);
          });
        },
      );
    }
  },
);

if (!sandbox.available) reportMissingSandbox('per-submission mode', sandbox.reason);
