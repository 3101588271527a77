import { createErrorFactory, validationFailed } from '../../platform/errors/errors.ts';

export const challengeNotFound = createErrorFactory({
  code: 'CHALLENGE_NOT_FOUND',
  status: 404,
  title: 'Challenge not found',
});

export const notChallengeOwner = createErrorFactory({
  code: 'FORBIDDEN',
  status: 403,
  title: 'Only the challenge’s author or an admin may change it',
});

/** An archive that unpacks beyond the caps (a zip bomb, or simply too much test data). */
export const archiveTooLarge = createErrorFactory({
  code: 'ARCHIVE_TOO_LARGE',
  status: 413,
  title: 'The archive is too large',
});

/** The upload is not a usable test archive; `message` says why, naming the entry. */
export const archiveInvalid = (message: string) =>
  validationFailed([{ path: 'body.file', message }], 'The test archive cannot be used.');
