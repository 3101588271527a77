import { isUtf8 } from 'node:buffer';
import { constants } from 'node:os';
import type { ExecutionResult } from '../sandbox/sandbox.execution.types.ts';

/**
 * Judge0 CE 1.13.1 as its clients see it, in pure functions: statuses, the verdict table from
 * Assay's results, Ruby's Base64, the `fields` parameter, and request validation with Rails'
 * messages. Everything here is what a Judge0 SDK parses, so it mirrors Judge0 byte for byte
 * where it can.
 */

export const JUDGE0_VERSION = '1.13.1';

/** Async submissions made with the X-Auth-Token key belong to this owner, not to a user. */
export const KEY_OWNER = 'judge0-key';

export const MAX_BATCH_SIZE = 20;

/** Assay's own cap on source code (API.md, "bodies"); Judge0 has none. */
export const MAX_SOURCE_BYTES = 64 * 1024;

export const STATUSES = [
  { id: 1, description: 'In Queue' },
  { id: 2, description: 'Processing' },
  { id: 3, description: 'Accepted' },
  { id: 4, description: 'Wrong Answer' },
  { id: 5, description: 'Time Limit Exceeded' },
  { id: 6, description: 'Compilation Error' },
  { id: 7, description: 'Runtime Error (SIGSEGV)' },
  { id: 8, description: 'Runtime Error (SIGXFSZ)' },
  { id: 9, description: 'Runtime Error (SIGFPE)' },
  { id: 10, description: 'Runtime Error (SIGABRT)' },
  { id: 11, description: 'Runtime Error (NZEC)' },
  { id: 12, description: 'Runtime Error (Other)' },
  { id: 13, description: 'Internal Error' },
  { id: 14, description: 'Exec Format Error' },
] as const;

export type StatusId = (typeof STATUSES)[number]['id'];

export const STATUS = {
  queue: 1,
  processing: 2,
  accepted: 3,
  wrongAnswer: 4,
  timeLimitExceeded: 5,
  compilationError: 6,
  sigsegv: 7,
  sigxfsz: 8,
  sigfpe: 9,
  sigabrt: 10,
  nzec: 11,
  other: 12,
  internalError: 13,
} as const satisfies Record<string, StatusId>;

export function statusOf(id: number): { id: number; description: string } {
  const found = STATUSES.find((status) => status.id === id);
  return { id, description: found?.description ?? 'Unknown' };
}

export const isFinished = (statusId: number) => statusId >= STATUS.accepted;

/** What a finished run becomes in Judge0's terms. */
export type Judge0Outcome = {
  statusId: StatusId;
  stdout: Buffer | null;
  stderr: Buffer | null;
  compileOutput: Buffer | null;
  message: string | null;
  exitCode: number | null;
  exitSignal: number | null;
  timeMs: number | null;
  wallTimeMs: number | null;
  memoryKb: number | null;
};

/** Judge0's table of fatal signals (Status.find_runtime_error_by_status_code); the rest are "Other". */
const SIGNAL_STATUS: Record<string, StatusId> = {
  SIGSEGV: STATUS.sigsegv,
  SIGXFSZ: STATUS.sigxfsz,
  SIGFPE: STATUS.sigfpe,
  SIGABRT: STATUS.sigabrt,
};

export function signalNumber(signal: string | null): number | null {
  if (!signal) return null;
  const number = (constants.signals as Record<string, number | undefined>)[signal];
  return number ?? null;
}

const nonEmpty = (buffer: Buffer | null) => (buffer && buffer.length > 0 ? buffer : null);

/**
 * Assay's verdict → Judge0's status. Messages are the ones isolate writes, which Judge0 passes on;
 * memory and output limits have no status of their own in Judge0, so they say so in `message`.
 */
export function outcomeOf(options: {
  result: ExecutionResult;
  expectedOutput: Buffer | null;
}): Judge0Outcome {
  const { result } = options;
  if (result.status === 'compile_error') {
    const timedOut = result.limitExceeded === 'cpu' || result.limitExceeded === 'wall';
    return {
      statusId: STATUS.compilationError,
      // Judge0 replaces the compiler's output with this when the compiler ran out of time.
      compileOutput: timedOut
        ? Buffer.from('Compilation time limit exceeded.')
        : nonEmpty(result.compileOutput),
      stdout: null,
      stderr: null,
      message: null,
      exitCode: null,
      exitSignal: null,
      timeMs: null,
      wallTimeMs: null,
      memoryKb: null,
    };
  }
  const exitSignal = signalNumber(result.signal);
  const base = {
    stdout: nonEmpty(result.stdout),
    stderr: nonEmpty(result.stderr),
    compileOutput: nonEmpty(result.compileOutput),
    // isolate reports no exit code for a killed program and Judge0 then stores 0.
    exitCode: result.exitCode ?? 0,
    exitSignal,
    timeMs: Math.round(result.cpuMs),
    wallTimeMs: Math.round(result.wallMs),
    memoryKb: Math.round(result.memoryBytes / 1024),
  };
  const runtime = (): { statusId: StatusId; message: string | null } => {
    if (result.signal) {
      return {
        statusId: SIGNAL_STATUS[result.signal] ?? STATUS.other,
        message: `Caught fatal signal ${exitSignal ?? result.signal}`,
      };
    }
    if (result.exitCode !== null && result.exitCode !== 0) {
      return { statusId: STATUS.nzec, message: `Exited with error status ${result.exitCode}` };
    }
    return { statusId: STATUS.other, message: null };
  };
  switch (result.status) {
    case 'ok':
      return {
        ...base,
        statusId:
          options.expectedOutput === null ||
          sameOutput(options.expectedOutput, nonEmpty(result.stdout))
            ? STATUS.accepted
            : STATUS.wrongAnswer,
        message: null,
      };
    case 'time_limit_exceeded':
      return {
        ...base,
        statusId: STATUS.timeLimitExceeded,
        message:
          result.limitExceeded === 'wall'
            ? 'Time limit exceeded (wall clock)'
            : 'Time limit exceeded',
      };
    case 'runtime_error':
      return { ...base, ...runtime() };
    case 'memory_limit_exceeded':
      return { ...base, statusId: runtime().statusId, message: 'Memory limit exceeded' };
    case 'output_limit_exceeded':
      return { ...base, statusId: STATUS.other, message: 'Output limit exceeded' };
    case 'internal_error':
      return {
        ...base,
        statusId: STATUS.internalError,
        message: 'Internal error: the sandbox could not run the program',
      };
  }
}

/** Ruby's String#rstrip set: ASCII whitespace and NUL. */
const RUBY_RSTRIP = /[\0\t\n\v\f\r ]+$/;

/**
 * Judge0's comparison: each line right-stripped, then the whole right-stripped (IsolateJob#strip).
 * Ruby raises on invalid UTF-8 there and Judge0 then compares the raw text, so we do too.
 */
export function judge0Strip(text: Buffer): string {
  if (!isUtf8(text)) return text.toString('latin1');
  return text
    .toString('utf8')
    .split('\n')
    .map((line) => line.replace(RUBY_RSTRIP, ''))
    .join('\n')
    .replace(RUBY_RSTRIP, '');
}

/** `stdout` is null when the program printed nothing, as in Judge0 (so "" expected is a WA there too). */
export function sameOutput(expected: Buffer, stdout: Buffer | null): boolean {
  if (stdout === null) return false;
  return judge0Strip(expected) === judge0Strip(stdout);
}

/** Ruby's Base64.encode64, which Judge0 uses: MIME lines of 60 characters, each ending in "\n". */
export function encodeBase64(data: Buffer): string {
  const encoded = data.toString('base64');
  let out = '';
  for (let index = 0; index < encoded.length; index += 60) {
    out += `${encoded.slice(index, index + 60)}\n`;
  }
  return out;
}

/** Ruby's Base64.decode64 skips characters outside the alphabet; Node's decoder does the same. */
export function decodeBase64(text: string): Buffer {
  return Buffer.from(text, 'base64');
}

/** A Rails decimal as JSON: BigDecimal#to_s, e.g. "0.002", "0.01", "2.0". */
export function decimalSeconds(ms: number): string {
  const text = (Math.round(ms) / 1000).toFixed(3).replace(/0+$/, '');
  return text.endsWith('.') ? `${text}0` : text;
}

/** A Ruby Float in an error message: 10.0, 2.5. */
const rubyFloat = (value: number) => (Number.isInteger(value) ? value.toFixed(1) : String(value));

// ---------------------------------------------------------------------------------- fields

export const DEFAULT_FIELDS = [
  'stdout',
  'time',
  'memory',
  'stderr',
  'token',
  'compile_output',
  'message',
  'status',
] as const;

/** Every attribute Judge0's SubmissionSerializer offers, in its order (`fields=*`). */
export const ALL_FIELDS = [
  'source_code',
  'language_id',
  'stdin',
  'expected_output',
  'stdout',
  'status_id',
  'created_at',
  'finished_at',
  'time',
  'memory',
  'stderr',
  'token',
  'number_of_runs',
  'cpu_time_limit',
  'cpu_extra_time',
  'wall_time_limit',
  'memory_limit',
  'stack_limit',
  'max_processes_and_or_threads',
  'enable_per_process_and_thread_time_limit',
  'enable_per_process_and_thread_memory_limit',
  'max_file_size',
  'compile_output',
  'exit_code',
  'exit_signal',
  'message',
  'wall_time',
  'compiler_options',
  'command_line_arguments',
  'redirect_stderr_to_stdout',
  'callback_url',
  'additional_files',
  'enable_network',
  'status',
  'language',
] as const;

export type Field = (typeof ALL_FIELDS)[number];

const KNOWN_FIELDS = new Set<string>(ALL_FIELDS);

/** `?fields=`: absent or empty → the defaults, `*` → everything, else a comma list. */
export function parseFields(
  param: string | undefined,
): { ok: true; fields: readonly Field[] } | { ok: false; error: string } {
  const names = (param ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  if (names.length === 0) return { ok: true, fields: DEFAULT_FIELDS };
  if (names.includes('*')) return { ok: true, fields: ALL_FIELDS };
  const invalid = names.filter((name) => !KNOWN_FIELDS.has(name));
  if (invalid.length > 0) return { ok: false, error: `invalid fields: [${invalid.join(', ')}]` };
  return { ok: true, fields: [...new Set(names)] as Field[] };
}

/** Judge0 reads `wait` and `base64_encoded` as exactly the string "true". */
export const isTrue = (value: unknown) => value === 'true' || value === true;

// ------------------------------------------------------------------------------ validation

/** A language Judge0 clients can name by id, backed by a toolchain present here. */
export type Judge0Language = { id: number; name: string; language: string };

/** What this Assay enforces, in Judge0's units (seconds, kilobytes). */
export type Judge0Limits = {
  cpuMs: number;
  wallMs: number;
  memoryKb: number;
  maxCpuMs: number;
  maxWallMs: number;
  maxMemoryKb: number;
  processes: number;
  fileSizeKb: number;
  /** Assay sets no stack rlimit: programs inherit the server's (the stack also counts as memory). */
  stackKb: number;
};

/** The attributes Judge0 echoes with `fields=*` that Assay accepts but does not act on. */
export type EchoedSettings = {
  compiler_options: string | null;
  command_line_arguments: string | null;
  callback_url: string | null;
  redirect_stderr_to_stdout: boolean;
};

export type NewSubmission = {
  languageId: number;
  language: string;
  source: Buffer;
  stdin: Buffer | null;
  expectedOutput: Buffer | null;
  cpuMs: number;
  wallMs: number;
  memoryKb: number;
  settings: EchoedSettings;
};

export type ValidationErrors = Record<string, string[]>;

/** Rails' blank?: nil, or only whitespace. */
const isBlank = (text: Buffer | null) => text === null || /^\s*$/.test(text.toString('latin1'));

/** Rails permits scalars only and turns them into strings. */
function scalarText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

const NUMERIC = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;

/** Rails numericality: a number or numeric string; absent or "" means "use the default". */
function numberOf(value: unknown): number | null | 'nan' {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : 'nan';
  if (typeof value === 'string' && NUMERIC.test(value)) return Number(value);
  return 'nan';
}

/** Rails' boolean cast: anything but the false words (and nil/"") is true. */
const FALSE_WORDS = new Set(['0', 'f', 'F', 'false', 'FALSE', 'off', 'OFF']);
function booleanOf(value: unknown): boolean | null {
  if (value === undefined || value === null || value === '') return null;
  if (value === false || value === 0) return false;
  if (typeof value === 'string' && FALSE_WORDS.has(value)) return false;
  return true;
}

function textField(value: unknown, base64: boolean): Buffer | null {
  const text = scalarText(value);
  if (text === null) return null;
  return base64 ? decodeBase64(text) : Buffer.from(text, 'utf8');
}

/**
 * A submission body → what to run, or Judge0's 422 body (`{ field: [messages] }`, Rails' wording,
 * in the order the Submission model validates). Unknown attributes are ignored, like Judge0's
 * strong parameters; known ones Assay cannot honour are accepted and echoed.
 */
export function parseSubmission(options: {
  body: unknown;
  base64: boolean;
  languages: readonly Judge0Language[];
  limits: Judge0Limits;
}): { ok: true; submission: NewSubmission } | { ok: false; errors: ValidationErrors } {
  const { limits } = options;
  const body: Record<string, unknown> =
    options.body && typeof options.body === 'object' && !Array.isArray(options.body)
      ? (options.body as Record<string, unknown>)
      : {};
  const errors: ValidationErrors = {};
  const add = (field: string, message: string) => {
    errors[field] = [...(errors[field] ?? []), message];
  };

  const source = textField(body.source_code, options.base64);
  if (isBlank(source)) add('source_code', "can't be blank");
  else if (source && source.length > MAX_SOURCE_BYTES) {
    add('source_code', `is too long (maximum is ${MAX_SOURCE_BYTES} characters)`);
  }

  const rawLanguage = body.language_id;
  const languageNumber = numberOf(rawLanguage);
  if (languageNumber === null) add('language_id', "can't be blank");

  const seconds = (
    field: string,
    fallbackMs: number,
    min: { value: number; inclusive: boolean },
    maxMs: number,
  ) => {
    const value = numberOf(body[field]);
    if (value === null) return fallbackMs;
    if (value === 'nan') {
      add(field, 'is not a number');
      return fallbackMs;
    }
    if (min.inclusive ? value < min.value : value <= min.value) {
      add(
        field,
        min.inclusive
          ? `must be greater than or equal to ${min.value}`
          : `must be greater than ${min.value}`,
      );
    } else if (value * 1000 > maxMs) {
      add(field, `must be less than or equal to ${rubyFloat(maxMs / 1000)}`);
    }
    return Math.round(value * 1000);
  };
  // Judge0 accepts 0 (isolate: no limit); Assay always has one, so the least is just above 0.
  const cpuMs = seconds(
    'cpu_time_limit',
    limits.cpuMs,
    { value: 0, inclusive: false },
    limits.maxCpuMs,
  );
  // A longer CPU limit than the default wall limit would be cut short by the wall clock.
  const wallMs = seconds(
    'wall_time_limit',
    Math.min(limits.maxWallMs, Math.max(limits.wallMs, cpuMs)),
    { value: 1, inclusive: true },
    limits.maxWallMs,
  );

  let memoryKb = limits.memoryKb;
  const memory = numberOf(body.memory_limit);
  if (memory === 'nan') add('memory_limit', 'is not a number');
  else if (memory !== null) {
    memoryKb = Math.trunc(memory);
    if (memoryKb < 2048) add('memory_limit', 'must be greater than or equal to 2048');
    else if (memoryKb > limits.maxMemoryKb) {
      add('memory_limit', `must be less than or equal to ${limits.maxMemoryKb}`);
    }
  }

  for (const field of [
    'enable_per_process_and_thread_time_limit',
    'enable_per_process_and_thread_memory_limit',
  ]) {
    // Assay limits the whole run (cgroup), never per process: config_info says it cannot be enabled.
    if (booleanOf(body[field]) === true) add(field, 'this option cannot be enabled');
  }

  const languageId = typeof languageNumber === 'number' ? Math.trunc(languageNumber) : null;
  const language =
    languageId === null ? undefined : options.languages.find((item) => item.id === languageId);
  if (!language) {
    const shown = languageId ?? scalarText(rawLanguage) ?? '';
    add('language_id', `language with id ${shown} doesn't exist`);
  }

  if (booleanOf(body.enable_network) === true)
    add('enable_network', 'enabling network is not allowed');

  if (Object.keys(errors).length > 0 || !language || !source) return { ok: false, errors };
  return {
    ok: true,
    submission: {
      languageId: language.id,
      language: language.language,
      source,
      stdin: textField(body.stdin, options.base64),
      expectedOutput: textField(body.expected_output, options.base64),
      cpuMs,
      wallMs,
      memoryKb,
      settings: {
        compiler_options: scalarText(body.compiler_options),
        command_line_arguments: scalarText(body.command_line_arguments),
        callback_url: scalarText(body.callback_url),
        redirect_stderr_to_stdout: booleanOf(body.redirect_stderr_to_stdout) ?? false,
      },
    },
  };
}
