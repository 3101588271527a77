import { createErrorFactory } from '../../platform/errors/errors.ts';

export const emailTaken = createErrorFactory({
  code: 'EMAIL_TAKEN',
  status: 409,
  title: 'An account with this email already exists',
});

export const userNotFound = createErrorFactory({
  code: 'USER_NOT_FOUND',
  status: 404,
  title: 'User not found',
});

export const cannotChangeSelf = createErrorFactory({
  code: 'CANNOT_CHANGE_OWN_ACCOUNT',
  status: 409,
  title: 'Admins cannot demote, disable or delete their own account',
});
