import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, signedIn, type Tokens } from './support/auth.ts';
import { storedChallenge } from './support/quizzes.ts';

const fixture = (name: string) =>
  readFile(join(import.meta.dirname, 'fixtures/questions', name), 'utf8');

/** A question as staff read it, without what the server adds (ids, authorship, times). */
function comparable(question: Record<string, unknown>) {
  const { id: _id, createdBy: _by, createdAt: _at, updatedAt: _up, ...rest } = question;
  if (Array.isArray(rest.options))
    rest.options = rest.options.map(
      ({ id: _option, ...option }: Record<string, unknown>) => option,
    );
  return rest;
}

describe('question import and export over HTTP', () => {
  let t: TestApp;
  let staff: Tokens;

  beforeAll(async () => {
    t = await createTestApp();
    staff = await signedIn(t, 'instructor');
  });
  afterAll(async () => {
    await t.close();
  });

  const importDocument = (format: string, content: string, who: Tokens = staff) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/questions/import',
      headers: bearer(who),
      payload: { format, content },
    });
  const exportDocument = (query: string) =>
    t.app.inject({ url: `/api/v1/questions/export?${query}`, headers: bearer(staff) });

  it('imports a real GIFT file, reporting what it cannot take by line and name', async () => {
    const response = await importDocument('gift', await fixture('corners.gift'));
    expect(response.statusCode).toBe(200);
    const result = response.json();
    expect(result.imported).toBeGreaterThan(10);
    expect(result.ids).toHaveLength(result.imported);
    expect(result.errors.length).toBeGreaterThan(0);
    for (const error of result.errors) {
      expect(error.line).toBeGreaterThan(0);
      expect(error.message).toBeTruthy();
    }
    expect(result.errors.map((error: { type?: string }) => error.type)).toContain('matching');
    const first = await t.app.inject({
      url: `/api/v1/questions/${result.ids[0]}`,
      headers: bearer(staff),
    });
    expect(first.json()).toMatchObject({ name: 'Capital of France', type: 'single_choice' });
  });

  it('imports Moodle XML with its tags and points', async () => {
    const result = (await importDocument('moodle-xml', await fixture('corners.xml'))).json();
    expect(result.imported).toBeGreaterThan(5);
    expect(result.errors.map((error: { type?: string }) => error.type)).toEqual(
      expect.arrayContaining(['essay', 'matching']),
    );
    const broken = await importDocument('moodle-xml', '<quiz><question type="truefalse">');
    expect(broken.json()).toMatchObject({
      imported: 0,
      errors: [expect.objectContaining({ message: expect.any(String) })],
    });
  });

  it('exports to every format and imports back to equal questions', async () => {
    const bank = await t.app.inject({ url: '/api/v1/questions?limit=100', headers: bearer(staff) });
    const before = bank.json().items.map(comparable);
    expect(before.length).toBeGreaterThan(15);

    const json = await exportDocument('format=json');
    expect(json.headers['content-type']).toMatch(/application\/json/);
    expect(json.headers['content-disposition']).toMatch(/attachment; filename="questions\.json"/);
    const fresh = await createTestApp();
    try {
      const other = await signedIn(fresh, 'instructor');
      const back = await fresh.app.inject({
        method: 'POST',
        url: '/api/v1/questions/import',
        headers: bearer(other),
        payload: { format: 'json', content: json.body },
      });
      expect(back.json().errors).toEqual([]);
      const listed = await fresh.app.inject({
        url: '/api/v1/questions?limit=100',
        headers: bearer(other),
      });
      const sortKey = (question: Record<string, unknown>) => JSON.stringify(question);
      expect(listed.json().items.map(comparable).map(sortKey).sort()).toEqual(
        before.map(sortKey).sort(),
      );
    } finally {
      await fresh.close();
    }

    for (const [format, type] of [
      ['gift', /text\/plain/],
      ['moodle-xml', /application\/xml/],
    ] as const) {
      const document = await exportDocument(`format=${format}&type=single_choice`);
      expect(document.statusCode).toBe(200);
      expect(document.headers['content-type']).toMatch(type);
      const again = (await importDocument(format, document.body)).json();
      expect(again.errors).toEqual([]);
      const singles = (
        await t.app.inject({
          url: '/api/v1/questions?type=single_choice&limit=100',
          headers: bearer(staff),
        })
      ).json().items;
      expect(again.imported).toBe(singles.length / 2);
    }
  });

  it('leaves code questions out of GIFT and says so', async () => {
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/questions',
      headers: bearer(staff),
      payload: {
        type: 'code',
        prompt: 'Sum two numbers',
        challengeId: await storedChallenge(t, staff),
      },
    });
    const gift = await exportDocument('format=gift&type=code');
    expect(gift.headers['x-assay-skipped']).toBe('1');
    expect(gift.body).not.toContain('Sum two numbers');
    const json = await exportDocument('format=json&type=code');
    expect(json.body).toContain('Sum two numbers');
  });

  it('is for staff only and refuses unknown formats', async () => {
    const student = await signedIn(t, 'student');
    expect((await importDocument('gift', '::a::b{T}', student)).statusCode).toBe(403);
    expect((await importDocument('csv', 'a,b')).statusCode).toBe(400);
    expect((await exportDocument('format=docx')).statusCode).toBe(400);
  });
});
