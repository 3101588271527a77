import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export type ChildMessage = { event: string } & Record<string, unknown>;

/** Runs a TypeScript helper in its own process and reads JSON lines from its stdout. */
export function spawnTsChild(script: string, args: unknown) {
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const messages: ChildMessage[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      messages.push(JSON.parse(line) as ChildMessage);
    } catch {
      // not one of ours
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    process: child,
    exited,
    messages,
    async next(event: string, timeoutMs = 20_000): Promise<ChildMessage> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find((message) => message.event === event);
        if (found) return found;
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(
            `child never said "${event}" (exit ${child.exitCode}); stderr: ${stderr}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
  };
}
