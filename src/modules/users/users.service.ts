import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../platform/clock/clock.ts';
import { hashPassword, verifyPassword } from '../../platform/crypto/password.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import type { Logger } from '../../platform/logger/logger.ts';
import { cannotChangeSelf, userNotFound } from './users.errors.ts';
import { normalizeEmail, type Role } from './users.models.ts';
import type { UsersRepository } from './users.repository.ts';
import type { UserRow } from './users.tables.ts';

export type PublicUser = {
  id: string;
  email: string;
  name: string;
  role: Role;
  status: UserRow['status'];
  disabled: boolean;
  /** ISO 8601 */
  createdAt: string;
};

export const toPublicUser = (row: UserRow): PublicUser => ({
  id: row.id,
  email: row.email,
  name: row.name,
  role: row.role,
  status: row.status,
  disabled: row.status === 'disabled',
  createdAt: row.createdAt.toISOString(),
});

/** What a request needs to know about its caller; cached briefly, dropped on every change. */
export type AuthState = {
  userId: string;
  email: string;
  name: string;
  role: Role;
  tokenVersion: number;
  active: boolean;
  status: UserRow['status'];
  deleted: boolean;
  passwordHash: string;
};

export type UserChange = {
  userId: string;
  action: 'created' | 'updated' | 'role_changed' | 'disabled' | 'enabled' | 'deleted';
};

const AUTH_STATE_TTL_MS = 2_000;
const cursorSchema = z.object({ createdAt: z.iso.datetime(), id: z.string() });

export function createUsersService(deps: {
  repository: UsersRepository;
  logger: Logger;
  clock?: Clock;
  /** Told after every change, e.g. to tell other processes to drop their cached auth state. */
  onChange?: (change: UserChange) => void;
}) {
  const cache = new Map<string, { state: AuthState | undefined; until: number }>();
  const now = () => (deps.clock ?? { now: () => new Date() }).now().getTime();

  const changed = (change: UserChange) => {
    cache.delete(change.userId);
    deps.onChange?.(change);
  };

  const service = {
    /** An account created by staff or the CLI: active at once, no email code needed. */
    async createActive(input: {
      email: string;
      name: string;
      role: Role;
      password: string;
    }): Promise<PublicUser> {
      const row = await deps.repository.insert({
        id: randomUUID(),
        email: normalizeEmail(input.email),
        name: input.name.trim(),
        role: input.role,
        passwordHash: await hashPassword(input.password),
        status: 'active',
      });
      changed({ userId: row.id, action: 'created' });
      return toPublicUser(row);
    },

    /**
     * A self-registered student waiting for the email code. Registering again before verifying
     * replaces the name and password (only the mailbox owner can ever verify it).
     */
    async upsertPending(input: {
      email: string;
      name: string;
      password: string;
    }): Promise<PublicUser> {
      const email = normalizeEmail(input.email);
      const passwordHash = await hashPassword(input.password);
      const existing = await deps.repository.findLiveByEmail(email);
      if (existing) {
        const updated = await deps.repository.update(existing.id, {
          name: input.name.trim(),
          passwordHash,
        });
        changed({ userId: existing.id, action: 'updated' });
        return toPublicUser(updated ?? existing);
      }
      const row = await deps.repository.insert({
        id: randomUUID(),
        email,
        name: input.name.trim(),
        role: 'student',
        passwordHash,
        status: 'pending',
      });
      changed({ userId: row.id, action: 'created' });
      return toPublicUser(row);
    },

    async activate(userId: string): Promise<PublicUser> {
      const row = await deps.repository.update(
        userId,
        { status: 'active' },
        { revokeTokens: false },
      );
      if (!row) throw userNotFound();
      changed({ userId, action: 'enabled' });
      return toPublicUser(row);
    },

    /**
     * Makes sure the configured admin exists and can sign in with the configured password. An
     * existing account with that email is promoted and its password reset: the operator's
     * environment is the source of truth for this one account.
     */
    async ensureAdmin(input: {
      email: string;
      password: string;
    }): Promise<{ user: PublicUser; created: boolean }> {
      const email = normalizeEmail(input.email);
      const existing = await deps.repository.findLiveByEmail(email);
      if (!existing) {
        const user = await service.createActive({
          email,
          name: 'Administrator',
          role: 'admin',
          password: input.password,
        });
        deps.logger.info({ userId: user.id }, 'admin account created from ADMIN_EMAIL');
        return { user, created: true };
      }
      const passwordMatches = await verifyPassword(existing.passwordHash, input.password);
      if (existing.role === 'admin' && existing.status === 'active' && passwordMatches) {
        return { user: toPublicUser(existing), created: false };
      }
      const updated = await deps.repository.update(existing.id, {
        role: 'admin',
        status: 'active',
        ...(passwordMatches ? {} : { passwordHash: await hashPassword(input.password) }),
      });
      changed({ userId: existing.id, action: 'role_changed' });
      deps.logger.info(
        { userId: existing.id },
        'admin account from ADMIN_EMAIL brought up to date',
      );
      return { user: toPublicUser(updated ?? existing), created: false };
    },

    async findByEmail(email: string): Promise<PublicUser | undefined> {
      const row = await deps.repository.findLiveByEmail(normalizeEmail(email));
      return row ? toPublicUser(row) : undefined;
    },

    /** The live account with this email and its password hash, for sign-in. */
    async credentialsByEmail(email: string): Promise<AuthState | undefined> {
      const row = await deps.repository.findLiveByEmail(normalizeEmail(email));
      return row ? authStateOf(row) : undefined;
    },

    /** The most recently deleted account with this email, so its owner hears why sign-in fails. */
    async deletedCredentialsByEmail(email: string): Promise<AuthState | undefined> {
      const row = await deps.repository.findLatestDeletedByEmail(normalizeEmail(email));
      return row ? authStateOf(row) : undefined;
    },

    async get(id: string): Promise<PublicUser> {
      const row = await deps.repository.findById(id);
      if (!row || row.deletedAt) throw userNotFound();
      return toPublicUser(row);
    },

    /** The caller's current standing, from a short cache that every change clears. */
    async authState(userId: string): Promise<AuthState | undefined> {
      const hit = cache.get(userId);
      if (hit && hit.until > now()) return hit.state;
      const row = await deps.repository.findById(userId);
      const state = row && !row.deletedAt ? authStateOf(row) : undefined;
      cache.set(userId, { state, until: now() + AUTH_STATE_TTL_MS });
      if (cache.size > 50_000) cache.clear();
      return state;
    },

    /** Drops a cached auth state (another process changed the user). */
    forget(userId: string) {
      cache.delete(userId);
    },

    async list(input: { role?: Role; q?: string; limit: number; cursor?: string }) {
      const after = decodeCursor(input.cursor, cursorSchema);
      const rows = await deps.repository.list(
        { ...(input.role ? { role: input.role } : {}), ...(input.q ? { q: input.q } : {}) },
        {
          limit: input.limit + 1,
          ...(after ? { after: { createdAt: new Date(after.createdAt), id: after.id } } : {}),
        },
      );
      return toPage(rows, input.limit, toPublicUser, (row) => ({
        createdAt: row.createdAt.toISOString(),
        id: row.id,
      }));
    },

    /** Admin edits. Returns what changed, for the audit log. */
    async patch(input: {
      actorId: string;
      userId: string;
      changes: { name?: string; role?: Role; disabled?: boolean };
    }): Promise<{ user: PublicUser; before: PublicUser }> {
      const current = await deps.repository.findById(input.userId);
      if (!current || current.deletedAt) throw userNotFound();
      const { name, role, disabled } = input.changes;
      if (
        input.actorId === input.userId &&
        ((role && role !== current.role) || disabled === true)
      ) {
        throw cannotChangeSelf('Ask another admin to change your own role or status.');
      }
      let status = current.status;
      if (disabled === true) status = 'disabled';
      if (disabled === false && current.status === 'disabled') status = 'active';
      const revokes = (role !== undefined && role !== current.role) || status !== current.status;
      const row = await deps.repository.update(
        input.userId,
        { ...(name !== undefined ? { name: name.trim() } : {}), ...(role ? { role } : {}), status },
        { revokeTokens: revokes },
      );
      if (!row) throw userNotFound();
      const action: UserChange['action'] =
        status === 'disabled' && current.status !== 'disabled'
          ? 'disabled'
          : role !== undefined && role !== current.role
            ? 'role_changed'
            : status !== current.status
              ? 'enabled'
              : 'updated';
      changed({ userId: row.id, action });
      return { user: toPublicUser(row), before: toPublicUser(current) };
    },

    async setPassword(userId: string, password: string): Promise<void> {
      const row = await deps.repository.update(userId, {
        passwordHash: await hashPassword(password),
      });
      if (!row) throw userNotFound();
      changed({ userId, action: 'updated' });
    },

    /** Ends every access token of the user at once. */
    async revokeAccessTokens(userId: string): Promise<void> {
      await deps.repository.update(userId, {});
      changed({ userId, action: 'updated' });
    },

    /** `byAdminId` is set for admin deletions (an admin cannot delete their own account that way). */
    async softDelete(input: { userId: string; byAdminId?: string }): Promise<PublicUser> {
      if (input.byAdminId === input.userId)
        throw cannotChangeSelf('Ask another admin to delete your account.');
      const row = await deps.repository.softDelete(input.userId);
      if (!row) throw userNotFound();
      changed({ userId: row.id, action: 'deleted' });
      return toPublicUser(row);
    },
  };
  return service;
}

function authStateOf(row: UserRow): AuthState {
  return {
    userId: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    tokenVersion: row.tokenVersion,
    active: row.status === 'active' && row.deletedAt === null,
    status: row.status,
    deleted: row.deletedAt !== null,
    passwordHash: row.passwordHash,
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
