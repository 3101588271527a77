import { describe, expect, it } from 'vitest';
import type { RunResult } from '../sandbox/sandbox.types.ts';
import { firstCompileError, readCrash } from './submissions.diagnostics.ts';
import {
  type Feedback,
  type HeuristicInput,
  heuristicFeedback,
  publicTestData,
  quote,
} from './submissions.feedback.ts';
import { judgeTest, overallVerdict, type TestOutcome } from './submissions.models.ts';
import { runResult } from './submissions.test-utils.ts';

/*
 * The outputs below are what the toolchains of the sandbox print (gcc 12, g++ 12, javac 17,
 * rustc, the TypeScript transpiler, CPython 3.11, Node 20, OpenJDK 17), captured from real runs
 * in the sandbox's work directory /box.
 */

/** A test outcome as the judge makes it (hidden ones stripped by judgeTest itself). */
const judged = (
  index: number,
  options: { hidden?: boolean; run?: Partial<RunResult>; expected?: string } = {},
): TestOutcome =>
  judgeTest({
    index,
    hidden: options.hidden ?? false,
    weight: 1,
    // Silent unless told otherwise: a test printing nothing is the clearest baseline.
    run: runResult({ stdout: Buffer.alloc(0), ...options.run }),
    expected: Buffer.from(options.expected ?? ''),
    checker: 'trim',
    floatTolerance: null,
  });

const crashed = (stderr: string, extra: Partial<RunResult> = {}): Partial<RunResult> => ({
  verdict: 'runtime_error',
  exitCode: 1,
  stderr: Buffer.from(stderr),
  ...extra,
});

const feedbackFor = (input: Partial<HeuristicInput> & { tests: TestOutcome[] }): Feedback =>
  heuristicFeedback({
    language: 'python',
    verdict: overallVerdict(input.tests),
    compileOutput: null,
    timeLimitMs: 2000,
    ...input,
  });

const text = (feedback: Feedback) => [feedback.summary, ...feedback.suggestions].join('\n');

const compileError = (language: string, compileOutput: string) =>
  heuristicFeedback({
    language,
    verdict: 'compilation_error',
    compileOutput,
    tests: [],
    timeLimitMs: 2000,
  });

describe('heuristic feedback on compile errors', () => {
  it('gcc: the first error with its line, and the missing-semicolon hint', () => {
    const output = [
      'main.c: In function ‘main’:',
      'main.c:4:3: error: expected ‘,’ or ‘;’ before ‘printf’',
      '    4 |   printf("%d\\n", n);',
      '      |   ^~~~~~',
      '',
    ].join('\n');
    const feedback = compileError('c', output);
    expect(feedback.source).toBe('heuristic');
    expect(feedback.summary).toBe(
      'Compilation failed at line 4: expected ‘,’ or ‘;’ before ‘printf’.',
    );
    expect(feedback.suggestions.join(' ')).toMatch(/missing semicolon.*line before/);
  });

  it('g++: counts the further errors and points at the first', () => {
    const output = [
      'main.cpp: In function ‘int main()’:',
      'main.cpp:5:27: error: ‘undefined_name’ was not declared in this scope',
      '    5 |   std::cout << v.at(5) << undefined_name << "\\n";',
      '      |                           ^~~~~~~~~~~~~~',
      'main.cpp:6:3: error: ‘retrun’ was not declared in this scope',
      '    6 |   retrun 0;',
      '      |   ^~~~~~',
      '',
    ].join('\n');
    const feedback = compileError('cpp', output);
    expect(feedback.summary).toBe(
      'Compilation failed at line 5: ‘undefined_name’ was not declared in this scope (and 1 more error).',
    );
    expect(text(feedback)).toContain('spelling, scope and imports');
    expect(text(feedback)).toContain('Fix the first error first');
  });

  it('javac: line and message, and a public class that is not Main', () => {
    expect(
      compileError(
        'java',
        "Main.java:3: error: ';' expected\n    int x = 1\n             ^\n1 error\n",
      ).summary,
    ).toBe("Compilation failed at line 3: ';' expected.");
    const misnamed = compileError(
      'java',
      'Main.java:1: error: class Solution is public, should be declared in a file named Solution.java\npublic class Solution {\n       ^\n1 error\n',
    );
    expect(misnamed.summary).toContain('at line 1: class Solution is public');
    expect(misnamed.suggestions).toContain(
      'The judge compiles Main.java: rename class Solution to Main.',
    );
  });

  it('rustc: the error code and the line from the --> below it', () => {
    const output = [
      'error[E0425]: cannot find value `x` in this scope',
      ' --> main.rs:3:20',
      '  |',
      '3 |     println!("{}", x);',
      '  |                    ^',
      '  |',
      'help: a local variable with a similar name exists',
      '  |',
      '3 -     println!("{}", x);',
      '3 +     println!("{}", v);',
      '  |',
      '',
      'error: aborting due to 1 previous error',
      '',
      'For more information about this error, try `rustc --explain E0425`.',
      '',
    ].join('\n');
    expect(compileError('rust', output).summary).toBe(
      'Compilation failed at line 3: cannot find value `x` in this scope [E0425].',
    );
  });

  it('go build and the TypeScript transpiler', () => {
    expect(
      compileError('go', '# command-line-arguments\n./main.go:5:2: undefined: x\n').summary,
    ).toBe('Compilation failed at line 5: undefined: x.');
    expect(
      compileError('typescript', 'main.ts(1,19): error TS1109: Expression expected.\n'),
    ).toMatchObject({ summary: 'Compilation failed at line 1: TS1109: Expression expected.' });
  });

  it('the linker: no line, and what an undefined reference means', () => {
    const output = [
      "/usr/bin/ld: /tmp/ccLtecFS.o: in function `main':",
      "main.c:(.text.startup+0x6): undefined reference to `foo'",
      'collect2: error: ld returned 1 exit status',
      '',
    ].join('\n');
    const feedback = compileError('c', output);
    expect(feedback.summary).toBe("Compilation failed: undefined reference to `foo'.");
    expect(text(feedback)).toContain('never defined');
  });

  it('a compiler that printed nothing (killed for time or memory)', () => {
    expect(compileError('cpp', '').summary).toMatch(/without an error message/);
    expect(firstCompileError('')).toBeNull();
  });
});

/** Crash output of each runtime, and what should be read from it. */
const CRASHES: ReadonlyArray<{
  name: string;
  language: string;
  stderr: string;
  error: string | null;
  line: number | null;
}> = [
  {
    name: 'CPython: the exception line, and the frame in main.py',
    language: 'python',
    stderr: [
      'Traceback (most recent call last):',
      '  File "/box/main.py", line 7, in <module>',
      '    print(10 // (n - n))',
      '          ~~~^^~~~~~~~~',
      'ZeroDivisionError: integer division or modulo by zero',
    ].join('\n'),
    error: 'ZeroDivisionError: integer division or modulo by zero',
    line: 7,
  },
  {
    name: 'CPython: the innermost frame of main.py',
    language: 'python',
    stderr: [
      'Traceback (most recent call last):',
      '  File "/box/main.py", line 9, in <module>',
      '    main()',
      '  File "/box/main.py", line 6, in main',
      '    m = int(input())',
      '            ^^^^^^^',
      'EOFError: EOF when reading a line',
    ].join('\n'),
    error: 'EOFError: EOF when reading a line',
    line: 6,
  },
  {
    name: 'CPython: a syntax error has no "Traceback" line',
    language: 'python',
    stderr: [
      '  File "/box/main.py", line 2',
      '    print(x',
      '         ^',
      "SyntaxError: '(' was never closed",
    ].join('\n'),
    error: "SyntaxError: '(' was never closed",
    line: 2,
  },
  {
    name: 'CPython: a traceback cut short by the stderr cap keeps its line',
    language: 'python',
    stderr:
      'Traceback (most recent call last):\n  File "/box/main.py", line 3, in <module>\n    f(',
    error: null,
    line: 3,
  },
  {
    name: 'Node: the error below the source excerpt, and main.js:N',
    language: 'javascript',
    stderr: [
      '/box/main.js:1',
      'function f(n) { return f(n + 1); }',
      '                ^',
      '',
      'RangeError: Maximum call stack size exceeded',
      '    at f (/box/main.js:1:17)',
      '    at f (/box/main.js:1:24)',
      '',
      'Node.js v20.20.2',
    ].join('\n'),
    error: 'RangeError: Maximum call stack size exceeded',
    line: 1,
  },
  {
    name: 'the JVM: the first Main.java frame below the library ones',
    language: 'java',
    stderr: [
      'Exception in thread "main" java.util.NoSuchElementException',
      '\tat java.base/java.util.Scanner.throwFor(Scanner.java:937)',
      '\tat java.base/java.util.Scanner.next(Scanner.java:1594)',
      '\tat java.base/java.util.Scanner.nextInt(Scanner.java:2258)',
      '\tat java.base/java.util.Scanner.nextInt(Scanner.java:2212)',
      '\tat Main.main(Main.java:6)',
    ].join('\n'),
    error: 'NoSuchElementException',
    line: 6,
  },
  {
    name: 'glibc: a failed assert and its line',
    language: 'c',
    stderr: "main: main.c:4: main: Assertion `n > 0' failed.\n",
    error: 'assertion `n > 0` failed',
    line: 4,
  },
  {
    name: 'Rust: a panic, in the current format',
    language: 'rust',
    stderr: [
      "thread 'main' panicked at main.rs:4:21:",
      'index out of bounds: the len is 3 but the index is 5',
      'note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace',
    ].join('\n'),
    error: 'index out of bounds: the len is 3 but the index is 5',
    line: 4,
  },
  {
    name: 'Rust: a panic, in the format before 1.73 (Debian 12’s rustc)',
    language: 'rust',
    stderr:
      "thread 'main' panicked at 'called `Result::unwrap()` on an `Err` value: ParseIntError { kind: InvalidDigit }', main.rs:5:35\n",
    error: 'called `Result::unwrap()` on an `Err` value: ParseIntError { kind: InvalidDigit }',
    line: 5,
  },
  {
    name: 'Go: a panic and the frame in main.go',
    language: 'go',
    stderr: [
      'panic: runtime error: index out of range [5] with length 3',
      '',
      'goroutine 1 [running]:',
      'main.main()',
      '\t/box/main.go:8 +0x1d',
    ].join('\n'),
    error: 'runtime error: index out of range [5] with length 3',
    line: 8,
  },
  {
    name: 'Bash: its first complaint and line',
    language: 'bash',
    stderr: 'main.sh: line 3: foo: command not found\n',
    error: 'main.sh: line 3: foo: command not found',
    line: 3,
  },
];

const runtimeError = (language: string, stderr: string, extra: Partial<RunResult> = {}) =>
  feedbackFor({ language, tests: [judged(1, { run: crashed(stderr, extra) })] });

describe('heuristic feedback on runtime errors', () => {
  it.each(CRASHES)('reads $name', ({ language, stderr, error, line }) => {
    expect(readCrash(language, stderr)).toEqual({ error, line });
  });

  it('Python: the exception, its message, the line, and a hint for the exception', () => {
    const feedback = runtimeError('python', CRASHES[0]!.stderr);
    expect(feedback.summary).toBe(
      'Runtime error on test 1: ZeroDivisionError: integer division or modulo by zero at line 7.',
    );
    expect(feedback.suggestions[0]).toMatch(/divided by zero/);
    expect(runtimeError('python', CRASHES[1]!.stderr).suggestions[0]).toMatch(
      /reads more input than the test gives/,
    );
    const parse = [
      'Traceback (most recent call last):',
      '  File "/box/main.py", line 1, in <module>',
      '    a, b = map(int, input().split())',
      '    ^^^^',
      "ValueError: invalid literal for int() with base 10: 'x'",
    ].join('\n');
    expect(runtimeError('python', parse).suggestions[0]).toMatch(/not read as it is laid out/);
  });

  it('Node 20: the error and main.js:N', () => {
    const stderr = [
      '/box/main.js:3',
      'console.log(cfg.size.width);',
      '                     ^',
      '',
      "TypeError: Cannot read properties of undefined (reading 'width')",
      '    at Object.<anonymous> (/box/main.js:3:22)',
      '    at Module._compile (node:internal/modules/cjs/loader:1521:14)',
      '    at Module._extensions..js (node:internal/modules/cjs/loader:1623:10)',
      '    at Module.load (node:internal/modules/cjs/loader:1266:32)',
      '    at Module._load (node:internal/modules/cjs/loader:1091:12)',
      '    at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:164:12)',
      '    at node:internal/main/run_main_module:28:49',
      '',
      'Node.js v20.20.2',
    ].join('\n');
    const feedback = runtimeError('javascript', stderr);
    expect(feedback.summary).toBe(
      "Runtime error on test 1: TypeError: Cannot read properties of undefined (reading 'width') at line 3.",
    );
    expect(feedback.suggestions[0]).toMatch(/A value is missing/);
  });

  it('Java 17: the exception without its package, and the Main.java frame', () => {
    const stderr = [
      'Exception in thread "main" java.lang.ArrayIndexOutOfBoundsException: Index 2 out of bounds for length 2',
      '\tat Main.main(Main.java:8)',
    ].join('\n');
    const feedback = runtimeError('java', stderr);
    expect(feedback.summary).toBe(
      'Runtime error on test 1: ArrayIndexOutOfBoundsException: Index 2 out of bounds for length 2 at line 8.',
    );
    expect(feedback.suggestions[0]).toMatch(/loop bounds/);
  });

  it('C: SIGSEGV and SIGFPE explained, with the stack-array hint for a segfault', () => {
    const signalled = (signal: string) => runtimeError('c', '', { exitCode: null, signal });
    expect(signalled('SIGSEGV').summary).toBe(
      'Runtime error on test 1: the program was stopped by SIGSEGV: invalid memory access, e.g. an index out of bounds or a null pointer.',
    );
    expect(text(signalled('SIGSEGV'))).toContain('Large local arrays');
    expect(signalled('SIGFPE').summary).toContain(
      'SIGFPE: an arithmetic error, usually a division by zero',
    );
  });

  it('C and C++: what stderr says wins over the bare SIGABRT, which is still explained', () => {
    const assertion = runtimeError('c', CRASHES[6]!.stderr, { exitCode: null, signal: 'SIGABRT' });
    expect(assertion.summary).toBe('Runtime error on test 1: assertion `n > 0` failed at line 4.');
    expect(text(assertion)).toContain('SIGABRT means an assertion or abort');
    const thrown = [
      "terminate called after throwing an instance of 'std::out_of_range'",
      '  what():  vector::_M_range_check: __n (which is 5) >= this->size() (which is 3)',
    ].join('\n');
    const feedback = runtimeError('cpp', thrown, { exitCode: null, signal: 'SIGABRT' });
    expect(feedback.summary).toBe(
      'Runtime error on test 1: uncaught exception std::out_of_range: vector::_M_range_check: __n (which is 5) >= this->size() (which is 3).',
    );
    expect(feedback.suggestions[0]).toMatch(/index is outside/);
  });

  it('C: a non-zero exit code with nothing on stderr', () => {
    const feedback = feedbackFor({
      language: 'c',
      tests: [judged(3, { run: { verdict: 'runtime_error', exitCode: 1 } })],
    });
    expect(feedback.summary).toBe('Runtime error on test 3: the program exited with code 1.');
    expect(feedback.suggestions).toContain('main must return 0 when the program succeeds.');
  });

  it('only hidden tests crashed: says so, and nothing of them', () => {
    const feedback = feedbackFor({
      tests: [
        judged(1, { run: { stdout: Buffer.from('3\n') }, expected: '3\n' }),
        judged(2, {
          hidden: true,
          run: crashed('Traceback (most recent call last):\nSECRET-HIDDEN-STDERR\n'),
        }),
      ],
    });
    expect(feedback.summary).toBe(
      'Runtime error on 1 hidden test; the public tests ran without one.',
    );
    expect(text(feedback)).not.toContain('SECRET');
  });
});

describe('heuristic feedback on wrong answers', () => {
  it('a public test: the first differing line, quoted', () => {
    const feedback = feedbackFor({
      tests: [
        judged(1, { run: { stdout: Buffer.from('3\n') }, expected: '3\n' }),
        judged(2, { run: { stdout: Buffer.from('1\n5\n') }, expected: '1\n6\n' }),
      ],
    });
    expect(feedback.summary).toBe('Wrong answer. Test 2, line 2: expected "6", got "5".');
  });

  it('quotes safely: escapes, and caps long lines', () => {
    const long = 'x'.repeat(500);
    const feedback = feedbackFor({
      tests: [judged(1, { run: { stdout: Buffer.from(`${long}\n`) }, expected: 'a\t"b"\u202e\n' })],
    });
    expect(feedback.summary).toContain('expected "a\\t\\"b\\"\\u202e"');
    expect(feedback.summary).toContain(`got "${'x'.repeat(60)}…"`);
    expect(quote('`rm -rf`\n')).toBe('"`rm -rf`\\n"');
  });

  it('output that ends early, output with extra lines, nothing at all', () => {
    expect(
      feedbackFor({
        tests: [judged(1, { run: { stdout: Buffer.from('1\n') }, expected: '1\n2\n' })],
      }).summary,
    ).toBe('Wrong answer. Test 1: your output ends before line 2 (expected "2").');
    const extra = feedbackFor({
      tests: [judged(1, { run: { stdout: Buffer.from('1\ndebug: i=3\n') }, expected: '1\n' })],
    });
    expect(extra.summary).toBe(
      'Wrong answer. Test 1: your output has more lines than expected; line 2 is "debug: i=3".',
    );
    expect(text(extra)).toContain('Remove debugging output');
    expect(feedbackFor({ tests: [judged(1, { expected: '42\n' })] }).suggestions[0]).toMatch(
      /printed nothing/,
    );
  });

  it('spacing, letter case and precision get their own hint', () => {
    const hint = (stdout: string, expected: string) =>
      feedbackFor({ tests: [judged(1, { run: { stdout: Buffer.from(stdout) }, expected })] })
        .suggestions[0];
    expect(hint('1  2\n', '1 2\n')).toMatch(/Only the spacing differs/);
    expect(hint('yes\n', 'YES\n')).toMatch(/Only letter case differs/);
    expect(hint('0.3333\n', '0.333333\n')).toMatch(/numbers are close/);
  });

  it('only hidden tests failed: says so without any detail of them', () => {
    const feedback = feedbackFor({
      language: 'cpp',
      tests: [
        judged(1, { run: { stdout: Buffer.from('3\n') }, expected: '3\n' }),
        judged(2, {
          hidden: true,
          run: { stdout: Buffer.from('SECRET-HIDDEN-OUTPUT\n') },
          expected: 'SECRET-HIDDEN-EXPECTED\n',
        }),
      ],
    });
    expect(feedback.summary).toBe('Wrong answer on 1 hidden test, though the public test passed.');
    expect(text(feedback)).toContain('integer overflow');
    expect(text(feedback)).not.toMatch(/SECRET|line \d/);
  });
});

describe('heuristic feedback on limits, acceptance and harness failures', () => {
  it('time limit: the limit, and complexity, loops and fast input for the language', () => {
    const feedback = feedbackFor({
      language: 'java',
      timeLimitMs: 1500,
      tests: [
        judged(1, {
          run: {
            verdict: 'time_limit_exceeded',
            limitExceeded: 'cpu',
            exitCode: null,
            signal: 'SIGKILL',
            cpuMs: 1502,
          },
        }),
      ],
    });
    expect(feedback.summary).toBe('Time limit exceeded on test 1 (limit 1.5 s).');
    expect(text(feedback)).toMatch(/10\^8 simple steps/);
    expect(text(feedback)).toMatch(/every loop ends/);
    expect(text(feedback)).toMatch(/BufferedReader instead of Scanner/);
  });

  it('time limit on the wall clock: waiting for input; on a hidden test, no such detail', () => {
    const stalled = (hidden: boolean) =>
      feedbackFor({
        tests: [
          judged(1, {
            hidden,
            run: {
              verdict: 'time_limit_exceeded',
              limitExceeded: 'wall',
              exitCode: null,
              signal: 'SIGKILL',
              cpuMs: 20,
            },
          }),
        ],
      });
    expect(stalled(false).summary).toBe('Time limit exceeded on test 1 (limit 2 s).');
    expect(stalled(false).suggestions[0]).toMatch(/waiting for input/);
    expect(stalled(true).summary).toBe('Time limit exceeded on a hidden test (limit 2 s).');
    expect(text(stalled(true))).not.toMatch(/waiting for input/);
  });

  it('memory and output limits', () => {
    expect(
      text(
        feedbackFor({
          tests: [
            judged(1, {
              run: {
                verdict: 'memory_limit_exceeded',
                limitExceeded: 'memory',
                exitCode: null,
                signal: 'SIGKILL',
              },
            }),
          ],
        }),
      ),
    ).toMatch(/Memory limit exceeded on test 1\.[\s\S]*process the input as you read it/);
    expect(
      text(
        feedbackFor({
          tests: [
            judged(1, {
              run: {
                verdict: 'output_limit_exceeded',
                limitExceeded: 'output',
                exitCode: null,
                signal: 'SIGPIPE',
              },
            }),
          ],
        }),
      ),
    ).toMatch(
      /Output limit exceeded on test 1: the program printed far more[\s\S]*never ends while printing/,
    );
  });

  it('accepted: a short congratulation, and a word when it was close to the limit', () => {
    const passing = (cpuMs: number) =>
      judged(1, { run: { stdout: Buffer.from('3\n'), cpuMs }, expected: '3\n' });
    expect(feedbackFor({ tests: [passing(10)] })).toEqual({
      source: 'heuristic',
      summary: 'Accepted, well done! All 1 test passed.',
      suggestions: [],
    });
    expect(feedbackFor({ tests: [passing(1900)] }).suggestions[0]).toMatch(
      /slowest test took 1900 ms of the 2000 ms/,
    );
  });

  it('internal error: not the student’s fault', () => {
    expect(feedbackFor({ verdict: 'internal_error', tests: [] }).summary).toMatch(
      /not a problem with your code/,
    );
  });

  it('stays under about 1 KB however long the outputs are', () => {
    const huge = `${'y'.repeat(5000)}\n`;
    for (const feedback of [
      feedbackFor({
        tests: [judged(1, { run: { stdout: Buffer.from(huge) }, expected: huge + huge })],
      }),
      compileError('c', `main.c:1:1: error: ${'z'.repeat(5000)}\n`.repeat(50)),
      feedbackFor({
        tests: [
          judged(1, {
            run: crashed(
              `Traceback (most recent call last):\n  File "/box/main.py", line 1, in <module>\nValueError: ${'v'.repeat(5000)}\n`,
            ),
          }),
        ],
      }),
    ])
      expect(text(feedback).length).toBeLessThanOrEqual(1024);
  });
});

describe('public test data', () => {
  it('numbers tests as the judge does, and leaves hidden ones out', () => {
    expect(
      publicTestData([
        { hidden: false, input: Buffer.from('1 2\n'), expectedOutput: Buffer.from('3\n') },
        { hidden: true, input: Buffer.from('SECRET\n'), expectedOutput: Buffer.from('SECRET\n') },
        { hidden: false, input: '5 5\n', expectedOutput: '10\n' },
      ]),
    ).toEqual([
      { index: 1, input: '1 2\n', expectedOutput: '3\n' },
      { index: 3, input: '5 5\n', expectedOutput: '10\n' },
    ]);
  });
});
