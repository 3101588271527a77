import { describe, expect, it } from 'vitest';
import { accuracyByTag, canonicalTimeZone, localDate, streaks, trend } from './analytics.models.ts';

describe('time zones', () => {
  it('takes IANA names, in any case and as aliases, and gives the canonical name', () => {
    expect(canonicalTimeZone('Europe/Paris')).toBe('Europe/Paris');
    expect(canonicalTimeZone('europe/paris')).toBe('Europe/Paris');
    expect(canonicalTimeZone('UTC')).toBe('UTC');
    // ICU names it by its older link, America/Buenos_Aires; both are the same zone.
    expect(canonicalTimeZone('America/Argentina/Buenos_Aires')).toMatch(/Buenos_Aires$/);
  });

  it('refuses what is not a zone name', () => {
    for (const name of [
      'Mars/Olympus',
      '+01:00',
      'UTC+1',
      '',
      'Europe/Paris; drop table',
      '../etc',
    ])
      expect(canonicalTimeZone(name), name).toBeUndefined();
  });

  it('dates an instant by the local calendar', () => {
    const lateEvening = new Date('2026-03-01T23:30:00Z');
    expect(localDate(lateEvening, 'UTC')).toBe('2026-03-01');
    expect(localDate(lateEvening, 'Europe/Paris')).toBe('2026-03-02');
    expect(localDate(lateEvening, 'America/Los_Angeles')).toBe('2026-03-01');
  });
});

describe('streaks', () => {
  it('counts the run up to today, and the longest run', () => {
    const days = ['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-10', '2026-01-11'];
    expect(streaks(days, '2026-01-11')).toEqual({
      current: 2,
      longest: 3,
      lastActiveDay: '2026-01-11',
      activeDays: 5,
    });
  });

  it('keeps the streak alive on a day not yet active, and breaks it after a missed day', () => {
    const days = ['2026-01-09', '2026-01-10'];
    expect(streaks(days, '2026-01-11').current).toBe(2);
    expect(streaks(days, '2026-01-12').current).toBe(0);
    expect(streaks(days, '2026-01-12').longest).toBe(2);
  });

  it('runs across month, year and leap-day boundaries, ignoring duplicates and order', () => {
    const days = ['2028-03-01', '2028-02-28', '2028-02-29', '2028-02-29'];
    expect(streaks(days, '2028-03-01')).toMatchObject({ current: 3, longest: 3, activeDays: 3 });
    expect(streaks(['2025-12-31', '2026-01-01'], '2026-01-01').current).toBe(2);
  });

  it('is zero for someone never active', () => {
    expect(streaks([], '2026-01-01')).toEqual({
      current: 0,
      longest: 0,
      lastActiveDay: null,
      activeDays: 0,
    });
  });
});

describe('the recent trend', () => {
  it('is the least-squares slope in points per attempt', () => {
    expect(trend([50, 60, 70, 80])).toEqual({ slope: 10, direction: 'improving' });
    expect(trend([90, 70, 80, 40])).toEqual({ slope: -14, direction: 'declining' });
    expect(trend([70, 70.5, 70])).toEqual({ slope: 0, direction: 'steady' });
  });

  it('needs two results', () => {
    expect(trend([])).toEqual({ slope: null, direction: null });
    expect(trend([80])).toEqual({ slope: null, direction: null });
  });
});

describe('accuracy by tag', () => {
  it('sums a question into each of its tags, with partial credit in the score rate', () => {
    const tags = new Map([
      ['q1', ['algebra', 'basics']],
      ['q2', ['algebra']],
      ['q3', []],
    ]);
    const rows = accuracyByTag(
      [
        { questionId: 'q1', seen: 2, correct: 1, earned: 1.5, max: 2 },
        { questionId: 'q2', seen: 3, correct: 0, earned: 1, max: 6 },
        { questionId: 'q3', seen: 1, correct: 1, earned: 1, max: 1 },
        { questionId: 'gone', seen: 1, correct: 1, earned: 1, max: 1 },
      ],
      tags,
    );
    expect(rows).toEqual([
      { tag: 'algebra', questions: 5, correct: 1, accuracy: 0.2, scoreRate: 31.25 },
      { tag: 'basics', questions: 2, correct: 1, accuracy: 0.5, scoreRate: 75 },
    ]);
  });
});
