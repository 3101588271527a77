/**
 * Think times of the simulated students: each waits `mean` × U(0.5, 1.5) between an answer and
 * its next save. Pure functions of a random source, so a test can check the arrival rate they
 * produce.
 */
export type Random = () => number;

export const thinkTime = (mean: number, random: Random = Math.random) => mean * (0.5 + random());

/**
 * The wait before a student's first save, such that saves arrive at their steady rate from the
 * first moment: the time left of a think time already in progress (the equilibrium residual of
 * the renewal process, density ∝ P(think > x) on [0, 1.5 × mean]). A uniform share of one mean
 * think time instead puts every first save in the first `mean` while the second saves of the
 * early ones already arrive: about 1.5× the stated rate for half a think time, a burst the
 * benchmark's figure would then be about.
 */
export function firstWait(mean: number, random: Random = Math.random): number {
  // Rejection sampling: uniform on the support, kept with probability P(think > x).
  for (;;) {
    const x = 1.5 * mean * random();
    const survives = x < 0.5 * mean ? 1 : (1.5 * mean - x) / mean;
    if (random() < survives) return x;
  }
}
