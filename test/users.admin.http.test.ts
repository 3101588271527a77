import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, login, STRONG_PASSWORD, signedIn, type Tokens } from './support/auth.ts';

describe('users API and audit log (admin)', () => {
  let t: TestApp;
  let admin: Tokens;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await signedIn(t, 'admin', 'root@example.com');
  });
  afterAll(async () => {
    await t.close();
  });

  const as = (tokens: Tokens) => ({ headers: bearer(tokens) });

  it('creates, lists with filters and pages, and gets users', async () => {
    for (let index = 0; index < 5; index++) {
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/users',
        ...as(admin),
        payload: {
          name: `Pupil ${index}`,
          email: `pupil${index}@school.example`,
          password: STRONG_PASSWORD,
          role: 'student',
        },
      });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({
        email: `pupil${index}@school.example`,
        role: 'student',
        status: 'active',
      });
      expect(created.json().passwordHash).toBeUndefined();
      t.clock.advance(1_000);
    }
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      ...as(admin),
      payload: {
        name: 'Teach',
        email: 'teach@school.example',
        password: STRONG_PASSWORD,
        role: 'instructor',
      },
    });

    const students = await t.app.inject({
      method: 'GET',
      url: '/api/v1/users?role=student&limit=2',
      ...as(admin),
    });
    expect(students.statusCode).toBe(200);
    const page1 = students.json();
    expect(page1.items).toHaveLength(2);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const seen = new Set(page1.items.map((user: { id: string }) => user.id));
    let cursor: string | null = page1.nextCursor;
    while (cursor) {
      const next = (
        await t.app.inject({
          method: 'GET',
          url: `/api/v1/users?role=student&limit=2&cursor=${cursor}`,
          ...as(admin),
        })
      ).json();
      for (const user of next.items) {
        expect(seen.has(user.id)).toBe(false);
        seen.add(user.id);
      }
      cursor = next.nextCursor;
    }
    expect(seen.size).toBe(5);

    const search = (
      await t.app.inject({ method: 'GET', url: '/api/v1/users?q=TEACH', ...as(admin) })
    ).json();
    expect(search.items.map((user: { email: string }) => user.email)).toEqual([
      'teach@school.example',
    ]);
    const one = await t.app.inject({
      method: 'GET',
      url: `/api/v1/users/${search.items[0].id}`,
      ...as(admin),
    });
    expect(one.json()).toMatchObject({ role: 'instructor' });
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/users/nope', ...as(admin) })).statusCode,
    ).toBe(404);
    expect(
      (
        await t.app.inject({ method: 'GET', url: '/api/v1/users?cursor=garbage', ...as(admin) })
      ).json().code,
    ).toBe('INVALID_CURSOR');
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/users?limit=1000', ...as(admin) }))
        .statusCode,
    ).toBe(400);
  });

  it('refuses duplicate emails, weak passwords and unknown fields', async () => {
    const payload = {
      name: 'Dup',
      email: 'pupil0@school.example',
      password: STRONG_PASSWORD,
      role: 'student',
    };
    const duplicate = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      ...as(admin),
      payload,
    });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json().code).toBe('EMAIL_TAKEN');
    const weak = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      ...as(admin),
      payload: { ...payload, email: 'new@school.example', password: 'password1' },
    });
    expect(weak.statusCode).toBe(400);
    const extra = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      ...as(admin),
      payload: { ...payload, email: 'x@school.example', credits: 1e9 },
    });
    expect(extra.statusCode).toBe(400);
  });

  it('applies a role change to the user’s existing tokens at once', async () => {
    const user = await signedIn(t, 'student', 'promote@school.example');
    const changed = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.user.id}`,
      ...as(admin),
      payload: { role: 'instructor' },
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json().role).toBe('instructor');
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(user) }))
        .statusCode,
    ).toBe(401);
    const fresh = await login(t, 'promote@school.example');
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(fresh) })).json()
        .role,
    ).toBe('instructor');
  });

  it('disabled users cannot sign in or refresh, and their tokens stop working; enabling brings them back', async () => {
    const user = await signedIn(t, 'student', 'naughty@school.example');
    const otherDevice = await login(t, 'naughty@school.example');
    const disabled = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.user.id}`,
      ...as(admin),
      payload: { disabled: true },
    });
    expect(disabled.json()).toMatchObject({ disabled: true, status: 'disabled' });
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(user) }))
        .statusCode,
    ).toBe(401);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          payload: { refreshToken: user.refreshToken },
        })
      ).statusCode,
    ).toBe(401);
    const signIn = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'naughty@school.example', password: STRONG_PASSWORD },
    });
    expect(signIn.statusCode).toBe(403);
    expect(signIn.json().code).toBe('ACCOUNT_DISABLED');
    await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.user.id}`,
      ...as(admin),
      payload: { disabled: false },
    });
    // A sign-in from before the ban, never presented while disabled, stays ended.
    const untouched = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: otherDevice.refreshToken },
    });
    expect(untouched.statusCode).toBe(401);
    expect((await login(t, 'naughty@school.example')).user.email).toBe('naughty@school.example');
  });

  it('soft-deletes users: gone from lists, no sign-in, tokens dead', async () => {
    const user = await signedIn(t, 'student', 'leaver@school.example');
    const deleted = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/users/${user.user.id}`,
      ...as(admin),
    });
    expect(deleted.statusCode).toBe(204);
    expect(
      (await t.app.inject({ method: 'GET', url: `/api/v1/users/${user.user.id}`, ...as(admin) }))
        .statusCode,
    ).toBe(404);
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(user) }))
        .statusCode,
    ).toBe(401);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          payload: { refreshToken: user.refreshToken },
        })
      ).statusCode,
    ).toBe(401);
    const list = (
      await t.app.inject({ method: 'GET', url: '/api/v1/users?q=leaver', ...as(admin) })
    ).json();
    expect(list.items).toEqual([]);
  });

  it('keeps admins from demoting, disabling or deleting themselves', async () => {
    const demote = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${admin.user.id}`,
      ...as(admin),
      payload: { role: 'student' },
    });
    expect(demote.statusCode).toBe(409);
    const remove = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/users/${admin.user.id}`,
      ...as(admin),
    });
    expect(remove.statusCode).toBe(409);
  });

  it('records auth events and staff writes in the audit log, filterable and paged', async () => {
    t.clock.advance(1_000);
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'root@example.com', password: 'definitely wrong' },
    });
    const all = (
      await t.app.inject({ method: 'GET', url: '/api/v1/admin/audit-log?limit=100', ...as(admin) })
    ).json();
    const actions = new Set(all.items.map((entry: { action: string }) => entry.action));
    for (const action of [
      'auth.login',
      'auth.login_failed',
      'users.created',
      'users.role_changed',
      'users.disabled',
      'users.deleted',
    ]) {
      expect(actions.has(action), action).toBe(true);
    }
    const failed = (
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/admin/audit-log?action=auth.login_failed',
        ...as(admin),
      })
    ).json();
    expect(
      failed.items.every((entry: { action: string }) => entry.action === 'auth.login_failed'),
    ).toBe(true);
    expect(failed.items[0]).toMatchObject({
      ip: '127.0.0.1',
      requestId: expect.any(String),
      details: { email: 'root@example.com' },
    });
    const byActor = (
      await t.app.inject({
        method: 'GET',
        url: `/api/v1/admin/audit-log?actor=${admin.user.id}&action=users.created`,
        ...as(admin),
      })
    ).json();
    expect(byActor.items.length).toBeGreaterThanOrEqual(6);
    const from = new Date(t.clock.now().getTime() + 3600_000).toISOString();
    const future = (
      await t.app.inject({
        method: 'GET',
        url: `/api/v1/admin/audit-log?from=${encodeURIComponent(from)}`,
        ...as(admin),
      })
    ).json();
    expect(future.items).toEqual([]);
    const page = (
      await t.app.inject({ method: 'GET', url: '/api/v1/admin/audit-log?limit=3', ...as(admin) })
    ).json();
    const next = (
      await t.app.inject({
        method: 'GET',
        url: `/api/v1/admin/audit-log?limit=3&cursor=${page.nextCursor}`,
        ...as(admin),
      })
    ).json();
    expect(next.items[0].id).not.toBe(page.items[0].id);
    expect(JSON.stringify(all)).not.toContain(STRONG_PASSWORD);
  });
});
