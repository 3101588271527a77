import { randomUUID } from 'node:crypto';
import { hashPassword, verifyPassword } from '../../platform/crypto/password.ts';
import type { Logger } from '../../platform/logger/logger.ts';
import { normalizeEmail, type Role } from './users.models.ts';
import type { UsersRepository } from './users.repository.ts';
import type { UserRow } from './users.tables.ts';

export type PublicUser = Pick<UserRow, 'id' | 'email' | 'name' | 'role' | 'status' | 'createdAt'>;

const toPublic = (row: UserRow): PublicUser => ({
  id: row.id,
  email: row.email,
  name: row.name,
  role: row.role,
  status: row.status,
  createdAt: row.createdAt,
});

export function createUsersService(deps: { repository: UsersRepository; logger: Logger }) {
  return {
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
      return toPublic(row);
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
        const user = await this.createActive({
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
        return { user: toPublic(existing), created: false };
      }
      const updated = await deps.repository.update(existing.id, {
        role: 'admin',
        status: 'active',
        ...(passwordMatches ? {} : { passwordHash: await hashPassword(input.password) }),
      });
      deps.logger.info(
        { userId: existing.id },
        'admin account from ADMIN_EMAIL brought up to date',
      );
      return { user: toPublic(updated ?? existing), created: false };
    },

    async findByEmail(email: string): Promise<PublicUser | undefined> {
      const row = await deps.repository.findLiveByEmail(normalizeEmail(email));
      return row ? toPublic(row) : undefined;
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
