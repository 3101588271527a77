import type { Principal } from '../../platform/http/access.ts';
import type { ChallengeRow } from './challenges.tables.ts';

/** Staff see every test, hidden ones included; students see the public ones only. */
export const isStaff = (principal: Principal) =>
  principal.role === 'admin' || principal.role === 'instructor';

/** A challenge is changed by its author or an admin. */
export const mayManage = (principal: Principal, row: ChallengeRow) =>
  principal.role === 'admin' ||
  (principal.role === 'instructor' && row.createdBy === principal.userId);
