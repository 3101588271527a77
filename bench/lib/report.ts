import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Environment } from './environment.ts';
import type { Spread } from './stats.ts';

/** What one benchmark contributes to bench/RESULTS.md. */
export type Section = { name: string; body: string };

export type Row = {
  metric: string;
  reference: string;
  candidate: string;
  ratio: string;
  target: string;
  met: string;
};

const escapeCell = (text: string) => text.replaceAll('|', '\\|');

export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]) {
  const line = (cells: readonly string[]) => `| ${cells.map(escapeCell).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export const resultsTable = (rows: readonly Row[]) =>
  markdownTable(
    ['metric', 'reference median', 'candidate median', 'ratio median [min–max]', 'target', 'met?'],
    rows.map((row) => [row.metric, row.reference, row.candidate, row.ratio, row.target, row.met]),
  );

export const formatMs = (ms: number, digits = 0) => `${ms.toFixed(digits)} ms`;

export const formatCount = (value: number) => Math.round(value).toLocaleString('en-US');

export const formatRatio = (ratio: Spread, digits = 2) =>
  `${ratio.median.toFixed(digits)} [${ratio.min.toFixed(digits)}–${ratio.max.toFixed(digits)}]`;

export const yesNo = (met: boolean) => (met ? 'yes' : '**no**');

export function runLine(env: Environment, command: string): string {
  const modified =
    env.modified.length > 0
      ? ` · **uncommitted changes outside the harness:** ${env.modified.join(', ')}`
      : '';
  return `Run ${env.date} · commit \`${env.commit}\`${modified} · Node ${env.node} · command: \`${command}\``;
}

function environmentBlock(env: Environment, command: string): string {
  return [
    '<!-- environment -->',
    `Last run: ${env.date}, commit \`${env.commit}\`, command \`${command}\`.`,
    ...(env.modified.length > 0
      ? ['', `Uncommitted changes outside the harness at that run: ${env.modified.join(', ')}.`]
      : []),
    '',
    markdownTable(
      ['', ''],
      [
        ['Node', env.node],
        ['bwrap', env.bwrap],
        ['PostgreSQL client', env.psql],
        ['PostgreSQL server', env.postgresServer],
        ['embedded database', env.pglite],
        ['Redis', env.redis],
        ['wrk', env.wrk],
        ['machine', `${env.nproc} CPUs (nproc), ${env.cpuModel}, ${env.memory} RAM`],
        ['kernel', env.kernel],
        ['load average at start', env.loadAverage],
      ],
    ),
    '',
    'cold-start, health and login run Assay on its embedded database (PGlite) and in-memory',
    'queue (DATABASE_URL and REDIS_URL unset). exam-start and autosave run it on PostgreSQL and',
    'Redis (a fresh database and a key prefix of its own per run, removed afterwards), and on',
    'PGlite for context.',
    '<!-- /environment -->',
  ].join('\n');
}

const INTRO = [
  '# Benchmark results',
  '',
  'Written by `npm run bench` (all benchmarks) or `npm run bench -- <name>` (one); a run',
  'regenerates the sections of the benchmarks it ran and keeps the others. Every ratio is',
  'candidate / reference, both measured in the same run, interleaved, warm-up rounds discarded:',
  'the median of the per-pair ratios, with the smallest and largest. Absolute numbers are context',
  'only (the machine is shared and drifts by about ±20% between runs).',
].join('\n');

const SECTION = /<!-- bench:([a-z0-9-]+) -->\n[\s\S]*?\n<!-- \/bench:\1 -->/g;

const wrap = (section: Section) =>
  `<!-- bench:${section.name} -->\n${section.body.trim()}\n<!-- /bench:${section.name} -->`;

/**
 * Rewrites `file`: intro, the environment of this run, then one section per benchmark in
 * `order`: the new one where it ran, the stored one otherwise (unknown stored sections last).
 */
export function writeResults(
  file: string,
  options: {
    env: Environment;
    command: string;
    order: readonly string[];
    sections: readonly Section[];
  },
) {
  const stored = new Map<string, string>();
  if (existsSync(file)) {
    for (const match of readFileSync(file, 'utf8').matchAll(SECTION)) {
      stored.set(match[1]!, match[0]);
    }
  }
  for (const section of options.sections) stored.set(section.name, wrap(section));
  const names = [
    ...options.order.filter((name) => stored.has(name)),
    ...[...stored.keys()].filter((name) => !options.order.includes(name)),
  ];
  const parts = [
    INTRO,
    environmentBlock(options.env, options.command),
    ...names.map((name) => stored.get(name)!),
  ];
  writeFileSync(file, `${parts.join('\n\n')}\n`);
}
