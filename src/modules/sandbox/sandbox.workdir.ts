import { chmodSync, chownSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StepFile } from './sandbox.types.ts';

/**
 * A step's work directory on the host. The host writes into it only before the step; afterwards
 * it only opens named regular files without following links, and deletes the directory.
 */

// `$` for Java's inner classes (Main$Node.class); names are never given to a shell.
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.$-]{0,127}$/;

export function assertSafeFileName(name: string): void {
  if (!SAFE_NAME.test(name)) throw new Error(`not a plain file name: ${JSON.stringify(name)}`);
}

/**
 * Files up to this size are written with a synchronous call. Making a step's directory is a
 * handful of metadata calls and small writes into the page cache (tens of µs); done through the
 * thread pool each one is a round trip that costs far more than the work, several times per run.
 * Larger files (a big compiled binary) are written asynchronously so the event loop never waits
 * on them.
 */
const SYNC_WRITE_BYTES = 1024 * 1024;

/**
 * A fresh directory holding exactly `files`, owned by the sandbox user (0700, or 0500 for a
 * read-only run). The files stay root-owned and read-only.
 */
export async function createWorkDir(options: {
  workRoot: string;
  prefix: string;
  files: Readonly<Record<string, StepFile>>;
  uid: number;
  gid: number;
  writable: boolean;
}): Promise<string> {
  for (const name of Object.keys(options.files)) assertSafeFileName(name);
  const dir = mkdtempSync(join(options.workRoot, `${options.prefix}-`));
  try {
    await writeStepFiles(dir, options.files);
    chownSync(dir, options.uid, options.gid);
    chmodSync(dir, options.writable ? 0o700 : 0o500);
    return dir;
  } catch (error) {
    await removeWorkDir(dir);
    throw error;
  }
}

/**
 * Writes a step's files, root-owned and read-only, into its directory: only before anything of
 * a user has run in it (`wx`: an existing name is an error, never overwritten or followed).
 */
export async function writeStepFiles(
  dir: string,
  files: Readonly<Record<string, StepFile>>,
): Promise<void> {
  for (const name of Object.keys(files)) assertSafeFileName(name);
  for (const [name, file] of Object.entries(files)) {
    const write = { flag: 'wx', mode: file.executable ? 0o555 : 0o444 };
    if (Buffer.byteLength(file.content) <= SYNC_WRITE_BYTES) {
      writeFileSync(join(dir, name), file.content, write);
    } else {
      await writeFile(join(dir, name), file.content, write);
    }
  }
}

/**
 * Names in a step's directory ending in `suffix`, at most `max` (more is a refusal: a compile
 * that leaves thousands of files is not a program: null). Only names are read here: each file is then
 * opened with `readArtifact`, which refuses links and anything not a regular file.
 */
export async function listNames(
  dir: string,
  suffix: string,
  max: number,
): Promise<string[] | null> {
  const names = (await readdir(dir)).filter(
    (name) => name.endsWith(suffix) && SAFE_NAME.test(name),
  );
  return names.length > max ? null : names.sort();
}

export type ArtifactRead =
  | { ok: true; content: Buffer }
  | { ok: false; reason: 'missing' | 'not_regular' | 'too_large' };

/**
 * Reads a file the sandbox produced. `O_NOFOLLOW` refuses a planted symlink, `O_NONBLOCK` keeps a
 * planted FIFO from blocking the host, fstat refuses anything but a regular file, and no more than
 * `maxBytes + 1` bytes are ever read.
 */
export async function readArtifact(options: {
  dir: string;
  name: string;
  maxBytes: number;
}): Promise<ArtifactRead> {
  assertSafeFileName(options.name);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(
      join(options.dir, options.name),
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY,
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, reason: 'missing' };
    if (code === 'ELOOP' || code === 'ENXIO' || code === 'EISDIR') {
      return { ok: false, reason: 'not_regular' };
    }
    throw error;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { ok: false, reason: 'not_regular' };
    if (stat.size > options.maxBytes) return { ok: false, reason: 'too_large' };
    const buffer = Buffer.alloc(options.maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > options.maxBytes) return { ok: false, reason: 'too_large' };
    return { ok: true, content: buffer.subarray(0, length) };
  } finally {
    await handle.close();
  }
}

/**
 * Deletes a work directory. Only called once every process of the step is dead, so nothing can
 * swap entries during the walk; `fs.rm` unlinks symlinks instead of following them (tested with a
 * planted link to a host file).
 *
 * A run's directory (`readOnly`: bound read-only, so it holds exactly the files the host wrote)
 * is removed synchronously: a few unlinks, cheaper than `fs.rm`'s thread-pool round trips. A
 * compile's may hold anything the compiler, or a hostile program, left, in any number: it is
 * removed asynchronously so a huge tree never blocks the event loop.
 */
export async function removeWorkDir(dir: string, options: { readOnly?: boolean } = {}) {
  const how = { recursive: true, force: true, maxRetries: 2 };
  if (options.readOnly) rmSync(dir, how);
  else await rm(dir, how);
}
