import { Unzip, UnzipInflate } from 'fflate';
import { type FieldError, isAppError, validationFailed } from '../../platform/errors/errors.ts';
import { archiveInvalid, archiveTooLarge } from './challenges.errors.ts';

const MiB = 1024 * 1024;

export type ArchiveLimits = {
  maxEntries: number;
  /** Bytes one entry may unpack to. */
  maxEntryBytes: number;
  /** Bytes all entries together may unpack to. */
  maxTotalBytes: number;
};

/** API.md's caps: 1,000 entries, 200 MiB unpacked (20 MiB packed is the upload's limit). */
export const ARCHIVE_LIMITS: ArchiveLimits = {
  maxEntries: 1_000,
  maxEntryBytes: 64 * MiB,
  maxTotalBytes: 200 * MiB,
};

/** `<digits>.in` or `<digits>.out` at the top level: no folders, so no path can leave. */
const ENTRY = /^(\d{1,6})\.(in|out)$/;

/**
 * Input is fed this many bytes at a time: one push can inflate to ~1,000 times its size, so
 * this bounds how far past a cap an archive gets before it is stopped.
 */
const PUSH_BYTES = 16 * 1024;

export type ArchiveTest = { number: number; input: Buffer; expectedOutput: Buffer };

/**
 * Reads a zip of `N.in`/`N.out` pairs into tests ordered by N. Sizes are counted as bytes
 * come out of the decompressor, never taken from the archive's headers (which a zip bomb
 * fills with lies); the first cap crossed stops the work. Every bad name and every unpaired
 * file is reported by name.
 */
export function readTestArchive(zip: Uint8Array, limits: ArchiveLimits = ARCHIVE_LIMITS) {
  const contents = new Map<string, Buffer>();
  const unfinished = new Set<string>();
  const problems: FieldError[] = [];
  /** Canonical name (`3.in`) → the name as the archive spells it (`003.in`). */
  const seen = new Map<string, string>();
  let entries = 0;
  let total = 0;
  // fflate catches what a data handler throws and hands it back as an error: keep the cause.
  let stopped: Error | undefined;
  const stop = (error: Error): never => {
    stopped = error;
    throw error;
  };

  const unzip = new Unzip((file) => {
    entries += 1;
    if (entries > limits.maxEntries)
      stop(archiveTooLarge(`The archive holds more than ${limits.maxEntries} entries.`));
    const name = file.name;
    const match = ENTRY.exec(name);
    if (!match) {
      problems.push({
        path: 'body.file',
        message: `"${name}" is not a top-level <digits>.in or <digits>.out file`,
      });
      return;
    }
    const canonical = `${Number(match[1])}.${match[2]}`;
    if (seen.has(canonical)) {
      problems.push({ path: 'body.file', message: `"${name}" repeats test ${canonical}` });
      return;
    }
    seen.set(canonical, name);
    const chunks: Uint8Array[] = [];
    let size = 0;
    unfinished.add(canonical);
    file.ondata = (error, chunk, final) => {
      if (error) throw stopped ?? archiveInvalid(`"${name}" cannot be unpacked: ${error.message}`);
      size += chunk.length;
      total += chunk.length;
      if (size > limits.maxEntryBytes)
        stop(archiveTooLarge(`"${name}" unpacks to more than ${limits.maxEntryBytes} bytes.`));
      if (total > limits.maxTotalBytes)
        stop(archiveTooLarge(`The archive unpacks to more than ${limits.maxTotalBytes} bytes.`));
      chunks.push(chunk);
      if (final) {
        unfinished.delete(canonical);
        contents.set(canonical, Buffer.concat(chunks));
      }
    };
    file.start();
  });
  unzip.register(UnzipInflate);

  try {
    for (let offset = 0; offset < zip.length; offset += PUSH_BYTES) {
      unzip.push(zip.subarray(offset, offset + PUSH_BYTES), offset + PUSH_BYTES >= zip.length);
    }
  } catch (error) {
    if (stopped) throw stopped;
    if (isAppError(error)) throw error;
    throw archiveInvalid(`not a readable zip archive (${(error as Error).message})`);
  }
  if (entries === 0) throw archiveInvalid('not a zip archive, or an empty one');
  for (const canonical of unfinished)
    problems.push({ path: 'body.file', message: `"${seen.get(canonical)}" is cut short` });

  const numbers = new Set([...seen.keys()].map((name) => Number(name.split('.')[0])));
  for (const number of numbers) {
    const input = seen.get(`${number}.in`);
    const output = seen.get(`${number}.out`);
    if (!input)
      problems.push({ path: 'body.file', message: `"${output}" has no matching .in file` });
    if (!output)
      problems.push({ path: 'body.file', message: `"${input}" has no matching .out file` });
  }
  if (problems.length > 0) throw validationFailed(problems, 'The test archive cannot be used.');

  return [...numbers]
    .sort((a, b) => a - b)
    .map(
      (number): ArchiveTest => ({
        number,
        input: contents.get(`${number}.in`)!,
        expectedOutput: contents.get(`${number}.out`)!,
      }),
    );
}
