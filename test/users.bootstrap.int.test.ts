import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createUsersRepository } from '../src/modules/users/users.repository.ts';
import { createUsersService } from '../src/modules/users/users.service.ts';
import { verifyPassword } from '../src/platform/crypto/password.ts';
import { createLogger } from '../src/platform/logger/logger.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.ts';

describe.each(databaseKinds())('admin bootstrap on %s', (kind) => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await createTestDatabase(kind);
  });
  afterEach(async () => {
    await database.destroy();
  });

  const service = () =>
    createUsersService({
      repository: createUsersRepository(database.db),
      logger: createLogger({ level: 'silent' }),
    });
  const repository = () => createUsersRepository(database.db);

  it('creates the configured admin once, active, with a hashed password', async () => {
    const users = service();
    const first = await users.ensureAdmin({
      email: 'Root@Example.com',
      password: 'correct horse battery',
    });
    const second = await users.ensureAdmin({
      email: 'root@example.com',
      password: 'correct horse battery',
    });
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.user.id).toBe(first.user.id);
    const row = await repository().findLiveByEmail('root@example.com');
    expect(row).toMatchObject({ role: 'admin', status: 'active', email: 'root@example.com' });
    expect(row?.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await repository().count()).toBe(1);
  });

  it('promotes an existing account and applies the configured password', async () => {
    const users = service();
    await users.createActive({
      email: 'ops@example.com',
      name: 'Ops',
      role: 'student',
      password: 'old password 1',
    });
    const before = await repository().findLiveByEmail('ops@example.com');
    await users.ensureAdmin({ email: 'ops@example.com', password: 'new password 2' });
    const after = await repository().findLiveByEmail('ops@example.com');
    expect(after?.role).toBe('admin');
    expect(await verifyPassword(after!.passwordHash, 'new password 2')).toBe(true);
    // Existing tokens of that account stop matching (the version is in every access token).
    expect(after!.tokenVersion).toBeGreaterThan(before!.tokenVersion);
  });

  it('refuses a second live account with the same email, whatever its case', async () => {
    const users = service();
    await users.createActive({
      email: 'dup@example.com',
      name: 'One',
      role: 'student',
      password: 'password one',
    });
    await expect(
      users.createActive({
        email: 'DUP@example.com',
        name: 'Two',
        role: 'student',
        password: 'password two',
      }),
    ).rejects.toMatchObject({ code: 'EMAIL_TAKEN', status: 409 });
  });
});
