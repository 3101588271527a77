import { z } from 'zod';
import { storableText } from '../../platform/db/storable-text.ts';
import { createLlmClient, type LlmClient, type LlmSettings } from '../../platform/llm/llm.ts';
import type { Logger } from '../../platform/logger/logger.ts';
import { firstCompileError, readCrash, SIGNAL_MEANINGS } from './submissions.diagnostics.ts';
import type { SubmissionVerdict, TestOutcome } from './submissions.models.ts';

/** What a student is told about a judged submission (`feedback` in the API). */
export type Feedback = { source: 'llm' | 'heuristic'; summary: string; suggestions: string[] };

export type HeuristicInput = {
  language: string;
  verdict: SubmissionVerdict;
  compileOutput: string | null;
  /** As the judge keeps them: hidden tests carry only index, verdict, time and memory. */
  tests: readonly TestOutcome[];
  timeLimitMs: number;
};

/** A public test's data, which the student may see anyway. There is no such type for hidden ones. */
export type PublicTestData = { index: number; input: string; expectedOutput: string };

export type FeedbackInput = HeuristicInput & {
  statement: string;
  source: string;
  /** Public tests only; build it with `publicTestData`. Entries for hidden tests are ignored. */
  publicTests: readonly PublicTestData[];
};

/** Heuristic feedback stays short enough to read at a glance. */
const HEURISTIC_CHARS = 1024;
const LLM_CHARS = 2048;
const MAX_SUGGESTIONS = 4;
const QUOTED_CHARS = 60;

/**
 * Quotes program output or expected output for a sentence: cut to `max` characters, and
 * JSON-escaped so that newlines, trailing spaces and control or bidi characters show as what they are.
 */
export function quote(text: string, max = QUOTED_CHARS): string {
  const chars = [...text];
  const cut = chars.length > max ? `${chars.slice(0, max).join('')}…` : text;
  return JSON.stringify(cut).replace(
    /[\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Keeps feedback within `budget` characters: the summary first, then whole suggestions that fit. */
function bounded(
  source: Feedback['source'],
  summary: string,
  suggestions: string[],
  budget: number,
) {
  const clip = (text: string, max: number) => {
    const chars = [...storableText(text.trim())];
    return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : chars.join('');
  };
  const kept = clip(summary, Math.floor(budget / 2));
  let left = budget - kept.length;
  const fitting: string[] = [];
  for (const suggestion of suggestions.slice(0, MAX_SUGGESTIONS)) {
    const text = clip(suggestion, Math.floor(budget / 4));
    if (text === '' || text.length > left) continue;
    fitting.push(text);
    left -= text.length;
  }
  return { source, summary: kept, suggestions: fitting };
}

const heuristic = (summary: string, suggestions: string[]) =>
  bounded('heuristic', summary, suggestions, HEURISTIC_CHARS);

/** The first test that failed this way, named as the student may see it. */
const firstFailing = (input: HeuristicInput, verdict: TestOutcome['verdict']) => {
  const failed = input.tests.find((test) => test.verdict === verdict);
  return { failed, which: failed && !failed.hidden ? `test ${failed.index}` : 'a hidden test' };
};

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(2))} s`;

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

const FAST_INPUT: Readonly<Record<string, string>> = {
  python:
    'Read input quickly: sys.stdin.readline() or sys.stdin.read().split() instead of input().',
  java: 'Read input quickly: a BufferedReader instead of Scanner, and one StringBuilder for output.',
  cpp: 'Read input quickly: ios::sync_with_stdio(false); cin.tie(nullptr); and "\\n" instead of endl.',
  c: 'Read input with scanf or fgets, and print with one printf per line rather than per character.',
  javascript: 'Read all input at once with fs.readFileSync(0, "utf8") and print once at the end.',
  typescript: 'Read all input at once with fs.readFileSync(0, "utf8") and print once at the end.',
};

/** Hints keyed on what a crash says; the first that matches is given. */
const CRASH_HINTS: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /EOFError|NoSuchElementException|UnexpectedEof|EOF when reading/,
    'It reads more input than the test gives: check how many values you read, and stop at the end of the input.',
  ],
  [
    /RecursionError|StackOverflowError|Maximum call stack|stack overflow/i,
    'The recursion goes too deep: turn it into a loop, or keep an explicit stack.',
  ],
  [
    /ZeroDivisionError|ArithmeticException|divide by zero|division by zero/i,
    'Something is divided by zero: check the divisors that can be 0.',
  ],
  [
    /IndexError|IndexOutOfBounds|index out of (?:range|bounds)|out_of_range/i,
    'An index is outside its array or list: check the loop bounds (< length, not <=) and empty inputs.',
  ],
  [
    /invalid literal for int|NumberFormatException|ParseIntError|ParseFloatError/,
    'The input is not read as it is laid out: check separators, spaces and line ends (split() the line first).',
  ],
  [
    /Cannot read propert(?:y|ies) of (?:undefined|null)|NullPointerException|NoneType/,
    'A value is missing (undefined, null or None) where it is used: check where it is set.',
  ],
  [/KeyError/, 'A key is looked up that is not in the dictionary: check it first, or use .get().'],
  [
    /MemoryError|OutOfMemoryError|bad_alloc/,
    'It ran out of memory: keep less at once (stream the input, smaller arrays, no huge recursion).',
  ],
  [/SyntaxError/, 'The program does not parse: look at the line shown and the one before it.'],
];

const crashHint = (error: string | null) =>
  error ? CRASH_HINTS.find(([pattern]) => pattern.test(error))?.[1] : undefined;

const hiddenFailures = (tests: readonly TestOutcome[]) =>
  tests.filter((test) => test.hidden && test.verdict !== 'accepted').length;

function compileFeedback(input: HeuristicInput): Feedback {
  const error = input.compileOutput ? firstCompileError(input.compileOutput) : null;
  if (!error)
    return heuristic(
      'Compilation failed without an error message; the compiler may have run out of time or memory.',
      ['Very large constant arrays or heavy templates can make compiling slow: simplify them.'],
    );
  const where = error.line === null ? '' : ` at line ${error.line}`;
  const more = error.count > 1 ? ` (and ${plural(error.count - 1, 'more error')})` : '';
  const suggestions: string[] = [];
  if (/expected .*[;,]|[';]+ expected/.test(error.message))
    suggestions.push(
      'A missing semicolon is often reported at the start of the next statement: look at the line before too.',
    );
  const wrongClass = /class (\w+) is public, should be declared in a file named/.exec(
    error.message,
  );
  if (wrongClass)
    suggestions.push(`The judge compiles Main.java: rename class ${wrongClass[1]} to Main.`);
  if (/undefined reference to/.test(error.message))
    suggestions.push(
      'A function is declared or called but never defined: check its name, or define it.',
    );
  if (
    /not declared|cannot find symbol|cannot find value|undefined:|Cannot find name/.test(
      error.message,
    )
  )
    suggestions.push(
      'A name is used that is not declared there: check its spelling, scope and imports.',
    );
  if (error.count > 1)
    suggestions.push('Fix the first error first: the later ones often follow from it.');
  return heuristic(
    `Compilation failed${where}: ${error.message.replace(/\.$/, '')}${more}.`,
    suggestions,
  );
}

const publicPassed = (count: number) =>
  count === 0
    ? ''
    : count === 1
      ? ', though the public test passed'
      : `, though all ${count} public tests passed`;

function wrongAnswerFeedback(input: HeuristicInput): Feedback {
  const failed = input.tests.find((test) => !test.hidden && test.verdict === 'wrong_answer');
  const hidden = hiddenFailures(input.tests);
  if (!failed) {
    const publicCount = input.tests.filter((test) => !test.hidden).length;
    // Nothing is known about a hidden test but its verdict: say that much and no more.
    return heuristic(
      `Wrong answer on ${plural(hidden, 'hidden test')}${publicPassed(publicCount)}.`,
      [
        'Hidden tests often probe edge cases: the smallest and largest inputs, zeros, negatives, duplicates, empty lines.',
        ...(['c', 'cpp', 'java', 'go', 'rust'].includes(input.language)
          ? [
              'Check for integer overflow on large values (long long in C/C++, long in Java, i64 in Rust).',
            ]
          : []),
        'Make up a few tests of your own, including the limits the statement gives, and check them by hand.',
      ],
    );
  }
  const { difference } = failed;
  let detail: string;
  const suggestions: string[] = [];
  if (!difference) detail = `Test ${failed.index}: wrong answer.`;
  else if (difference.actual === null)
    detail = `Test ${failed.index}: your output ends before line ${difference.line} (expected ${quote(difference.expected ?? '')}).`;
  else if (difference.expected === null)
    detail = `Test ${failed.index}: your output has more lines than expected; line ${difference.line} is ${quote(difference.actual)}.`;
  else
    detail = `Test ${failed.index}, line ${difference.line}: expected ${quote(difference.expected)}, got ${quote(difference.actual)}.`;
  if (failed.stdout === '')
    suggestions.push('Your program printed nothing: make sure it prints the answer to stdout.');
  else if (difference?.expected === null)
    suggestions.push('Remove debugging output, and print exactly what the statement asks for.');
  else if (difference?.expected != null && difference.actual !== null) {
    const squash = (text: string) => text.replace(/\s+/g, ' ').trim();
    const expectedNumber = Number(difference.expected);
    const actualNumber = Number(difference.actual);
    if (squash(difference.expected) === squash(difference.actual))
      suggestions.push('Only the spacing differs: print the values separated exactly as shown.');
    else if (difference.expected.toLowerCase() === difference.actual.toLowerCase())
      suggestions.push('Only letter case differs: print the words exactly as the statement shows.');
    else if (
      difference.expected.trim() !== '' &&
      Number.isFinite(expectedNumber) &&
      Number.isFinite(actualNumber) &&
      Math.abs(expectedNumber - actualNumber) < 1e-3 * Math.max(1, Math.abs(expectedNumber))
    )
      suggestions.push(
        'The numbers are close: print the precision the statement asks for (e.g. a fixed number of decimals).',
      );
  }
  suggestions.push(
    'Run that test yourself and compare your output with the expected one line by line.',
  );
  if (hidden > 0) suggestions.push(`${plural(hidden, 'hidden test')} failed as well.`);
  return heuristic(`Wrong answer. ${detail}`, suggestions);
}

function runtimeErrorFeedback(input: HeuristicInput): Feedback {
  const failed = input.tests.find((test) => !test.hidden && test.verdict === 'runtime_error');
  if (!failed)
    return heuristic(
      `Runtime error on ${plural(hiddenFailures(input.tests), 'hidden test')}; the public tests ran without one.`,
      [
        'Look for inputs the public tests do not cover: empty or very large ones, zeros, the largest values.',
        'Guard every index, division and recursion depth for those inputs.',
      ],
    );
  const crash = readCrash(input.language, failed.stderr ?? '');
  const where = crash.line === null ? '' : ` at line ${crash.line}`;
  const suggestions: string[] = [];
  let what: string;
  if (crash.error) what = `${crash.error}${where}`;
  else if (failed.signal)
    what = `the program was stopped by ${failed.signal}${where}: ${SIGNAL_MEANINGS[failed.signal] ?? 'a fatal signal'}`;
  else if (failed.limitExceeded === 'processes') what = 'it started too many processes or threads';
  else if (failed.limitExceeded === 'file_size') what = 'it wrote a file larger than allowed';
  else what = `the program exited with code ${failed.exitCode ?? 'unknown'}${where}`;
  const hint = crashHint(crash.error);
  if (hint) suggestions.push(hint);
  else if (failed.signal && SIGNAL_MEANINGS[failed.signal] && crash.error)
    suggestions.push(`${failed.signal} means ${SIGNAL_MEANINGS[failed.signal]}.`);
  if (
    failed.signal === null &&
    failed.exitCode !== null &&
    failed.exitCode !== undefined &&
    failed.exitCode !== 0 &&
    !crash.error &&
    ['c', 'cpp'].includes(input.language)
  )
    suggestions.push('main must return 0 when the program succeeds.');
  if (failed.signal === 'SIGSEGV' && ['c', 'cpp'].includes(input.language))
    suggestions.push(
      'Large local arrays can overflow the stack: make them global or allocate them on the heap.',
    );
  suggestions.push(`Run test ${failed.index} yourself to reproduce it.`);
  return heuristic(
    `Runtime error on test ${failed.index}: ${what.replace(/\.$/, '')}.`,
    suggestions,
  );
}

function timeLimitFeedback(input: HeuristicInput): Feedback {
  const { failed, which } = firstFailing(input, 'time_limit_exceeded');
  const suggestions: string[] = [];
  if (failed?.limitExceeded === 'wall')
    suggestions.push(
      'It used little CPU but ran out of wall-clock time: is it waiting for input that never comes, or sleeping?',
    );
  suggestions.push(
    'Estimate the work for the largest input the statement allows: about 10^8 simple steps fit in a second.',
    'Check that every loop ends, including on edge cases such as 0 or an empty input.',
  );
  const fast = FAST_INPUT[input.language];
  if (fast) suggestions.push(fast);
  return heuristic(
    `Time limit exceeded on ${which} (limit ${seconds(input.timeLimitMs)}).`,
    suggestions,
  );
}

function memoryLimitFeedback(input: HeuristicInput): Feedback {
  const { which } = firstFailing(input, 'memory_limit_exceeded');
  return heuristic(`Memory limit exceeded on ${which}.`, [
    'Keep less in memory at once: process the input as you read it when you can.',
    'Size arrays from the input, not from a generous maximum, and avoid copying large lists or strings.',
    'Deep recursion uses memory for every call: a loop may need far less.',
    ...(input.language === 'python' || input.language === 'java'
      ? [
          'Lists of objects cost many bytes per element: arrays of primitives (or the array module) are smaller.',
        ]
      : []),
  ]);
}

function outputLimitFeedback(input: HeuristicInput): Feedback {
  const { which } = firstFailing(input, 'output_limit_exceeded');
  return heuristic(
    `Output limit exceeded on ${which}: the program printed far more than the answer.`,
    [
      'A loop that never ends while printing does this: check that it stops.',
      'Remove debugging output, and print only what the statement asks for.',
    ],
  );
}

function acceptedFeedback(input: HeuristicInput): Feedback {
  const slowest = Math.max(0, ...input.tests.map((test) => test.timeMs));
  const suggestions =
    input.timeLimitMs > 0 && slowest >= input.timeLimitMs * 0.8
      ? [
          `The slowest test took ${slowest} ms of the ${input.timeLimitMs} ms allowed: a faster approach would leave some margin.`,
        ]
      : [];
  const passed = input.tests.length > 0 ? ` All ${plural(input.tests.length, 'test')} passed.` : '';
  return heuristic(`Accepted, well done!${passed}`, suggestions);
}

/** Feedback from the verdict and outputs alone: no network, no model, and always available. */
export function heuristicFeedback(input: HeuristicInput): Feedback {
  switch (input.verdict) {
    case 'accepted':
      return acceptedFeedback(input);
    case 'compilation_error':
      return compileFeedback(input);
    case 'wrong_answer':
      return wrongAnswerFeedback(input);
    case 'runtime_error':
      return runtimeErrorFeedback(input);
    case 'time_limit_exceeded':
      return timeLimitFeedback(input);
    case 'memory_limit_exceeded':
      return memoryLimitFeedback(input);
    case 'output_limit_exceeded':
      return outputLimitFeedback(input);
    case 'internal_error':
      return heuristic(
        'The judge could not run this submission; this is not a problem with your code.',
        ['Submit it again in a little while.'],
      );
  }
}

/**
 * The public tests' data from the judge's list of tests (1-based, as `TestOutcome.index`).
 * Hidden tests are skipped here, so their input and expected output never reach a prompt.
 */
export function publicTestData(
  tests: ReadonlyArray<{
    hidden: boolean;
    input: Buffer | string;
    expectedOutput: Buffer | string;
  }>,
): PublicTestData[] {
  return tests.flatMap((test, index) =>
    test.hidden
      ? []
      : [
          {
            index: index + 1,
            input: String(test.input),
            expectedOutput: String(test.expectedOutput),
          },
        ],
  );
}

const PROMPT_LIMITS = {
  statement: 6_000,
  source: 12_000,
  compileOutput: 3_000,
  testField: 1_500,
  publicTests: 5,
};

const excerpt = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max)}\n… (${text.length - max} more characters)` : text;

const block = (label: string, text: string, max: number) =>
  `${label}:\n~~~\n${excerpt(text, max)}\n~~~`;

const SYSTEM_PROMPT = [
  "You are a programming tutor. You review a student's submission to a judged programming exercise",
  'and explain, briefly and kindly, why it got its verdict and what to change.',
  'Point at the cause (a line, a case, a misreading of the statement); do not write the solution.',
  'Some tests are hidden: you are not given them, so never guess or describe their contents.',
  'Answer with a JSON object only: {"summary": "one or two sentences", "suggestions": ["at most four short, concrete steps"]}.',
].join('\n');

/**
 * The user message: statement, language, verdict, compile output, the public tests with what the
 * program did on them, the source, and the heuristic's reading. Of hidden tests only the count of
 * passes goes in; their data is not even an input of this function.
 */
export function buildPrompt(input: FeedbackInput, heuristic: Feedback): string {
  const publicOutcomes = input.tests.filter((test) => !test.hidden);
  const hidden = input.tests.filter((test) => test.hidden);
  const dataOf = new Map(input.publicTests.map((test) => [test.index, test]));
  // Failing tests first: they are the ones worth the model's attention.
  const shown = [...publicOutcomes]
    .sort((a, b) => Number(a.verdict === 'accepted') - Number(b.verdict === 'accepted'))
    .slice(0, PROMPT_LIMITS.publicTests)
    .sort((a, b) => a.index - b.index);
  const passed = (tests: readonly TestOutcome[]) =>
    tests.filter((test) => test.verdict === 'accepted').length;

  const sections = [
    block('Problem statement', input.statement, PROMPT_LIMITS.statement),
    `Language: ${input.language}`,
    `Verdict: ${input.verdict} (public tests passed: ${passed(publicOutcomes)} of ${publicOutcomes.length}; hidden tests passed: ${passed(hidden)} of ${hidden.length})`,
    `Time limit: ${input.timeLimitMs} ms`,
  ];
  if (input.compileOutput)
    sections.push(block('Compiler output', input.compileOutput, PROMPT_LIMITS.compileOutput));
  for (const test of shown) {
    const data = dataOf.get(test.index);
    const parts = [`Public test ${test.index}: ${test.verdict}, ${test.timeMs} ms`];
    if (data) {
      parts.push(block('Input', data.input, PROMPT_LIMITS.testField));
      parts.push(block('Expected output', data.expectedOutput, PROMPT_LIMITS.testField));
    }
    if (test.stdout !== undefined)
      parts.push(block("Program's output", test.stdout, PROMPT_LIMITS.testField));
    if (test.stderr) parts.push(block("Program's stderr", test.stderr, PROMPT_LIMITS.testField));
    if (test.difference)
      parts.push(
        `First difference at line ${test.difference.line}: expected ${quote(test.difference.expected ?? '(nothing)', 200)}, got ${quote(test.difference.actual ?? '(nothing)', 200)}`,
      );
    sections.push(parts.join('\n'));
  }
  if (publicOutcomes.length > shown.length)
    sections.push(`(${publicOutcomes.length - shown.length} more public tests not shown)`);
  sections.push(block('Source', input.source, PROMPT_LIMITS.source));
  sections.push(`Automatic analysis: ${heuristic.summary}`);
  return sections.join('\n\n');
}

const llmReply = z.object({
  summary: z.string().trim().min(1),
  suggestions: z.array(z.string()).max(20),
});

/**
 * The feedback entry point for the judge: heuristic feedback always, and with `llm.baseUrl` set
 * the model's, falling back to the heuristic on any error, invalid reply or timeout. The promise
 * settles within `llm.timeoutMs` (plus parsing), whatever the endpoint does.
 */
export function createFeedback(deps: { llm?: LlmSettings | undefined; logger: Logger }) {
  const { llm, logger } = deps;
  const client: LlmClient | null = llm?.baseUrl
    ? createLlmClient({
        baseUrl: llm.baseUrl,
        apiKey: llm.apiKey,
        model: llm.model,
        timeoutMs: llm.timeoutMs,
      })
    : null;

  const ask = async (client: LlmClient, input: FeedbackInput, heuristic: Feedback) => {
    const timeoutMs = llm?.timeoutMs ?? 0;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // The SDK's own timeout is per attempt; this one bounds the attempt and its retry together.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      const content = await Promise.race([
        client.completeJson({
          system: SYSTEM_PROMPT,
          user: buildPrompt(input, heuristic),
          signal: controller.signal,
        }),
        deadline,
      ]);
      const reply = llmReply.parse(JSON.parse(content));
      return bounded('llm', reply.summary, reply.suggestions, LLM_CHARS);
    } finally {
      clearTimeout(timer);
    }
  };

  return async (input: FeedbackInput): Promise<Feedback> => {
    const heuristic = heuristicFeedback(input);
    // A harness failure says nothing about the code: no model is needed to say so.
    if (!client || input.verdict === 'internal_error') return heuristic;
    try {
      return await ask(client, input, heuristic);
    } catch (error) {
      // Only the kind of failure: the error could quote the request, and so the source.
      logger.warn(
        {
          reason: error instanceof Error ? error.name : typeof error,
          status: (error as { status?: unknown }).status,
          model: llm?.model,
        },
        'LLM feedback failed; heuristic feedback used',
      );
      return heuristic;
    }
  };
}

export type CreateFeedback = ReturnType<typeof createFeedback>;
