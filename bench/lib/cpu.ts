import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * CPU seconds a process has used so far, from /proc/<pid>/stat: its own user+system time plus
 * that of children it has waited for (the sandbox probe's bwrap runs, for Assay).
 */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may contain spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14-17 of stat(5) (utime, stime, cutime, cstime) are 11-14 here.
  const ticks = [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0);
  return ticks / ticksPerSecond();
}

export type SystemCpu = { busySeconds: number; stealSeconds: number };

/**
 * Machine-wide CPU from the first line of /proc/stat: busy (user, nice, system, irq, softirq)
 * and steal (taken by the hypervisor), in CPU-seconds since boot.
 */
export function systemCpu(): SystemCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  const busy = [user, nice, system, irq, softirq].reduce<number>(
    (sum, value) => sum + (value ?? 0),
    0,
  );
  return { busySeconds: busy / ticksPerSecond(), stealSeconds: (steal ?? 0) / ticksPerSecond() };
}
