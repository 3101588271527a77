import { describe, expect, it } from 'vitest';
import type { ExecutionResult } from '../sandbox/sandbox.execution.types.ts';
import {
  ALL_FIELDS,
  DEFAULT_FIELDS,
  decimalSeconds,
  decodeBase64,
  encodeBase64,
  type Judge0Language,
  type Judge0Limits,
  judge0Strip,
  outcomeOf,
  parseFields,
  parseSubmission,
  STATUSES,
} from './judge0.models.ts';
import { presentSubmission } from './judge0.presenter.ts';
import type { Judge0SubmissionRow } from './judge0.tables.ts';

const result = (overrides: Partial<ExecutionResult>): ExecutionResult => ({
  status: 'ok',
  stdout: Buffer.from('3\n'),
  stderr: Buffer.alloc(0),
  compileOutput: null,
  exitCode: 0,
  signal: null,
  cpuMs: 12.4,
  wallMs: 30.6,
  memoryBytes: 3_240_000,
  limitExceeded: null,
  stdoutTruncated: false,
  stderrTruncated: false,
  ...overrides,
});

const statusFor = (overrides: Partial<ExecutionResult>, expected?: string) =>
  outcomeOf({
    result: result(overrides),
    expectedOutput: expected === undefined ? null : Buffer.from(expected),
  });

describe('Judge0 statuses from Assay results', () => {
  it('lists the 14 statuses with Judge0 descriptions', () => {
    expect(STATUSES.map((status) => status.id)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    ]);
    expect(STATUSES[10]).toEqual({ id: 11, description: 'Runtime Error (NZEC)' });
  });

  it('accepts a clean run, and compares expected_output as Judge0 does', () => {
    expect(statusFor({}).statusId).toBe(3);
    expect(statusFor({}, '3').statusId).toBe(3);
    // trailing spaces per line and trailing blank lines do not matter; leading ones do
    expect(statusFor({ stdout: Buffer.from('1 2  \n3\n\n\n') }, '1 2\n3').statusId).toBe(3);
    expect(statusFor({ stdout: Buffer.from(' 3\n') }, '3').statusId).toBe(4);
    expect(statusFor({}, '4').statusId).toBe(4);
    // nothing printed is stdout null in Judge0, which never equals an expected output
    expect(statusFor({ stdout: Buffer.alloc(0) }, '').statusId).toBe(4);
  });

  it('reports time in ms, memory in KB and isolate-style messages', () => {
    const accepted = statusFor({});
    expect(accepted).toMatchObject({ timeMs: 12, wallTimeMs: 31, memoryKb: 3164, message: null });
    expect(accepted.exitCode).toBe(0);
    expect(accepted.stderr).toBeNull();
  });

  it('maps limits, signals and exit codes to Judge0 statuses', () => {
    const cases: Array<[Partial<ExecutionResult>, number, string | null]> = [
      [
        { status: 'time_limit_exceeded', limitExceeded: 'cpu', signal: 'SIGKILL', exitCode: null },
        5,
        'Time limit exceeded',
      ],
      [
        { status: 'time_limit_exceeded', limitExceeded: 'wall' },
        5,
        'Time limit exceeded (wall clock)',
      ],
      [{ status: 'runtime_error', signal: 'SIGSEGV', exitCode: null }, 7, 'Caught fatal signal 11'],
      [{ status: 'runtime_error', signal: 'SIGXFSZ', exitCode: null }, 8, 'Caught fatal signal 25'],
      [{ status: 'runtime_error', signal: 'SIGFPE', exitCode: null }, 9, 'Caught fatal signal 8'],
      [{ status: 'runtime_error', signal: 'SIGABRT', exitCode: null }, 10, 'Caught fatal signal 6'],
      [
        { status: 'runtime_error', signal: 'SIGTERM', exitCode: null },
        12,
        'Caught fatal signal 15',
      ],
      [{ status: 'runtime_error', exitCode: 3 }, 11, 'Exited with error status 3'],
      [
        { status: 'memory_limit_exceeded', signal: 'SIGKILL', exitCode: null },
        12,
        'Memory limit exceeded',
      ],
      [
        { status: 'memory_limit_exceeded', signal: 'SIGABRT', exitCode: null },
        10,
        'Memory limit exceeded',
      ],
      [{ status: 'output_limit_exceeded', limitExceeded: 'output' }, 12, 'Output limit exceeded'],
      [{ status: 'internal_error' }, 13, 'Internal error: the sandbox could not run the program'],
    ];
    for (const [overrides, statusId, message] of cases) {
      expect(statusFor(overrides), JSON.stringify(overrides)).toMatchObject({ statusId, message });
    }
    expect(statusFor({ status: 'runtime_error', signal: 'SIGSEGV', exitCode: null })).toMatchObject(
      { exitCode: 0, exitSignal: 11 },
    );
  });

  it('reports a compile error with the compiler output and no run fields', () => {
    const outcome = statusFor({
      status: 'compile_error',
      compileOutput: Buffer.from("main.c:1: error: 'x' undeclared"),
      stdout: Buffer.alloc(0),
      exitCode: 1,
    });
    expect(outcome).toMatchObject({
      statusId: 6,
      stdout: null,
      timeMs: null,
      memoryKb: null,
      exitCode: null,
    });
    expect(outcome.compileOutput?.toString()).toBe("main.c:1: error: 'x' undeclared");
    const slow = statusFor({ status: 'compile_error', limitExceeded: 'wall' });
    expect(slow.compileOutput?.toString()).toBe('Compilation time limit exceeded.');
  });

  it('strips like Ruby: per line, ASCII whitespace and NUL only', () => {
    expect(judge0Strip(Buffer.from('a \t\nb\0\r\n\n'))).toBe('a\nb');
    expect(judge0Strip(Buffer.from('a\u00a0'))).toBe('a\u00a0');
  });
});

describe('Base64 as Judge0 (Ruby) does it', () => {
  it('encodes in MIME lines of 60 characters and decodes leniently', () => {
    expect(encodeBase64(Buffer.from('hi\n'))).toBe('aGkK\n');
    const long = encodeBase64(Buffer.alloc(90, 'a'));
    expect(long.split('\n').map((line) => line.length)).toEqual([60, 60, 0]);
    expect(decodeBase64(long).toString()).toBe('a'.repeat(90));
    expect(decodeBase64('aGkK\n').toString()).toBe('hi\n');
    expect(encodeBase64(Buffer.alloc(0))).toBe('');
  });
});

describe('numbers as Rails renders them', () => {
  it('writes seconds as BigDecimal strings', () => {
    expect(decimalSeconds(2)).toBe('0.002');
    expect(decimalSeconds(10)).toBe('0.01');
    expect(decimalSeconds(0)).toBe('0.0');
    expect(decimalSeconds(2000)).toBe('2.0');
    expect(decimalSeconds(1234.4)).toBe('1.234');
  });
});

describe('the fields parameter', () => {
  it('defaults, takes *, a comma list, and names the invalid ones', () => {
    expect(parseFields(undefined)).toEqual({ ok: true, fields: DEFAULT_FIELDS });
    expect(parseFields('')).toEqual({ ok: true, fields: DEFAULT_FIELDS });
    expect(parseFields('*')).toEqual({ ok: true, fields: ALL_FIELDS });
    expect(parseFields('status_id, stdout,stdout')).toEqual({
      ok: true,
      fields: ['status_id', 'stdout'],
    });
    expect(parseFields('stdout,nope,also')).toEqual({
      ok: false,
      error: 'invalid fields: [nope, also]',
    });
  });
});

const LANGUAGES: Judge0Language[] = [
  { id: 71, name: 'Python (3.11.2)', language: 'python' },
  { id: 50, name: 'C (12.2.0)', language: 'c' },
];
const LIMITS: Judge0Limits = {
  cpuMs: 2000,
  wallMs: 5000,
  memoryKb: 262_144,
  maxCpuMs: 10_000,
  maxWallMs: 20_000,
  maxMemoryKb: 1_048_576,
  processes: 64,
  fileSizeKb: 16_384,
  stackKb: 8192,
};
const parse = (body: unknown, base64 = false) =>
  parseSubmission({ body, base64, languages: LANGUAGES, limits: LIMITS });

describe('submission validation and limit conversion', () => {
  it('converts seconds and kilobytes into Assay limits, with Assay defaults', () => {
    const plain = parse({ source_code: 'print(1)', language_id: 71 });
    expect(plain).toMatchObject({
      ok: true,
      submission: { language: 'python', cpuMs: 2000, wallMs: 5000, memoryKb: 262_144 },
    });
    const custom = parse({
      source_code: 'print(1)',
      language_id: '71',
      cpu_time_limit: '0.5',
      wall_time_limit: 3,
      memory_limit: 65_536,
    });
    expect(custom).toMatchObject({
      ok: true,
      submission: { cpuMs: 500, wallMs: 3000, memoryKb: 65_536 },
    });
    // a CPU limit beyond the default wall limit gets a wall limit that lets it run
    expect(parse({ source_code: 'x', language_id: 71, cpu_time_limit: 8 })).toMatchObject({
      submission: { cpuMs: 8000, wallMs: 8000 },
    });
  });

  it("answers Judge0's 422 shape with Rails' messages and Assay's maxima", () => {
    expect(parse({ source_code: 'x', language_id: 150000 })).toEqual({
      ok: false,
      errors: { language_id: ["language with id 150000 doesn't exist"] },
    });
    expect(parse({})).toEqual({
      ok: false,
      errors: {
        source_code: ["can't be blank"],
        language_id: ["can't be blank", "language with id  doesn't exist"],
      },
    });
    expect(
      parse({
        source_code: '   ',
        language_id: 71,
        cpu_time_limit: 11,
        wall_time_limit: 0.5,
        memory_limit: 2_000_000,
        enable_network: true,
      }),
    ).toEqual({
      ok: false,
      errors: {
        source_code: ["can't be blank"],
        cpu_time_limit: ['must be less than or equal to 10.0'],
        wall_time_limit: ['must be greater than or equal to 1'],
        memory_limit: ['must be less than or equal to 1048576'],
        enable_network: ['enabling network is not allowed'],
      },
    });
    expect(
      parse({ source_code: 'x', language_id: 71, memory_limit: 100, cpu_time_limit: 'a' }),
    ).toEqual({
      ok: false,
      errors: {
        cpu_time_limit: ['is not a number'],
        memory_limit: ['must be greater than or equal to 2048'],
      },
    });
  });

  it('ignores unknown attributes and accepts the ones it cannot honour', () => {
    const parsed = parse({
      source_code: 'x',
      language_id: 50,
      compiler_options: '-O2',
      number_of_runs: 3,
      callback_url: 'http://example.com/cb',
      no_such_attribute: true,
      enable_network: false,
    });
    expect(parsed).toMatchObject({
      ok: true,
      submission: {
        language: 'c',
        settings: { compiler_options: '-O2', callback_url: 'http://example.com/cb' },
      },
    });
  });

  it('decodes base64 inputs', () => {
    const parsed = parse(
      {
        source_code: encodeBase64(Buffer.from('print(input())')),
        language_id: 71,
        stdin: 'NDIK',
        expected_output: 'NDIK\n',
      },
      true,
    );
    if (!parsed.ok) throw new Error('expected a valid submission');
    expect(parsed.submission.source.toString()).toBe('print(input())');
    expect(parsed.submission.stdin?.toString()).toBe('42\n');
    expect(parsed.submission.expectedOutput?.toString()).toBe('42\n');
  });
});

describe('presenting a submission', () => {
  const row: Judge0SubmissionRow = {
    token: 't-1',
    owner: 'u',
    languageId: 71,
    language: 'python',
    sourceCode: Buffer.from('print(1)'),
    stdin: null,
    expectedOutput: null,
    cpuTimeLimitMs: 2000,
    wallTimeLimitMs: 5000,
    memoryLimitKb: 262_144,
    settings: {
      compiler_options: null,
      command_line_arguments: null,
      callback_url: null,
      redirect_stderr_to_stdout: false,
    },
    statusId: 3,
    stdout: Buffer.from('1\n'),
    stderr: null,
    compileOutput: null,
    message: null,
    exitCode: 0,
    exitSignal: null,
    timeMs: 8,
    wallTimeMs: 20,
    memoryKb: 3100,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    startedAt: new Date('2026-01-01T00:00:00Z'),
    finishedAt: new Date('2026-01-01T00:00:01Z'),
  };
  const options = { base64: false, languages: LANGUAGES, limits: LIMITS };

  it('shows the default fields, with time as a string and status as an object', () => {
    expect(presentSubmission(row, { ...options, fields: DEFAULT_FIELDS })).toEqual({
      stdout: '1\n',
      time: '0.008',
      memory: 3100,
      stderr: null,
      token: 't-1',
      compile_output: null,
      message: null,
      status: { id: 3, description: 'Accepted' },
    });
  });

  it('shows every attribute with *, and base64 on request', () => {
    const all = presentSubmission(row, { ...options, base64: true, fields: ALL_FIELDS });
    expect(Object.keys(all ?? {})).toEqual([...ALL_FIELDS]);
    expect(all).toMatchObject({
      source_code: 'cHJpbnQoMSk=\n',
      stdout: 'MQo=\n',
      language_id: 71,
      status_id: 3,
      wall_time: '0.02',
      cpu_time_limit: '2.0',
      memory_limit: 262_144,
      created_at: '2026-01-01T00:00:00.000Z',
      finished_at: '2026-01-01T00:00:01.000Z',
      enable_network: false,
      language: { id: 71, name: 'Python (3.11.2)' },
    });
  });

  it('refuses to show output that is not UTF-8 unless base64 is asked for', () => {
    const binary = { ...row, stdout: Buffer.from([0xff, 0xfe, 0x00]) };
    expect(presentSubmission(binary, { ...options, fields: DEFAULT_FIELDS })).toBeNull();
    expect(presentSubmission(binary, { ...options, base64: true, fields: ['stdout'] })).toEqual({
      stdout: '//4A\n',
    });
    // a field not asked for cannot fail the conversion
    expect(presentSubmission(binary, { ...options, fields: ['token'] })).toEqual({ token: 't-1' });
  });
});
