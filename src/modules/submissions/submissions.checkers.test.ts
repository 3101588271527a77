import { describe, expect, it } from 'vitest';
import { check, floatsEqual } from './submissions.checkers.ts';

describe('output checkers', () => {
  it('exact: every byte counts, and the first differing line is named', () => {
    expect(check('exact', '1 2\n3\n', '1 2\n3\n')).toEqual({ pass: true });
    expect(check('exact', '1 2\n3\n', '1 2\n3')).toMatchObject({ pass: false, line: 3 });
    expect(check('exact', 'a\nb\nc\n', 'a\nB\nc\n')).toEqual({
      pass: false,
      line: 2,
      expected: 'b',
      actual: 'B',
    });
  });

  it('trim: trailing spaces, trailing blank lines and CRLF do not count; inner spaces do', () => {
    expect(check('trim', '42\n', '42   \n\n\n')).toEqual({ pass: true });
    expect(check('trim', 'a\r\nb\r\n', 'a\nb')).toEqual({ pass: true });
    expect(check('trim', '1 2\n', '1  2\n')).toMatchObject({ pass: false, line: 1 });
    expect(check('trim', '1\n2\n', '1\n')).toEqual({
      pass: false,
      line: 2,
      expected: '2',
      actual: null,
    });
    expect(check('trim', '', '\n \n')).toEqual({ pass: true });
  });

  it('tokens: any whitespace between tokens, but every token in order', () => {
    expect(check('tokens', '1 2 3\n', ' 1\n2\t\t3 ')).toEqual({ pass: true });
    expect(check('tokens', '1 2 3', '1 3 2')).toMatchObject({ pass: false, line: 1 });
    expect(check('tokens', 'yes\nno\n', 'yes\n')).toMatchObject({
      pass: false,
      expected: 'no',
      actual: null,
    });
    expect(check('tokens', '1 2', '1 2 3')).toMatchObject({ pass: false });
  });

  it('float: numbers within the tolerance (absolute or relative), words exactly', () => {
    expect(check('float', '3.14159\n', '3.141592653\n', { floatTolerance: 1e-4 })).toEqual({
      pass: true,
    });
    expect(check('float', '3.14159', '3.15', { floatTolerance: 1e-4 })).toMatchObject({
      pass: false,
      line: 1,
    });
    // Relative: 1e9 vs 1e9 + 10 is within 1e-6 of its size.
    expect(check('float', '1000000000', '1000000010', { floatTolerance: 1e-6 })).toEqual({
      pass: true,
    });
    expect(check('float', 'area 2.5e-3', 'area 0.0025')).toEqual({ pass: true });
    expect(check('float', 'area 2.5', 'Area 2.5')).toMatchObject({ pass: false });
    expect(check('float', '1', 'nan')).toMatchObject({ pass: false });
    expect(check('float', '0.1', '0x1')).toMatchObject({ pass: false });
  });

  it('compares floats by the looser of absolute and relative tolerance, never NaN', () => {
    expect(floatsEqual(0, 1e-7, 1e-6)).toBe(true);
    expect(floatsEqual(100, 100.00009, 1e-6)).toBe(true);
    expect(floatsEqual(100, 100.001, 1e-6)).toBe(false);
    expect(floatsEqual(Number.NaN, Number.NaN, 1)).toBe(false);
  });
});
