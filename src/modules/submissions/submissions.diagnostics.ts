/**
 * Reading compiler and interpreter output the way a student would: the first error and its line
 * in the student's own file. Pure functions over text; the formats are those of the toolchains in
 * `sandbox.languages.ts` (gcc/g++, javac, rustc, go, the TypeScript transpiler, CPython, Node, the
 * JVM, Rust and Go panics).
 */

export type CompileError = { line: number | null; message: string; count: number };

export type Crash = {
  /** What went wrong, e.g. `ZeroDivisionError: integer division or modulo by zero`. */
  error: string | null;
  /** The line of the student's file where it happened, when the output names one. */
  line: number | null;
};

const MESSAGE_CHARS = 160;

const normalise = (text: string) => text.replace(/\r\n?/g, '\n');

const clip = (text: string, max = MESSAGE_CHARS) => {
  const chars = [...text.trim()];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : chars.join('');
};

const lineNumber = (text: string | undefined) => {
  const value = Number(text);
  return Number.isInteger(value) && value > 0 ? value : null;
};

type CompileFormat = { pattern: RegExp; line: number; message: (match: RegExpExecArray) => string };

/** Tried in order; each pattern is global so the matches also count the errors. */
const COMPILE_FORMATS: readonly CompileFormat[] = [
  // gcc / g++ (and clang): `main.c:4:3: error: expected ';' before 'printf'`
  {
    pattern: /^[^\s:]*\.(?:c|cc|cpp|cxx|h|hpp):(\d+):(?:\d+:)? (?:fatal )?error: (.+)$/gm,
    line: 1,
    message: (match) => match[2]!,
  },
  // javac: `Main.java:3: error: ';' expected`
  {
    pattern: /^[^\s:]*\.java:(\d+): error: (.+)$/gm,
    line: 1,
    message: (match) => match[2]!,
  },
  // TypeScript: `main.ts(1,19): error TS1109: Expression expected.`
  {
    pattern: /^[^\s(]*\.tsx?\((\d+),\d+\): error (TS\d+: .+)$/gm,
    line: 1,
    message: (match) => match[2]!,
  },
  // rustc: `error[E0425]: cannot find value `x` in this scope` then ` --> main.rs:3:20`
  {
    pattern: /^error(\[E\d+\])?: (.+)\n\s*--> [^\n:]*:(\d+):\d+/gm,
    line: 3,
    message: (match) => `${match[2]}${match[1] ? ` ${match[1]}` : ''}`,
  },
  // go build: `./main.go:5:2: undefined: x`
  {
    pattern: /^[^\s:]*\.go:(\d+):\d+: (.+)$/gm,
    line: 1,
    message: (match) => match[2]!,
  },
];

/** The first error of a failed compile, with its line when the compiler gives one. */
export function firstCompileError(output: string): CompileError | null {
  const text = normalise(output);
  for (const format of COMPILE_FORMATS) {
    const matches = [...text.matchAll(format.pattern)];
    const first = matches[0];
    if (first)
      return {
        line: lineNumber(first[format.line]),
        message: clip(format.message(first)),
        count: matches.length,
      };
  }
  // The linker names no source line: `main.c:(.text+0x6): undefined reference to `foo'`.
  const linker = /undefined reference to (.+)$/m.exec(text);
  if (linker) return { line: null, message: clip(`undefined reference to ${linker[1]}`), count: 1 };
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const error = lines.find((line) => /error/i.test(line)) ?? lines[0];
  return error ? { line: null, message: clip(error), count: 1 } : null;
}

const lastLine = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .at(-1);

/** CPython: the innermost frame in main.py, and the exception on the traceback's last line. */
function pythonCrash(stderr: string): Crash {
  // Only the last traceback: an exception raised while handling another prints both.
  const start = stderr.lastIndexOf('Traceback');
  const traceback = start >= 0 ? stderr.slice(start) : stderr;
  const frames = [...traceback.matchAll(/File "(?:[^"\n]*\/)?main\.py", line (\d+)/g)];
  const last = lastLine(traceback);
  const exception =
    frames.length > 0 && last && /^[A-Za-z_][\w.]*(?::|$)/.test(last) ? clip(last) : null;
  return { error: exception, line: lineNumber(frames.at(-1)?.[1]) };
}

/** Node: the `main.js:N` header over the source excerpt, and the `TypeError: …` line below it. */
function nodeCrash(stderr: string): Crash {
  const line = /main\.js:(\d+)/.exec(stderr);
  const error = /^([A-Z]\w*(?:Error|Exception)|Error)(?: \[\w+\])?(?:: .*)?$/m.exec(stderr);
  return { error: error ? clip(error[0]) : null, line: lineNumber(line?.[1]) };
}

/** The JVM: `Exception in thread "main" java.lang.X: message`, then the first Main.java frame. */
function javaCrash(stderr: string): Crash {
  const exception = /Exception in thread "[^"\n]*" ([\w.$]+)(?::\s?(.*))?/.exec(stderr);
  const frame = /\(Main\.java:(\d+)\)/.exec(stderr);
  const name = exception?.[1]?.split('.').at(-1);
  const error = name ? clip(exception?.[2] ? `${name}: ${exception[2]}` : name) : null;
  return { error, line: lineNumber(frame?.[1]) };
}

/** C and C++ say little: an uncaught exception, a failed assert, or a glibc message. */
function nativeCrash(stderr: string): Crash {
  const thrown =
    /terminate called after throwing an instance of '([^']+)'(?:\n\s*what\(\):\s*(.*))?/.exec(
      stderr,
    );
  if (thrown)
    return {
      error: clip(`uncaught exception ${thrown[1]}${thrown[2] ? `: ${thrown[2]}` : ''}`),
      line: null,
    };
  const assertion = /main\.c(?:pp)?:(\d+): [^\n]*Assertion [`'](.+)' failed/.exec(stderr);
  if (assertion)
    return { error: clip(`assertion \`${assertion[2]}\` failed`), line: lineNumber(assertion[1]) };
  const first = stderr.split('\n').find((line) => line.trim() !== '');
  return { error: first ? clip(first) : null, line: null };
}

/** Rust: `panicked at main.rs:4:21:` and the message on the next line (or, before 1.73, inline). */
function rustCrash(stderr: string): Crash {
  const current = /panicked at [^\s:]*main\.rs:(\d+):\d+:\n(.+)/.exec(stderr);
  if (current) return { error: clip(current[2]!), line: lineNumber(current[1]) };
  const older = /panicked at '(.*)', [^\s:]*main\.rs:(\d+):\d+/.exec(stderr);
  return { error: older ? clip(older[1]!) : null, line: lineNumber(older?.[2]) };
}

/** Go: `panic: runtime error: …` and the first frame in main.go. */
function goCrash(stderr: string): Crash {
  const panic = /^panic: (.+)$/m.exec(stderr);
  const frame = /main\.go:(\d+)/.exec(stderr);
  return { error: panic ? clip(panic[1]!) : null, line: lineNumber(frame?.[1]) };
}

/** Anything else (bash, R): its first line of complaint, and a `line N` if there is one. */
function genericCrash(stderr: string): Crash {
  const first = stderr.split('\n').find((line) => line.trim() !== '');
  const line = /\bline (\d+)/.exec(stderr);
  return { error: first ? clip(first) : null, line: lineNumber(line?.[1]) };
}

const CRASH_READERS: Readonly<Record<string, (stderr: string) => Crash>> = {
  python: pythonCrash,
  javascript: nodeCrash,
  // The transpiled main.js keeps the lines of main.ts, so Node's line is the student's.
  typescript: nodeCrash,
  java: javaCrash,
  c: nativeCrash,
  cpp: nativeCrash,
  rust: rustCrash,
  go: goCrash,
};

/** What a crashed program's stderr says, read for its language. */
export function readCrash(language: string, stderr: string): Crash {
  const text = normalise(stderr);
  if (text.trim() === '') return { error: null, line: null };
  return (CRASH_READERS[language] ?? genericCrash)(text);
}

/** What a fatal signal usually means in a student's program. */
export const SIGNAL_MEANINGS: Readonly<Record<string, string>> = {
  SIGSEGV: 'invalid memory access, e.g. an index out of bounds or a null pointer',
  SIGBUS: 'invalid memory access, e.g. an index out of bounds or a null pointer',
  SIGFPE: 'an arithmetic error, usually a division by zero',
  SIGABRT: 'an assertion or abort (an uncaught C++ exception ends this way too)',
  SIGILL: 'an illegal instruction, often undefined behaviour such as a missing return',
  SIGKILL: 'the program was killed',
  SIGPIPE: 'writing to a closed output',
};
