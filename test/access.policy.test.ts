import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/modules/users/users.models.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, signedIn } from './support/auth.ts';

/**
 * Who may call each route. Every route of the OpenAPI document must be listed here, so a new
 * route without a decided policy fails this suite.
 */
const POLICY: Record<string, 'public' | 'authenticated' | readonly Role[]> = {
  'GET /health': 'public',
  'GET /api/v1/auth/csrf': 'public',
  'POST /api/v1/auth/register': 'public',
  'POST /api/v1/auth/verify-otp': 'public',
  'POST /api/v1/auth/resend-otp': 'public',
  'POST /api/v1/auth/login': 'public',
  'POST /api/v1/auth/token': 'public',
  'POST /api/v1/auth/refresh': 'public',
  'POST /api/v1/auth/logout': 'public',
  'GET /api/v1/auth/me': 'authenticated',
  'DELETE /api/v1/auth/me': 'authenticated',
  'POST /api/v1/auth/change-password': 'authenticated',
  'POST /api/v1/auth/forgot-password': 'public',
  'POST /api/v1/auth/reset-password': 'public',
  'POST /api/v1/auth/sse-ticket': 'authenticated',
  'GET /api/v1/users': ['admin'],
  'POST /api/v1/users': ['admin'],
  'GET /api/v1/users/{id}': ['admin'],
  'PATCH /api/v1/users/{id}': ['admin'],
  'DELETE /api/v1/users/{id}': ['admin'],
  'GET /api/v1/admin/audit-log': ['admin'],
  'GET /api/v1/questions/random': 'authenticated',
  'GET /api/v1/questions': ['admin', 'instructor'],
  'POST /api/v1/questions/import': ['admin', 'instructor'],
  'GET /api/v1/questions/export': ['admin', 'instructor'],
  'POST /api/v1/questions': ['admin', 'instructor'],
  'GET /api/v1/questions/{id}': ['admin', 'instructor'],
  'PUT /api/v1/questions/{id}': ['admin', 'instructor'],
  'DELETE /api/v1/questions/{id}': ['admin', 'instructor'],
  'POST /api/v1/quizzes': ['admin', 'instructor'],
  'GET /api/v1/quizzes': 'authenticated',
  'GET /api/v1/quizzes/{id}': 'authenticated',
  'PATCH /api/v1/quizzes/{id}': ['admin', 'instructor'],
  'POST /api/v1/quizzes/{id}/publish': ['admin', 'instructor'],
  'DELETE /api/v1/quizzes/{id}': ['admin', 'instructor'],
  'POST /api/v1/quizzes/{id}/submit': 'authenticated',
  'POST /api/v1/attempts/quizzes/{quizId}/start': 'authenticated',
  'GET /api/v1/attempts': ['admin', 'instructor'],
  'GET /api/v1/attempts/{id}': 'authenticated',
  'POST /api/v1/attempts/{id}/answers': 'authenticated',
  'POST /api/v1/attempts/{id}/submit': 'authenticated',
  'POST /api/v1/attempts/{id}/events': 'authenticated',
  'GET /api/v1/results/attempts/{attemptId}': 'authenticated',
  'GET /api/v1/results/my-results': 'authenticated',
  'GET /api/v1/attendance': ['admin', 'instructor'],
  'POST /api/v1/attendance': ['admin', 'instructor'],
  'GET /api/v1/attendance/{id}': ['admin', 'instructor'],
  'PUT /api/v1/attendance/{id}': ['admin', 'instructor'],
  'DELETE /api/v1/attendance/{id}': ['admin', 'instructor'],
  'GET /api/v1/challenges': 'authenticated',
  'POST /api/v1/challenges': ['admin', 'instructor'],
  'GET /api/v1/challenges/{id}': 'authenticated',
  'PUT /api/v1/challenges/{id}': ['admin', 'instructor'],
  'DELETE /api/v1/challenges/{id}': ['admin', 'instructor'],
  'POST /api/v1/challenges/{id}/testcases': ['admin', 'instructor'],
  'GET /api/v1/languages': 'public',
  'POST /api/v1/runs': 'authenticated',
  'POST /api/v1/submissions': 'authenticated',
  'GET /api/v1/submissions': 'authenticated',
  'GET /api/v1/submissions/{id}': 'authenticated',
  'GET /api/v1/submissions/{id}/events': 'authenticated',
  // Boards: anyone signed in; a hidden quiz board is 403 LEADERBOARD_HIDDEN to students.
  'GET /api/v1/leaderboard/quizzes/{id}': 'authenticated',
  'GET /api/v1/leaderboard/quizzes/{id}/stream': 'authenticated',
  'GET /api/v1/leaderboard/challenges/{id}': 'authenticated',
  'GET /api/v1/leaderboard/global': 'authenticated',
  'GET /api/v1/analytics/challenges/{id}': ['admin', 'instructor'],
  'GET /api/v1/challenges/{id}/plagiarism': ['admin', 'instructor'],
  'POST /api/v1/challenges/{id}/plagiarism': ['admin', 'instructor'],
  'GET /api/v1/analytics/quizzes/{id}': ['admin', 'instructor'],
  // Self or staff: another user's analytics are 404 to a student (USER_NOT_FOUND, not denied).
  'GET /api/v1/analytics/users/{id}': 'authenticated',
  'GET /api/v1/analytics/me': 'authenticated',
  'GET /api/v1/analytics/overview': ['admin'],
  // Everyone's own inbox and preferences (another user's notification is 404).
  'GET /api/v1/notifications': 'authenticated',
  'POST /api/v1/notifications/read-all': 'authenticated',
  'POST /api/v1/notifications/{id}/read': 'authenticated',
  'GET /api/v1/notifications/preferences': 'authenticated',
  'PUT /api/v1/notifications/preferences': 'authenticated',
  // Also open to the JUDGE0_AUTH_TOKEN key (X-Auth-Token) instead of a bearer token.
  'GET /judge0/about': 'authenticated',
  'GET /judge0/config_info': 'authenticated',
  'GET /judge0/languages': 'authenticated',
  'GET /judge0/languages/{id}': 'authenticated',
  'GET /judge0/statuses': 'authenticated',
  'POST /judge0/submissions': 'authenticated',
  'POST /judge0/submissions/batch': 'authenticated',
  'GET /judge0/submissions/batch': 'authenticated',
  'GET /judge0/submissions/{token}': 'authenticated',
};

const ROLES: Role[] = ['student', 'instructor', 'admin'];
const DENIED = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);
const codeOf = (body: string) => (body ? (JSON.parse(body) as { code?: string }).code : undefined);

describe('every route has an access policy, and it holds for every role', () => {
  let t: TestApp;
  let routes: Array<{ method: string; path: string }>;
  const userIds = new Map<Role, string>();
  const tokenFor = async (role: Role) => {
    const state = await t.deps.users.authState(userIds.get(role)!);
    const signed = await t.deps.accessTokens.sign({
      userId: state!.userId,
      role,
      tokenVersion: state!.tokenVersion,
    });
    return { accessToken: signed.token };
  };
  beforeAll(async () => {
    t = await createTestApp();
    for (const role of ROLES) userIds.set(role, (await signedIn(t, role)).user.id);
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    routes = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => ({ method: method.toUpperCase(), path })),
    );
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists every documented route in the policy table (and nothing that is gone)', () => {
    const documented = routes.map((route) => `${route.method} ${route.path}`).sort();
    expect(documented).toEqual(Object.keys(POLICY).sort());
  });

  it('allows and denies as the policy says, with no token and with each role', async () => {
    const outcomes: string[] = [];
    for (const { method, path } of routes) {
      const policy = POLICY[`${method} ${path}`];
      const url = path.replace(/\{[^}]+\}/g, 'no-such-id');
      const send = (headers: Record<string, string>) =>
        t.app.inject({
          method: method as 'GET',
          url,
          headers,
          ...(method === 'GET' ? {} : { payload: {} }),
        });

      const anonymous = await send({});
      const anonymousCode = codeOf(anonymous.body);
      if (policy === 'public') {
        expect(DENIED.has(anonymousCode ?? ''), `${method} ${path} anonymous`).toBe(false);
      } else {
        expect(anonymous.statusCode, `${method} ${path} anonymous`).toBe(401);
        expect(anonymousCode).toBe('UNAUTHENTICATED');
      }
      for (const role of ROLES) {
        // A fresh token each time: some calls (logout) end the one they use.
        const response = await send(bearer(await tokenFor(role)));
        const code = codeOf(response.body);
        const allowed = policy === 'public' || policy === 'authenticated' || policy?.includes(role);
        outcomes.push(`${method} ${path} ${role} ${response.statusCode}`);
        if (allowed) {
          expect(DENIED.has(code ?? ''), `${method} ${path} as ${role}: ${response.body}`).toBe(
            false,
          );
        } else {
          expect(response.statusCode, `${method} ${path} as ${role}`).toBe(403);
          expect(code).toBe('FORBIDDEN');
        }
      }
    }
    expect(outcomes.length).toBe(routes.length * ROLES.length);
  }, 120_000);
});

describe('a route without an access policy', () => {
  it('refuses to register, so the app does not start', async () => {
    await expect(
      createTestApp({
        beforeReady: (app) =>
          app.register(async (scope) => {
            scope.get('/api/v1/forgotten', async () => ({ open: true }));
          }),
      }),
    ).rejects.toThrow(/GET \/api\/v1\/forgotten declares no access policy/);
  });
});
