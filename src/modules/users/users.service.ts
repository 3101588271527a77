import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../platform/clock/clock.ts';
import { hashPassword, verifyPassword } from '../../platform/crypto/password.ts';
import { isAppError } from '../../platform/errors/errors.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import type { Logger } from '../../platform/logger/logger.ts';
import { cannotChangeSelf, userNotFound } from './users.errors.ts';
import { normalizeEmail, type Role } from './users.models.ts';
import type { UserStanding, UsersRepository } from './users.repository.ts';
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

/** What a request needs to know about its caller; cached, dropped on every change. */
export type AuthState = {
  userId: string;
  email: string;
  name: string;
  role: Role;
  tokenVersion: number;
  active: boolean;
  status: UserRow['status'];
  deleted: boolean;
};

/** An account's standing with its password hash, for checking a password; never cached. */
export type Credentials = AuthState & { passwordHash: string };

export type UserChange = {
  userId: string;
  action: 'created' | 'updated' | 'role_changed' | 'disabled' | 'enabled' | 'deleted';
};

/**
 * Every change drops the entry here at once and, through `users.changed`, in every other
 * process; the expiry only bounds how long a lost invalidation (a Redis outage) can last.
 */
const AUTH_STATE_TTL_MS = 30_000;
const cursorSchema = z.object({ createdAt: z.iso.datetime(), id: z.string() });

export function createUsersService(deps: {
  repository: UsersRepository;
  logger: Logger;
  clock?: Clock;
  /** Told after every change, e.g. to tell other processes to drop their cached auth state. */
  onChange?: (change: UserChange) => void | Promise<void>;
}) {
  const cache = new Map<string, { state: AuthState | undefined; until: number }>();
  /** Bumped on every change, so a read that raced a change never caches what it saw. */
  const generations = new Map<string, number>();
  const clock = deps.clock ?? { now: () => new Date() };
  const now = () => clock.now();

  const forget = (userId: string) => {
    cache.delete(userId);
    generations.set(userId, (generations.get(userId) ?? 0) + 1);
  };

  const changed = async (change: UserChange) => {
    forget(change.userId);
    await deps.onChange?.(change);
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
        createdAt: now(),
      });
      await changed({ userId: row.id, action: 'created' });
      return toPublicUser(row);
    },

    /**
     * A self-registered student waiting for the email code. If two sign-ups race, the loser gets
     * the winner's waiting account: either way there is one.
     */
    async createPending(input: {
      email: string;
      name: string;
      passwordHash: string;
    }): Promise<Credentials> {
      const email = normalizeEmail(input.email);
      try {
        const row = await deps.repository.insert({
          id: randomUUID(),
          email,
          name: input.name.trim(),
          role: 'student',
          passwordHash: input.passwordHash,
          status: 'pending',
          createdAt: now(),
        });
        await changed({ userId: row.id, action: 'created' });
        return credentialsOf(row);
      } catch (error) {
        const existing =
          isAppError(error) && error.code === 'EMAIL_TAKEN'
            ? await deps.repository.findLiveByEmail(email)
            : undefined;
        if (existing) return credentialsOf(existing);
        throw error;
      }
    },

    /** Activates a waiting account with the password and name its verified code carried. */
    async activatePending(
      userId: string,
      changes: { passwordHash?: string; name?: string },
    ): Promise<boolean> {
      const row = await deps.repository.update(
        userId,
        { ...changes, status: 'active' },
        { revokeTokens: false, onlyIfStatus: 'pending' },
      );
      if (!row) return false;
      await changed({ userId, action: 'enabled' });
      return true;
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
      await changed({ userId: existing.id, action: 'role_changed' });
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
    async credentialsByEmail(email: string): Promise<Credentials | undefined> {
      const row = await deps.repository.findLiveByEmail(normalizeEmail(email));
      return row ? credentialsOf(row) : undefined;
    },

    /** The live account's credentials as stored now (a password check must not use a cache). */
    async credentialsById(userId: string): Promise<Credentials | undefined> {
      const row = await deps.repository.findById(userId);
      return row && !row.deletedAt ? credentialsOf(row) : undefined;
    },

    /** The most recently deleted account with this email, so its owner hears why sign-in fails. */
    async deletedCredentialsByEmail(email: string): Promise<Credentials | undefined> {
      const row = await deps.repository.findLatestDeletedByEmail(normalizeEmail(email));
      return row ? credentialsOf(row) : undefined;
    },

    async get(id: string): Promise<PublicUser> {
      const row = await deps.repository.findById(id);
      if (!row || row.deletedAt) throw userNotFound();
      return toPublicUser(row);
    },

    /** The caller's current standing, from a cache that every change clears. */
    async authState(userId: string): Promise<AuthState | undefined> {
      const hit = cache.get(userId);
      if (hit && hit.until > now().getTime()) return hit.state;
      const generation = generations.get(userId) ?? 0;
      const row = await deps.repository.standingById(userId);
      const state = row && !row.deletedAt ? authStateOf(row) : undefined;
      if ((generations.get(userId) ?? 0) === generation) {
        cache.set(userId, { state, until: now().getTime() + AUTH_STATE_TTL_MS });
      }
      if (cache.size > 50_000) cache.clear();
      return state;
    },

    /**
     * Display name, role and whether the account is live and active, for these users (from the
     * database, not the cache). Never the email: this feeds what other users see.
     */
    async publicStandings(
      ids: readonly string[],
    ): Promise<Map<string, { name: string; role: Role; active: boolean }>> {
      const rows = await deps.repository.standingsByIds([...new Set(ids)]);
      return new Map(
        rows.map((row) => [
          row.id,
          { name: row.name, role: row.role, active: authStateOf(row).active },
        ]),
      );
    },

    /** Drops a cached auth state (another process changed the user). */
    forget(userId: string) {
      forget(userId);
    },

    /** Live accounts by role, every role present (analytics). */
    async countByRole(): Promise<Record<Role, number>> {
      const counts: Record<Role, number> = { admin: 0, instructor: 0, student: 0 };
      for (const row of await deps.repository.countByRole()) counts[row.role] = row.count;
      return counts;
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
      await changed({ userId: row.id, action });
      return { user: toPublicUser(row), before: toPublicUser(current) };
    },

    /** Takes the new hash (callers hash, so the policy check and the hashing stay in auth). */
    async setPassword(userId: string, passwordHash: string): Promise<void> {
      const row = await deps.repository.update(userId, { passwordHash });
      if (!row) throw userNotFound();
      await changed({ userId, action: 'updated' });
    },

    /** Ends every access token of the user at once. */
    async revokeAccessTokens(userId: string): Promise<void> {
      await deps.repository.update(userId, {});
      await changed({ userId, action: 'updated' });
    },

    /** `byAdminId` is set for admin deletions (an admin cannot delete their own account that way). */
    async softDelete(input: { userId: string; byAdminId?: string }): Promise<PublicUser> {
      if (input.byAdminId === input.userId)
        throw cannotChangeSelf('Ask another admin to delete your account.');
      const row = await deps.repository.softDelete(input.userId);
      if (!row) throw userNotFound();
      await changed({ userId: row.id, action: 'deleted' });
      return toPublicUser(row);
    },
  };
  return service;
}

function authStateOf(row: UserStanding): AuthState {
  return {
    userId: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    tokenVersion: row.tokenVersion,
    active: row.status === 'active' && row.deletedAt === null,
    status: row.status,
    deleted: row.deletedAt !== null,
  };
}

const credentialsOf = (row: UserRow): Credentials => ({
  ...authStateOf(row),
  passwordHash: row.passwordHash,
});

export type UsersService = ReturnType<typeof createUsersService>;
