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
  /** The file the submitted source is written to. */
  sourceFile: string;
  /** Compile step: its command and the files it must leave behind for the runs. */
  compile?: { argv: readonly string[]; artifacts: readonly string[] };
  run: readonly string[];
  /** Added to the base environment (PATH, HOME, LANG, TMPDIR). */
  env?: Readonly<Record<string, string>>;
  /** Extra read-only paths the toolchain reads (bound only when present). */
  readOnlyPaths?: readonly string[];
  /** Prints the toolchain's version (for `GET /languages` and `assay doctor`). */
  version: readonly string[];
}

export const BASE_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/tmp',
  TMPDIR: '/tmp',
  LANG: 'C.UTF-8',
};

export const LANGUAGES: readonly LanguageSpec[] = [
  {
    id: 'python',
    name: 'Python 3',
    sourceFile: 'main.py',
    // -B: the work directory is read-only during runs, so no bytecode cache is attempted.
    run: ['/usr/bin/python3', '-B', 'main.py'],
    version: ['/usr/bin/python3', '--version'],
  },
  {
    id: 'javascript',
    name: 'JavaScript (Node.js)',
    sourceFile: 'main.js',
    // V8 sizes its heap from the machine's RAM, not the cgroup it cannot see; capping the old
    // space at the limit makes it collect before the cgroup's OOM killer has to step in. Its
    // large virtual reservations are harmless: memory is judged by the cgroup, not RLIMIT_AS.
    run: ['/usr/bin/node', '--max-old-space-size={memoryMb}', 'main.js'],
    version: ['/usr/bin/node', '--version'],
  },
  {
    id: 'c',
    name: 'C (GCC)',
    sourceFile: 'main.c',
    compile: {
      argv: ['/usr/bin/gcc', '-std=gnu17', '-O2', '-pipe', '-o', 'main', 'main.c', '-lm'],
      artifacts: ['main'],
    },
    run: ['./main'],
    version: ['/usr/bin/gcc', '--version'],
  },
  {
    id: 'cpp',
    name: 'C++ (G++)',
    sourceFile: 'main.cpp',
    compile: {
      argv: ['/usr/bin/g++', '-std=gnu++17', '-O2', '-pipe', '-o', 'main', 'main.cpp'],
      artifacts: ['main'],
    },
    run: ['./main'],
    version: ['/usr/bin/g++', '--version'],
  },
];

export function findLanguage(id: string, languages: readonly LanguageSpec[] = LANGUAGES) {
  return languages.find((language) => language.id === id) ?? null;
}

export function expandArgv(argv: readonly string[], values: { memoryBytes: number }): string[] {
  const memoryMb = String(Math.max(1, Math.floor(values.memoryBytes / (1024 * 1024))));
  return argv.map((arg) => arg.replaceAll('{memoryMb}', memoryMb));
}
