import type { FieldError } from '../../platform/errors/errors.ts';
import type { CheckerName } from '../submissions/submissions.checkers.ts';

export const DIFFICULTIES = ['easy', 'medium', 'hard'] as const;
export type Difficulty = (typeof DIFFICULTIES)[number];

const MiB = 1024 * 1024;

/** What the sandbox of this process offers, as the content checks need it. */
export type SandboxOffer = {
  /** Ids of the languages whose toolchain is present. */
  languages: string[];
  /** Why none are, when the sandbox is unusable here. */
  unavailableReason: string | null;
  maxCpuMs: number;
  maxMemoryMb: number;
};

export const sandboxOffer = (input: {
  status: { available: boolean; reason: string | null; languages: Array<{ id: string }> };
  limits: { maxCpuMs: number; maxMemoryBytes: number };
}): SandboxOffer => ({
  languages: input.status.available ? input.status.languages.map((language) => language.id) : [],
  unavailableReason: input.status.available ? null : (input.status.reason ?? 'unavailable'),
  maxCpuMs: input.limits.maxCpuMs,
  maxMemoryMb: Math.floor(input.limits.maxMemoryBytes / MiB),
});

/**
 * What the fields say together and against this machine's sandbox: offered languages, limits
 * within the maxima, starter code only for the challenge's languages, a tolerance exactly for
 * the float checker. Paths are those of the request body.
 */
export function challengeProblems(
  input: {
    languages: string[];
    timeLimitMs: number;
    memoryLimitMb: number;
    starterCode: Record<string, string>;
    checker: CheckerName;
    floatTolerance?: number | undefined;
  },
  offer: SandboxOffer,
): FieldError[] {
  const problems: FieldError[] = [];
  const offered = new Set(offer.languages);
  input.languages.forEach((language, index) => {
    const path = `body.languages[${index}]`;
    if (input.languages.indexOf(language) !== index) {
      problems.push({ path, message: `"${language}" is listed twice` });
    } else if (!offered.has(language)) {
      problems.push({
        path,
        message: offer.unavailableReason
          ? `"${language}" cannot run here: the sandbox is unavailable (${offer.unavailableReason})`
          : `"${language}" is not offered here; offered: ${offer.languages.join(', ') || 'none'}`,
      });
    }
  });
  if (input.timeLimitMs > offer.maxCpuMs) {
    problems.push({
      path: 'body.timeLimitMs',
      message: `must be at most ${offer.maxCpuMs} (the sandbox's SANDBOX_MAX_CPU_MS)`,
    });
  }
  if (input.memoryLimitMb > offer.maxMemoryMb) {
    problems.push({
      path: 'body.memoryLimitMb',
      message: `must be at most ${offer.maxMemoryMb} (the sandbox's SANDBOX_MAX_MEMORY_MB)`,
    });
  }
  const languages = new Set(input.languages);
  for (const language of Object.keys(input.starterCode)) {
    if (!languages.has(language)) {
      problems.push({
        path: `body.starterCode.${language}`,
        message: `"${language}" is not one of the challenge's languages`,
      });
    }
  }
  if (input.checker === 'float' && input.floatTolerance === undefined) {
    problems.push({ path: 'body.floatTolerance', message: 'is required with checker "float"' });
  }
  if (input.checker !== 'float' && input.floatTolerance !== undefined) {
    problems.push({ path: 'body.floatTolerance', message: 'applies only to checker "float"' });
  }
  return problems;
}

/** Which tests of an uploaded archive are hidden: none, all, or these test numbers. */
export type HiddenSpec = { kind: 'none' } | { kind: 'all' } | { kind: 'some'; numbers: number[] };
/** The weight of each test of an archive: one for all, or per test number (others weigh 1). */
export type WeightSpec =
  | { kind: 'all'; weight: number }
  | { kind: 'some'; weights: Map<number, number> };

/**
 * Applies the upload's hidden and weight fields to the archive's test numbers. A number the
 * archive does not hold is an error, so a typo does not silently publish a hidden test.
 */
export function archiveSettings(
  numbers: number[],
  hidden: HiddenSpec,
  weight: WeightSpec,
): { settings: Array<{ hidden: boolean; weight: number }>; problems: FieldError[] } {
  const present = new Set(numbers);
  const problems: FieldError[] = [];
  if (hidden.kind === 'some') {
    for (const number of hidden.numbers)
      if (!present.has(number))
        problems.push({ path: 'body.hidden', message: `the archive has no test ${number}` });
  }
  if (weight.kind === 'some') {
    for (const number of weight.weights.keys())
      if (!present.has(number))
        problems.push({ path: 'body.weight', message: `the archive has no test ${number}` });
  }
  const hiddenSet = new Set(hidden.kind === 'some' ? hidden.numbers : []);
  return {
    settings: numbers.map((number) => ({
      hidden: hidden.kind === 'all' || hiddenSet.has(number),
      weight: weight.kind === 'all' ? weight.weight : (weight.weights.get(number) ?? 1),
    })),
    problems,
  };
}
