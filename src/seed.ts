import type { Deps } from './deps.ts';
import type { Role } from './modules/users/users.models.ts';

/**
 * Demo accounts for trying Assay locally. Passwords are printed, never used in production:
 * the admin's comes from ADMIN_PASSWORD when set.
 */
const DEMO_ACCOUNTS: ReadonlyArray<{ email: string; name: string; role: Role }> = [
  { email: 'admin@assay.local', name: 'Ada Admin', role: 'admin' },
  { email: 'instructor@assay.local', name: 'Ian Instructor', role: 'instructor' },
  { email: 'student1@assay.local', name: 'Sam Student', role: 'student' },
  { email: 'student2@assay.local', name: 'Sasha Student', role: 'student' },
  { email: 'student3@assay.local', name: 'Sol Student', role: 'student' },
];

export const DEMO_PASSWORD = 'assay-demo-password';

export async function seedDemoData(deps: Deps) {
  const results: Array<{ email: string; role: Role; password: string; created: boolean }> = [];
  for (const account of DEMO_ACCOUNTS) {
    const existing = await deps.users.findByEmail(account.email);
    if (!existing) await deps.users.createActive({ ...account, password: DEMO_PASSWORD });
    results.push({
      email: account.email,
      role: account.role,
      password: DEMO_PASSWORD,
      created: !existing,
    });
  }
  return results;
}
