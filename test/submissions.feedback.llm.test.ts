import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createFeedback,
  type FeedbackInput,
  heuristicFeedback,
  publicTestData,
} from '../src/modules/submissions/submissions.feedback.ts';
import { judgeTest, overallVerdict } from '../src/modules/submissions/submissions.models.ts';
import { runResult } from '../src/modules/submissions/submissions.test-utils.ts';
import { createLogger } from '../src/platform/logger/logger.ts';
import { type OpenAiDouble, startOpenAiDouble } from './support/openai-double.ts';

/** Everything a hidden test holds carries this, so one search finds any leak. */
const HIDDEN = 'HIDDEN-7f3a';
const API_KEY = 'sk-test-9c1e4b';
const SOURCE_MARK = 'SOURCE-MARK-5d2';

/** The challenge as the judge reads it (`testsForJudging`): two public tests and a hidden one. */
const judgesTests = [
  { hidden: false, weight: 1, input: '2 3\n', expectedOutput: '5\n' },
  { hidden: false, weight: 1, input: '10 -4\n', expectedOutput: '6\n' },
  {
    hidden: true,
    weight: 2,
    input: `${HIDDEN}-input 1000000000 1000000000\n`,
    expectedOutput: `${HIDDEN}-expected 2000000000\n`,
  },
];

/** What each test's run printed; the hidden one prints its input back, as buggy code might. */
const runs = [
  runResult({ stdout: Buffer.from('5\n') }),
  runResult({ stdout: Buffer.from('14\n') }),
  runResult({
    stdout: Buffer.from(`${HIDDEN}-stdout\n`),
    stderr: Buffer.from(`${HIDDEN}-stderr`),
  }),
];

const statement = 'Sum of two. Read two integers a and b on one line and print a + b.';
const source = `# ${SOURCE_MARK}\na, b = map(int, input().split())\nprint(a - b)\n`;

/** The feedback input the way the judge will build it: outcomes from judgeTest, public data only. */
function judgedInput(): FeedbackInput {
  const tests = judgesTests.map((test, index) =>
    judgeTest({
      index: index + 1,
      hidden: test.hidden,
      weight: test.weight,
      run: runs[index]!,
      expected: Buffer.from(test.expectedOutput),
      checker: 'trim',
      floatTolerance: null,
    }),
  );
  return {
    statement,
    language: 'python',
    source,
    verdict: overallVerdict(tests),
    compileOutput: null,
    tests,
    publicTests: publicTestData(judgesTests),
    timeLimitMs: 2000,
  };
}

const settings = (
  double: OpenAiDouble,
  overrides: { apiKey?: string; timeoutMs?: number } = {},
) => ({
  baseUrl: double.baseUrl,
  apiKey: 'apiKey' in overrides ? overrides.apiKey : API_KEY,
  model: 'test-model',
  timeoutMs: overrides.timeoutMs ?? 5_000,
});

const captureLogs = () => {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line) => lines.push(line) },
  });
  return { logger, text: () => lines.join('') };
};

describe('LLM feedback through the openai SDK', () => {
  let double: OpenAiDouble;
  beforeAll(async () => {
    double = await startOpenAiDouble();
  });
  afterAll(async () => {
    await double.close();
  });
  beforeEach(() => {
    double.requests.length = 0;
  });

  it('sends the statement, the source and the public results, and never hidden data', async () => {
    double.behave({
      reply: JSON.stringify({
        summary: 'You subtract where the statement asks for a sum.',
        suggestions: ['Print a + b instead of a - b.'],
      }),
    });
    const feedback = createFeedback({ llm: settings(double), logger: captureLogs().logger });
    const input = judgedInput();

    expect(await feedback(input)).toEqual({
      source: 'llm',
      summary: 'You subtract where the statement asks for a sum.',
      suggestions: ['Print a + b instead of a - b.'],
    });
    expect(double.requests).toHaveLength(1);
    const [request] = double.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/v1/chat/completions' });
    expect(request?.body).toMatchObject({
      model: 'test-model',
      response_format: { type: 'json_object' },
    });
    const prompt = double.promptOf(request);
    expect(prompt).toContain(statement);
    expect(prompt).toContain(source);
    expect(prompt).toContain('Language: python');
    expect(prompt).toContain('Verdict: wrong_answer');
    // Both public tests, with input, expected output and what the program printed.
    for (const text of ['2 3\n', '5\n', '10 -4\n', '6\n', '14\n']) expect(prompt).toContain(text);
    expect(prompt).toContain('First difference at line 1: expected "6", got "14"');
    expect(prompt).toContain(heuristicFeedback(input).summary);
    expect(prompt).toContain('hidden tests passed: 0 of 1');
    expect(prompt).not.toContain(HIDDEN);
  });

  it('leaves out hidden data even when a careless caller hands it over', async () => {
    const input = judgedInput();
    const careless: FeedbackInput = {
      ...input,
      // Every hidden test's data, under its own index, and a hidden outcome that kept its output.
      publicTests: judgesTests.map((test, index) => ({
        index: index + 1,
        input: test.input,
        expectedOutput: test.expectedOutput,
      })),
      tests: input.tests.map((test) =>
        test.hidden
          ? {
              ...test,
              stdout: `${HIDDEN}-stdout`,
              stderr: `${HIDDEN}-stderr`,
              difference: { line: 1, expected: `${HIDDEN}-e`, actual: `${HIDDEN}-a` },
            }
          : test,
      ),
    };
    await createFeedback({ llm: settings(double), logger: captureLogs().logger })(careless);
    const prompt = double.promptOf(double.requests[0]);
    expect(prompt).toContain('10 -4');
    expect(prompt).not.toContain(HIDDEN);
  });

  it('sends the API key as a bearer token, and no Authorization header without one', async () => {
    await createFeedback({ llm: settings(double), logger: captureLogs().logger })(judgedInput());
    expect(double.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    await createFeedback({
      llm: settings(double, { apiKey: undefined }),
      logger: captureLogs().logger,
    })(judgedInput());
    expect(double.requests[1]?.headers).not.toHaveProperty('authorization');
  });

  it('falls back to the heuristic on a 500, after exactly one retry, logging neither key nor source', async () => {
    double.behave({ status: 500 });
    const logs = captureLogs();
    const input = judgedInput();
    expect(await createFeedback({ llm: settings(double), logger: logs.logger })(input)).toEqual(
      heuristicFeedback(input),
    );
    expect(double.requests).toHaveLength(2);
    expect(logs.text()).toContain('heuristic feedback used');
    expect(logs.text()).not.toContain(API_KEY);
    expect(logs.text()).not.toContain(SOURCE_MARK);
  });

  it('falls back to the heuristic when the reply is not JSON, or not the JSON asked for', async () => {
    const input = judgedInput();
    const feedback = createFeedback({ llm: settings(double), logger: captureLogs().logger });
    for (const reply of [
      'Sure! Your program subtracts instead of adding.',
      '{"summary": "", "suggestions": []}',
      '{"summary": "fine", "suggestions": "not a list"}',
      '["summary"]',
    ]) {
      double.behave({ reply });
      expect(await feedback(input)).toEqual(heuristicFeedback(input));
    }
  });

  it('falls back to the heuristic within the timeout when the server never answers', async () => {
    double.behave({ hang: true });
    const input = judgedInput();
    const feedback = createFeedback({
      llm: settings(double, { timeoutMs: 300 }),
      logger: captureLogs().logger,
    });
    const started = performance.now();
    expect(await feedback(input)).toEqual(heuristicFeedback(input));
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1_500);
  });

  it('keeps a long reply within bounds', async () => {
    double.behave({
      reply: JSON.stringify({
        summary: 'S'.repeat(10_000),
        suggestions: Array.from({ length: 12 }, (_, index) => `${index} ${'x'.repeat(900)}`),
      }),
    });
    const feedback = await createFeedback({ llm: settings(double), logger: captureLogs().logger })(
      judgedInput(),
    );
    expect(feedback.source).toBe('llm');
    expect([feedback.summary, ...feedback.suggestions].join('').length).toBeLessThanOrEqual(2048);
    expect(feedback.suggestions.length).toBeLessThanOrEqual(4);
  });

  it('keeps a reply holding NUL or a lone surrogate storable (PostgreSQL refuses both)', async () => {
    // JSON.stringify writes the lone surrogate as the escape \ud800, as a model's JSON may.
    double.behave({
      reply: JSON.stringify({ summary: 'Off by\u0000 one', suggestions: ['Print a \ud800 sum'] }),
    });
    const feedback = await createFeedback({ llm: settings(double), logger: captureLogs().logger })(
      judgedInput(),
    );
    expect(feedback).toMatchObject({
      source: 'llm',
      summary: 'Off by\uFFFD one',
      suggestions: ['Print a \uFFFD sum'],
    });
  });

  it('asks no model without LLM_BASE_URL, nor about a judge failure', async () => {
    const input = judgedInput();
    const offline = createFeedback({ logger: captureLogs().logger });
    expect(await offline(input)).toEqual(heuristicFeedback(input));
    const unset = createFeedback({
      llm: { baseUrl: undefined, apiKey: API_KEY, model: 'm', timeoutMs: 1000 },
      logger: captureLogs().logger,
    });
    expect(await unset(input)).toEqual(heuristicFeedback(input));
    const online = createFeedback({ llm: settings(double), logger: captureLogs().logger });
    await online({ ...input, verdict: 'internal_error', tests: [] });
    expect(double.requests).toHaveLength(0);
  });
});
