import { describe, expect, it } from 'vitest';
import {
  commonFingerprints,
  compare,
  fingerprint,
  MAX_MATCHES,
  mergeMatches,
} from './plagiarism.similarity.ts';
import {
  C,
  C_COPY,
  C_OWN,
  CPP,
  CPP_COPY,
  CPP_OWN,
  JAVA,
  JAVA_COPY,
  JAVA_OWN,
  JAVASCRIPT,
  JAVASCRIPT_COPY,
  JAVASCRIPT_OWN,
  PYTHON,
  PYTHON_COPY,
  PYTHON_OWN,
} from './plagiarism.test-programs.ts';
import { tokenize } from './plagiarism.tokens.ts';

const similarity = (a: string, b: string, language: string) =>
  compare(fingerprint(a, language), fingerprint(b, language)).similarity;

describe('tokenizing', () => {
  it('drops comments and whitespace and normalises names and literals', () => {
    const texts = (source: string) => tokenize(source, 'python').map((token) => token.text);
    expect(texts('total = total + 42  # add\nprint("done", f\'{x}\')\n')).toEqual([
      'V',
      '=',
      'V',
      '+',
      'N',
      'V',
      '(',
      'S',
      ',',
      'S',
      ')',
    ]);
    expect(
      tokenize("int a; /* a\n comment */ char c = '\\n';\n// x\nreturn a;", 'c').map((token) => [
        token.text,
        token.line,
      ]),
    ).toEqual([
      ['int', 1],
      ['V', 1],
      [';', 1],
      ['char', 2],
      ['V', 2],
      ['=', 2],
      ['S', 2],
      [';', 2],
      ['return', 4],
      ['V', 4],
      [';', 4],
    ]);
  });

  it('keeps multi-line strings on the line they start and counts the lines inside them', () => {
    const tokens = tokenize('x = """one\ntwo\n"""\ny = 1\n', 'python');
    expect(tokens.map((token) => [token.text, token.line])).toEqual([
      ['V', 1],
      ['=', 1],
      ['S', 1],
      ['V', 4],
      ['=', 4],
      ['N', 4],
    ]);
  });

  it('reads a Rust lifetime as punctuation and a shell `$#` as code, not a comment', () => {
    expect(tokenize("fn f<'a>(x: &'a str) -> char { 'x' }", 'rust').map((t) => t.text)).toEqual([
      'fn',
      'V',
      '<',
      "'",
      'V',
      '>',
      '(',
      'V',
      ':',
      '&',
      "'",
      'V',
      'V',
      ')',
      '->',
      'V',
      '{',
      'S',
      '}',
    ]);
    expect(tokenize('echo $# # count', 'bash').map((t) => t.text)).toEqual(['V', 'V', '#']);
  });

  it('has a generic tokenizer for any other language, and survives unterminated input', () => {
    expect(tokenize('main = print (1 + 2) -- haskell', 'haskell').length).toBeGreaterThan(5);
    expect(() => tokenize('s = "never closed\n/* nor this', 'c')).not.toThrow();
    expect(() => tokenize("'''open", 'python')).not.toThrow();
  });
});

describe('similarity of two programs', () => {
  it.each([
    ['python', PYTHON, PYTHON_COPY, PYTHON_OWN],
    ['c', C, C_COPY, C_OWN],
    ['cpp', CPP, CPP_COPY, CPP_OWN],
    ['java', JAVA, JAVA_COPY, JAVA_OWN],
    ['javascript', JAVASCRIPT, JAVASCRIPT_COPY, JAVASCRIPT_OWN],
    ['typescript', JAVASCRIPT, JAVASCRIPT_COPY, JAVASCRIPT_OWN],
  ])(
    '%s: a renamed, reformatted copy scores high; an independent solution low',
    (language, original, copy, own) => {
      expect(similarity(original, copy, language)).toBeGreaterThanOrEqual(0.8);
      expect(similarity(original, own, language)).toBeLessThan(0.3);
      expect(similarity(copy, own, language)).toBeLessThan(0.3);
    },
  );

  it('scores an independent solution of the same idea low even when it shares idioms', () => {
    expect(similarity(C, C_OWN, 'c')).toBeLessThan(0.3);
  });

  it('scores identical programs 1, in any language, with the whole file as the match', () => {
    for (const [source, language] of [
      [PYTHON, 'python'],
      [C, 'c'],
      [JAVA, 'java'],
      ['x <- scan("stdin")\ncat(sum(x[x %% 2 == 0]), "\\n")\nprint(x)\nprint(x)\n', 'r'],
    ] as const) {
      const result = compare(fingerprint(source, language), fingerprint(source, language));
      expect(result.similarity).toBe(1);
      expect(result.matches).toHaveLength(1);
      const lines = source.trimEnd().split('\n').length;
      expect(result.matches[0]!.aLines[1]).toBe(lines);
      expect(result.matches[0]!.bLines).toEqual(result.matches[0]!.aLines);
    }
  });

  it('tells where the copy is: line ranges in each program, in order', () => {
    const result = compare(fingerprint(PYTHON, 'python'), fingerprint(PYTHON_COPY, 'python'));
    // The copy starts at `def` (line 2 of the original, 1 of the copy) and runs to the call.
    expect(result.matches).toEqual([{ aLines: [2, 11], bLines: [1, 13] }]);
  });

  it('finds a copied block moved into a longer program and reports only that block', () => {
    const padded = `import sys


def unrelated_helper(a, b):
    while a != b:
        if a > b:
            a -= b
        else:
            b -= a
    return a


${PYTHON_COPY}`;
    const result = compare(fingerprint(PYTHON, 'python'), fingerprint(padded, 'python'));
    // Padding does not dilute it: the share of the smaller program found in the larger.
    expect(result.similarity).toBeGreaterThanOrEqual(0.8);
    expect(result.matches).toEqual([{ aLines: [2, 11], bLines: [13, 25] }]);
    // Each side's share tells the reader which program holds the other: all of the short one
    // is in the long one, not the other way round.
    expect(result.aShare).toBe(result.similarity);
    expect(result.bShare).toBeLessThan(result.aShare);
    const reversed = compare(fingerprint(padded, 'python'), fingerprint(PYTHON, 'python'));
    expect([reversed.aShare, reversed.bShare]).toEqual([result.bShare, result.aShare]);
  });

  it('compares empty, blank and tiny programs without failing or dividing by zero', () => {
    for (const [a, b] of [
      ['', ''],
      ['', PYTHON],
      ['   \n\n# only a comment\n', PYTHON],
      ['x', 'x'],
      ['print(1)', 'print(1)'],
    ])
      expect(similarity(a!, b!, 'python')).toBe(0);
  });

  it('is symmetric in its score and stays within [0, 1]', () => {
    const ab = similarity(C, C_OWN, 'c');
    expect(similarity(C_OWN, C, 'c')).toBeCloseTo(ab, 10);
    expect(ab).toBeGreaterThanOrEqual(0);
    expect(similarity(C, C_COPY, 'c')).toBeLessThanOrEqual(1);
  });

  it('survives a pathologically repetitive program quickly, with bounded regions', () => {
    const repetitive = 'x = x + 1\n'.repeat(5_000);
    const started = Date.now();
    const result = compare(fingerprint(repetitive, 'python'), fingerprint(repetitive, 'python'));
    expect(result.similarity).toBe(1);
    expect(result.matches.length).toBeLessThanOrEqual(MAX_MATCHES);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('common code', () => {
  it('ignores what most of a large class shares (starter code), so it makes no pair alike', () => {
    const starter = `import sys
def read_ints():
    return list(map(int, sys.stdin.readline().split()))
def write_answer(value):
    sys.stdout.write(str(value) + "\\n")
    sys.stdout.flush()
`;
    const bodies = [
      'n = read_ints()[0]\nprint(n * 2)\n',
      'values = read_ints()\nwrite_answer(sum(values))\n',
      'a, b = read_ints()\nwhile b:\n    a, b = b, a % b\nwrite_answer(a)\n',
      'xs = sorted(read_ints())\nwrite_answer(xs[len(xs) // 2])\n',
      'for row in range(3):\n    write_answer(row ** 3 - row)\n',
      'import math\nwrite_answer(math.factorial(read_ints()[0]))\n',
      's = set(read_ints())\nwrite_answer(len(s))\n',
      'data = read_ints()\nwrite_answer(max(data) - min(data))\n',
      'k = read_ints()\nwrite_answer([v for v in k if v > 0])\n',
      'q = read_ints()\nq.reverse()\nwrite_answer(q)\n',
    ];
    const documents = bodies.map((body) => fingerprint(starter + body, 'python'));
    expect(compare(documents[0]!, documents[1]!).similarity).toBeGreaterThan(0.5);
    const common = commonFingerprints(documents);
    expect(common.size).toBeGreaterThan(0);
    expect(compare(documents[0]!, documents[1]!, { ignore: common }).similarity).toBeLessThan(0.3);
    // A small class keeps everything: there, shared code may well be a copy.
    expect(commonFingerprints(documents.slice(0, 3)).size).toBe(0);
  });
});

describe('merging regions', () => {
  it('joins regions that overlap or sit on adjacent lines in both programs, and only those', () => {
    expect(
      mergeMatches([
        { aLines: [5, 7], bLines: [10, 12] },
        { aLines: [1, 4], bLines: [6, 9] },
        { aLines: [20, 22], bLines: [1, 3] },
        // Adjacent in the first program, far apart in the second: a different region.
        { aLines: [8, 9], bLines: [30, 31] },
      ]),
    ).toEqual([
      { aLines: [1, 7], bLines: [6, 12] },
      { aLines: [8, 9], bLines: [30, 31] },
      { aLines: [20, 22], bLines: [1, 3] },
    ]);
  });
});
