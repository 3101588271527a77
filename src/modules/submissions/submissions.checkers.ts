/**
 * Output checkers, as pure functions. Each compares a program's stdout with a test's expected
 * output and, when they differ, says where (the first differing line, 1-based), which the
 * feedback shows for public tests.
 */
export const CHECKERS = ['exact', 'trim', 'tokens', 'float'] as const;
export type CheckerName = (typeof CHECKERS)[number];

export type CheckOutcome =
  | { pass: true }
  | { pass: false; line: number; expected: string | null; actual: string | null };

/** Line endings are normalised for every checker: a Windows-authored test still compares. */
const lines = (text: string) => text.replace(/\r\n?/g, '\n').split('\n');

/** Trailing spaces of each line and trailing blank lines do not count. */
const trimmedLines = (text: string) => {
  const result = lines(text).map((line) => line.replace(/[ \t]+$/, ''));
  while (result.length > 0 && result[result.length - 1] === '') result.pop();
  return result;
};

function firstLineDifference(expected: string[], actual: string[]): CheckOutcome {
  const length = Math.max(expected.length, actual.length);
  for (let index = 0; index < length; index++) {
    if (expected[index] !== actual[index]) {
      return {
        pass: false,
        line: index + 1,
        expected: expected[index] ?? null,
        actual: actual[index] ?? null,
      };
    }
  }
  return { pass: true };
}

/** Tokens with the line each starts on, so a token mismatch still points at a line. */
function tokensOf(text: string): Array<{ token: string; line: number }> {
  const result: Array<{ token: string; line: number }> = [];
  lines(text).forEach((line, index) => {
    for (const token of line.split(/\s+/))
      if (token !== '') result.push({ token, line: index + 1 });
  });
  return result;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Equal within an absolute or a relative tolerance (whichever is looser), as judges do. */
export function floatsEqual(expected: number, actual: number, tolerance: number): boolean {
  if (Number.isNaN(expected) || Number.isNaN(actual)) return false;
  const difference = Math.abs(expected - actual);
  return difference <= tolerance || difference <= tolerance * Math.abs(expected);
}

function compareTokens(
  expectedText: string,
  actualText: string,
  same: (expected: string, actual: string) => boolean,
): CheckOutcome {
  const expected = tokensOf(expectedText);
  const actual = tokensOf(actualText);
  const length = Math.max(expected.length, actual.length);
  for (let index = 0; index < length; index++) {
    const want = expected[index];
    const got = actual[index];
    if (!want || !got || !same(want.token, got.token)) {
      const line = got?.line ?? want?.line ?? 1;
      return {
        pass: false,
        line,
        expected: want ? (lines(expectedText)[want.line - 1] ?? null) : null,
        actual: got ? (lines(actualText)[got.line - 1] ?? null) : null,
      };
    }
  }
  return { pass: true };
}

export function check(
  checker: CheckerName,
  expected: string,
  actual: string,
  options: { floatTolerance?: number } = {},
): CheckOutcome {
  switch (checker) {
    case 'exact':
      return expected === actual
        ? { pass: true }
        : firstLineDifference(lines(expected), lines(actual));
    case 'trim':
      return firstLineDifference(trimmedLines(expected), trimmedLines(actual));
    case 'tokens':
      return compareTokens(expected, actual, (want, got) => want === got);
    case 'float': {
      const tolerance = options.floatTolerance ?? 1e-6;
      return compareTokens(expected, actual, (want, got) =>
        NUMBER.test(want) && NUMBER.test(got)
          ? floatsEqual(Number(want), Number(got), tolerance)
          : want === got,
      );
    }
  }
}
