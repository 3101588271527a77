import { createErrorFactory } from '../../platform/errors/errors.ts';

export const leaderboardHidden = createErrorFactory({
  code: 'LEADERBOARD_HIDDEN',
  status: 403,
  title: 'The leaderboard is hidden',
});
