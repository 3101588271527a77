import type { ReadOnlyPath } from './sandbox.bwrap.ts';

/**
 * Languages are data: adding one is an entry here. Commands are argument lists run inside the
 * sandbox with absolute toolchain paths (the sandbox sees only `/usr` and a few `/etc` entries, so
 * toolchains under `/root`, `/opt` or a home directory are not usable as installed).
 *
 * `{memoryMb}` in an argument is replaced by the step's memory limit in MiB.
 */
export interface LanguageSpec {
  id: string;
  name: string;
  /** The Judge0 CE id of this language, so Judge0 clients find it. */
  judge0Id: number | null;
  /** The file the submitted source is written to. */
  sourceFile: string;
  /**
   * Compile step: its command and the files it must leave behind for the runs (by name, and
   * every top-level file ending in `suffix`, such as Java's inner classes).
   */
  compile?: { argv: readonly string[]; artifacts: readonly string[]; suffix?: string };
  run: readonly string[];
  /** Added to the base environment (PATH, HOME, LANG, TMPDIR). */
  env?: Readonly<Record<string, string>>;
  /** Extra read-only paths the toolchain reads (bound only when present). */
  readOnlyPaths?: readonly ReadOnlyPath[];
  /**
   * For toolchains outside `/usr` (rustup's, the app's own TypeScript): a host command printing
   * the toolchain's directory. `{root}` in every command and path then stands for it, and it is
   * bound read-only.
   */
  locate?: readonly string[];
  /** The open-files limit this runtime needs at least, whatever the step's limits say. */
  minOpenFiles?: number;
  /** Prints the toolchain's version (for `GET /languages` and `assay doctor`). */
  version: readonly string[];
  /** A program printing `hello` (for `assay doctor` and the benchmarks). */
  hello: string;
}

export const BASE_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/tmp',
  TMPDIR: '/tmp',
  LANG: 'C.UTF-8',
};

const JVM_FLAGS = [
  // The JVM cannot see the cgroup (no /sys inside): size the heap from the limit instead of
  // the machine's RAM. Serial GC and C1 only: fewer threads and a faster start for short runs.
  '-XX:MaxRAM={memoryMb}m',
  '-XX:MaxRAMPercentage=75',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-XX:-UsePerfData',
  '-Xshare:auto',
];

const TRANSPILE_TS = [
  'const ts = require(process.argv[1]); const fs = require("fs");',
  'const out = ts.transpileModule(fs.readFileSync("main.ts", "utf8"), { fileName: "main.ts",',
  '  reportDiagnostics: true, compilerOptions: { target: ts.ScriptTarget.ES2022,',
  '  module: ts.ModuleKind.CommonJS } });',
  'const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ".", getNewLine: () => "\\n" };',
  'if (out.diagnostics.length) { process.stderr.write(ts.formatDiagnostics(out.diagnostics, host)); process.exit(1); }',
  'fs.writeFileSync("main.js", out.outputText);',
].join('\n');

export const LANGUAGES: readonly LanguageSpec[] = [
  {
    id: 'python',
    name: 'Python 3',
    judge0Id: 71,
    sourceFile: 'main.py',
    // -B: the work directory is read-only during runs, so no bytecode cache is attempted.
    run: ['/usr/bin/python3', '-B', 'main.py'],
    version: ['/usr/bin/python3', '--version'],
    hello: 'print("hello")\n',
  },
  {
    id: 'javascript',
    name: 'JavaScript (Node.js)',
    judge0Id: 63,
    sourceFile: 'main.js',
    // V8 sizes its heap from the machine's RAM, not the cgroup it cannot see; capping the old
    // space at the limit makes it collect before the cgroup's OOM killer has to step in. Its
    // large virtual reservations are harmless: memory is judged by the cgroup, not RLIMIT_AS.
    run: ['/usr/bin/node', '--max-old-space-size={memoryMb}', 'main.js'],
    version: ['/usr/bin/node', '--version'],
    hello: 'console.log("hello");\n',
  },
  {
    id: 'c',
    name: 'C (GCC)',
    judge0Id: 50,
    sourceFile: 'main.c',
    compile: {
      argv: ['/usr/bin/gcc', '-std=gnu17', '-O2', '-pipe', '-o', 'main', 'main.c', '-lm'],
      artifacts: ['main'],
    },
    run: ['./main'],
    version: ['/usr/bin/gcc', '--version'],
    hello: '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n',
  },
  {
    id: 'cpp',
    name: 'C++ (G++)',
    judge0Id: 54,
    sourceFile: 'main.cpp',
    compile: {
      argv: ['/usr/bin/g++', '-std=gnu++17', '-O2', '-pipe', '-o', 'main', 'main.cpp'],
      artifacts: ['main'],
    },
    run: ['./main'],
    version: ['/usr/bin/g++', '--version'],
    hello: '#include <iostream>\nint main() { std::cout << "hello\\n"; }\n',
  },
  {
    id: 'java',
    name: 'Java (OpenJDK)',
    judge0Id: 62,
    sourceFile: 'Main.java',
    compile: {
      argv: [
        '/usr/bin/javac',
        ...JVM_FLAGS.map((flag) => `-J${flag}`),
        '-encoding',
        'UTF-8',
        '-d',
        '.',
        'Main.java',
      ],
      artifacts: ['Main.class'],
      suffix: '.class',
    },
    run: ['/usr/bin/java', ...JVM_FLAGS, '-Xss64m', '-cp', '.', 'Main'],
    // Debian keeps the JVM's configuration (jvm.cfg, security) under /etc.
    readOnlyPaths: ['/etc/java-17-openjdk'],
    version: ['/usr/bin/javac', '-version'],
    hello:
      'public class Main { public static void main(String[] args) { System.out.println("hello"); } }\n',
  },
  {
    id: 'r',
    name: 'R',
    judge0Id: 80,
    sourceFile: 'main.R',
    run: ['/usr/bin/Rscript', '--vanilla', 'main.R'],
    readOnlyPaths: ['/etc/R'],
    // R reserves 100 DLL slots and refuses to start unless they are at most 60% of the
    // open-files limit.
    minOpenFiles: 256,
    version: ['/usr/bin/Rscript', '--version'],
    hello: 'cat("hello\\n")\n',
  },
  {
    id: 'bash',
    name: 'Bash',
    judge0Id: 46,
    sourceFile: 'main.sh',
    run: ['/usr/bin/bash', 'main.sh'],
    version: ['/usr/bin/bash', '--version'],
    hello: 'echo hello\n',
  },
  {
    id: 'typescript',
    name: 'TypeScript',
    judge0Id: 74,
    sourceFile: 'main.ts',
    // The app's own TypeScript compiler, bound read-only; it runs inside the sandbox like gcc.
    locate: [
      '/usr/bin/node',
      '-e',
      'process.stdout.write(require("path").dirname(require.resolve("typescript/package.json")))',
    ],
    compile: {
      // Transpiled, not type-checked: the sandbox has no @types/node, and a student's
      // `process.stdin` must not fail for want of declarations. Syntax errors still fail.
      argv: ['/usr/bin/node', '--max-old-space-size={memoryMb}', '-e', TRANSPILE_TS, '{root}'],
      artifacts: ['main.js'],
    },
    run: ['/usr/bin/node', '--max-old-space-size={memoryMb}', 'main.js'],
    version: ['/usr/bin/node', '{root}/lib/tsc.js', '--version'],
    hello: 'const greeting: string = "hello";\nconsole.log(greeting);\n',
  },
  {
    id: 'go',
    name: 'Go',
    judge0Id: 60,
    sourceFile: 'main.go',
    compile: {
      argv: ['/usr/lib/go/bin/go', 'build', '-o', 'main', 'main.go'],
      artifacts: ['main'],
    },
    run: ['./main'],
    env: { GOCACHE: '/tmp/go-cache', GOPATH: '/tmp/go', GO111MODULE: 'off', CGO_ENABLED: '0' },
    version: ['/usr/lib/go/bin/go', 'version'],
    hello: 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n',
  },
  {
    id: 'rust',
    name: 'Rust',
    judge0Id: 73,
    sourceFile: 'main.rs',
    // Debian's rustc. rustup's lives under /root (mode 0700), which the unprivileged sandbox
    // user cannot even traverse to bind.
    compile: {
      argv: ['/usr/bin/rustc', '--edition', '2021', '-O', '-o', 'main', 'main.rs'],
      artifacts: ['main'],
    },
    run: ['./main'],
    version: ['/usr/bin/rustc', '--version'],
    hello: 'fn main() { println!("hello"); }\n',
  },
];

export function findLanguage(id: string, languages: readonly LanguageSpec[] = LANGUAGES) {
  return languages.find((language) => language.id === id) ?? null;
}

/** Fills `{memoryMb}` (the step's memory limit in MiB) and `{root}` (a located toolchain). */
export function expandArgv(
  argv: readonly string[],
  values: { memoryBytes: number; root?: string | null },
): string[] {
  const memoryMb = String(Math.max(1, Math.floor(values.memoryBytes / (1024 * 1024))));
  return argv.map((arg) =>
    arg.replaceAll('{memoryMb}', memoryMb).replaceAll('{root}', values.root ?? '{root}'),
  );
}
