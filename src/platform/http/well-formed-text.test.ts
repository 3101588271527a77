import { describe, expect, it } from 'vitest';
import { findLoneSurrogate } from './well-formed-text.ts';

describe('findLoneSurrogate', () => {
  it('points at the first string holding half a surrogate pair, in order', () => {
    expect(findLoneSurrogate({ title: 'ok', options: [{ text: 'a' }, { text: 'b\uD800' }] })).toBe(
      'body.options[1].text',
    );
    expect(findLoneSurrogate(['\uDC00', 'x\uD800'])).toBe('body[0]');
    expect(findLoneSurrogate({ 'key\uDFFF': 1 })).toBe('body');
  });

  it('accepts whole pairs, other text, other values and deep nesting', () => {
    expect(findLoneSurrogate({ text: 'Paris 😀', n: 1, b: true, none: null })).toBeUndefined();
    expect(findLoneSurrogate(undefined)).toBeUndefined();
    // Not what a JSON parser makes: left alone rather than walked (a stream's graph has cycles).
    expect(
      findLoneSurrogate({ file: Buffer.from('\uD800'), map: new Map([['a', '\uD800']]) }),
    ).toBeUndefined();
    let deep: unknown = 'end\uD83D';
    for (let level = 0; level < 100_000; level += 1) deep = [deep];
    expect(findLoneSurrogate(deep)).toMatch(/^body(\[0\]){100000}$/);
  });
});
