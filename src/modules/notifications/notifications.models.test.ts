import { describe, expect, it } from 'vitest';
import {
  joinParagraphs,
  mailOf,
  preferencesFrom,
  resultsAvailable,
  submissionJudged,
  verdictLabel,
} from './notifications.models.ts';

describe('preferencesFrom', () => {
  it('turns every channel on unless a stored row says otherwise', () => {
    expect(preferencesFrom([{ kind: 'results_available', email: false, inApp: true }])).toEqual({
      quiz_published: { email: true, inApp: true },
      results_available: { email: false, inApp: true },
      submission_judged: { email: true, inApp: true },
    });
  });
});

describe('resultsAvailable', () => {
  const base = { attemptId: 'a1', quizId: 'q1', quizTitle: 'Week 3', status: 'graded' as const };

  it('links the result and carries ids only', () => {
    const content = resultsAvailable({ ...base, reviewPolicy: 'after_submit' });
    expect(content).toMatchObject({
      kind: 'results_available',
      subjectId: 'a1',
      title: 'Results available: Week 3',
      link: '/api/v1/results/attempts/a1',
      data: { attemptId: 'a1', quizId: 'q1' },
    });
  });

  it('says what the review policy shows, and when', () => {
    expect(resultsAvailable({ ...base, reviewPolicy: 'after_submit' }).paragraphs[1]).toContain(
      'shows the marks of each question',
    );
    expect(resultsAvailable({ ...base, reviewPolicy: 'after_close' }).paragraphs[1]).toContain(
      'once the quiz closes',
    );
    expect(resultsAvailable({ ...base, reviewPolicy: 'never' }).paragraphs).toHaveLength(1);
    expect(
      resultsAvailable({ ...base, status: 'expired', reviewPolicy: 'never' }).paragraphs[0],
    ).toContain('ended when its time ran out');
  });
});

describe('submissionJudged', () => {
  const base = {
    submissionId: 's1',
    challengeId: 'c1',
    challengeTitle: 'Shout',
    language: 'python',
    score: 20,
    maxScore: 60,
  };

  it('gives the verdict and the score, and links the submission', () => {
    const content = submissionJudged({ ...base, verdict: 'wrong_answer' });
    expect(content.title).toBe('Wrong answer: Shout');
    expect(content.paragraphs).toEqual([
      'Your python submission to Shout has been judged: Wrong answer, 20 of 60 points.',
    ]);
    expect(content.link).toBe('/api/v1/submissions/s1');
    expect(content.data).toEqual({
      submissionId: 's1',
      challengeId: 'c1',
      verdict: 'wrong_answer',
      score: 20,
      maxScore: 60,
    });
  });

  it('asks for a resubmission when judging failed on our side, and copes with a gone challenge', () => {
    const content = submissionJudged({
      ...base,
      challengeTitle: null,
      verdict: 'internal_error',
      score: 0,
    });
    expect(content.title).toBe('Could not be judged: a challenge');
    expect(content.paragraphs[0]).toContain('submit it again');
  });

  it('labels every verdict in words', () => {
    expect(verdictLabel('compilation_error')).toBe('Compilation error');
    expect(verdictLabel('something_new')).toBe('something new');
  });
});

describe('mailOf', () => {
  it('greets its one recipient and escapes what it interpolates in the HTML', () => {
    const mail = mailOf(
      {
        title: 'New quiz: <b>Loops</b> & more',
        body: joinParagraphs(['First.', 'Second.']),
        link: '/api/v1/quizzes/q1',
      },
      { name: 'Ada <script>' },
    );
    expect(mail.subject).toBe('New quiz: <b>Loops</b> & more');
    expect(mail.text).toContain(
      'Hello Ada <script>,\n\nFirst.\n\nSecond.\n\nDetails: /api/v1/quizzes/q1',
    );
    expect(mail.html).toContain('New quiz: &lt;b&gt;Loops&lt;/b&gt; &amp; more');
    expect(mail.html).toContain('Hello Ada &lt;script&gt;,');
    expect(mail.html).not.toContain('<script>');
  });
});
