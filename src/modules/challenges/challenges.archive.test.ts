import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { readTestArchive } from './challenges.archive.ts';
import { archiveSettings } from './challenges.models.ts';
import { hiddenField, weightField } from './challenges.schemas.ts';

const small = { maxEntries: 6, maxEntryBytes: 1024, maxTotalBytes: 3000 };
const codeOf = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return 'no error';
};

describe('test archives', () => {
  it('pairs N.in with N.out in numeric order, stored or deflated', () => {
    for (const level of [0, 6] as const) {
      const tests = readTestArchive(
        zipSync(
          {
            '10.in': strToU8('ten'),
            '10.out': strToU8('TEN'),
            '002.in': strToU8('two'),
            '002.out': strToU8('TWO'),
          },
          { level },
        ),
      );
      expect(tests.map((test) => [test.number, test.input.toString()])).toEqual([
        [2, 'two'],
        [10, 'ten'],
      ]);
    }
  });

  it('counts unpacked bytes itself and stops at each cap', () => {
    const kib = new Uint8Array(1025);
    expect(codeOf(() => readTestArchive(zipSync({ '1.in': kib, '1.out': kib }), small))).toBe(
      'ARCHIVE_TOO_LARGE',
    );
    const entry = new Uint8Array(1000);
    const four = { '1.in': entry, '1.out': entry, '2.in': entry, '2.out': entry };
    expect(codeOf(() => readTestArchive(zipSync(four), small))).toBe('ARCHIVE_TOO_LARGE');
    const seven: Record<string, Uint8Array> = {};
    for (let index = 1; index <= 7; index++) seven[`${index}.in`] = strToU8('x');
    expect(codeOf(() => readTestArchive(zipSync(seven), small))).toBe('ARCHIVE_TOO_LARGE');
  });

  it('names repeated tests and files cut short', () => {
    const zip = zipSync({ '1.in': strToU8('a'), '01.in': strToU8('b'), '1.out': strToU8('c') });
    expect(() => readTestArchive(zip)).toThrow();
    try {
      readTestArchive(zip);
    } catch (error) {
      expect((error as { errors: unknown }).errors).toEqual([
        { path: 'body.file', message: '"01.in" repeats test 1.in' },
      ]);
    }
    expect(
      codeOf(() => readTestArchive(zipSync({ '1.in': new Uint8Array(5000) }).subarray(0, 60))),
    ).toBe('VALIDATION_FAILED');
  });
});

describe('upload fields', () => {
  it('reads hidden as all, none or test numbers', () => {
    expect(hiddenField.parse('true')).toEqual({ kind: 'all' });
    expect(hiddenField.parse('false')).toEqual({ kind: 'none' });
    expect(hiddenField.parse(' 2, 5 ')).toEqual({ kind: 'some', numbers: [2, 5] });
    expect(hiddenField.safeParse('2,x').success).toBe(false);
  });

  it('reads weight as one number or N:w pairs', () => {
    expect(weightField.parse('2.5')).toEqual({ kind: 'all', weight: 2.5 });
    expect(weightField.parse('1:0, 3:2')).toEqual({
      kind: 'some',
      weights: new Map([
        [1, 0],
        [3, 2],
      ]),
    });
    for (const bad of ['-1', '1:', '1:2:3', 'a:1', '1:1001'])
      expect(weightField.safeParse(bad).success).toBe(false);
  });

  it('refuses settings for tests the archive does not hold', () => {
    const { settings, problems } = archiveSettings(
      [1, 2],
      { kind: 'some', numbers: [2, 9] },
      { kind: 'some', weights: new Map([[1, 3]]) },
    );
    expect(settings).toEqual([
      { hidden: false, weight: 3 },
      { hidden: true, weight: 1 },
    ]);
    expect(problems).toEqual([{ path: 'body.hidden', message: 'the archive has no test 9' }]);
  });
});
