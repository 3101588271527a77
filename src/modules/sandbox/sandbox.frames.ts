/**
 * The wire format between the host and the per-submission supervisor (supervisor/supervisor.c).
 * Pure: no I/O. The supervisor is trusted code, but the host still never buffers more than one
 * frame of a fixed maximum size: a frame it does not expect is a protocol error, not a reason to
 * allocate.
 */

/** The largest stdout or stderr chunk the supervisor sends (its read buffer). */
export const MAX_CHUNK_BYTES = 64 * 1024;
const MAX_FATAL_BYTES = 1024;
const END_BYTES = 32;
const HEADER_BYTES = 5;
/** A test's stdin is streamed, but its length is a u32 in the command. */
export const MAX_STDIN_BYTES = 0xffff_ffff;

export interface EndRecord {
  seq: number;
  /** `exec_failed`: the program could not be started (`value` is the errno). */
  kind: 'exited' | 'signaled' | 'exec_failed';
  /** Exit code, signal number or errno. */
  value: number;
  killedFor: 'wall' | 'output' | 'cpu' | null;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  /** The sandbox is no longer as fresh as a new one; the supervisor exits after saying why. */
  tainted: boolean;
  wallUs: number;
}

export type SupervisorFrame =
  | { type: 'ready' }
  | { type: 'stdout'; data: Buffer }
  | { type: 'stderr'; data: Buffer }
  | { type: 'end'; end: EndRecord }
  | { type: 'fatal'; message: string };

export class FrameError extends Error {
  override name = 'FrameError';
}

const KILLED = [null, 'wall', 'output', 'cpu'] as const;
const KINDS = ['exited', 'signaled', 'exec_failed'] as const;

/** Largest payload per frame type; a type not listed is unknown. */
const LIMITS: Readonly<Record<string, { min: number; max: number }>> = {
  R: { min: 0, max: 0 },
  O: { min: 1, max: MAX_CHUNK_BYTES },
  E: { min: 1, max: MAX_CHUNK_BYTES },
  X: { min: END_BYTES, max: END_BYTES },
  F: { min: 0, max: MAX_FATAL_BYTES },
};

function decodeEnd(payload: Buffer): EndRecord {
  const kind = KINDS[payload.readInt32LE(4)];
  const killedFor = KILLED[payload.readUInt32LE(12)];
  if (kind === undefined || killedFor === undefined) throw new FrameError('bad end frame');
  const flags = payload.readUInt32LE(16);
  return {
    seq: payload.readUInt32LE(0),
    kind,
    value: payload.readInt32LE(8),
    killedFor,
    stdoutTruncated: (flags & 1) !== 0,
    stderrTruncated: (flags & 2) !== 0,
    tainted: (flags & 4) !== 0,
    wallUs: Number(payload.readBigUInt64LE(24)),
  };
}

function decode(type: string, payload: Buffer): SupervisorFrame {
  switch (type) {
    case 'R':
      return { type: 'ready' };
    case 'O':
      return { type: 'stdout', data: payload };
    case 'E':
      return { type: 'stderr', data: payload };
    case 'X':
      return { type: 'end', end: decodeEnd(payload) };
    default:
      return { type: 'fatal', message: payload.toString('utf8') };
  }
}

/**
 * Splits the supervisor's stdout into frames. `push` returns the frames completed by a chunk and
 * throws `FrameError` on an unknown type or a length outside that type's bounds; after a throw
 * the parser is unusable (the stream has lost its framing).
 */
export function createFrameParser() {
  let pending: Buffer = Buffer.alloc(0);
  let broken = false;
  return {
    push(chunk: Buffer): SupervisorFrame[] {
      if (broken) throw new FrameError('the frame stream already failed');
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const frames: SupervisorFrame[] = [];
      let offset = 0;
      try {
        while (pending.length - offset >= HEADER_BYTES) {
          const type = String.fromCharCode(pending[offset]!);
          const length = pending.readUInt32LE(offset + 1);
          const limit = LIMITS[type];
          if (!limit) throw new FrameError(`unknown frame type ${pending[offset]}`);
          if (length < limit.min || length > limit.max) {
            throw new FrameError(`frame ${type} of ${length} bytes`);
          }
          if (pending.length - offset - HEADER_BYTES < length) break;
          const start = offset + HEADER_BYTES;
          // A copy: the chunk's memory must not be kept alive by a small slice of it.
          const payload = Buffer.from(pending.subarray(start, start + length));
          frames.push(decode(type, payload));
          offset = start + length;
        }
      } catch (error) {
        broken = true;
        throw error;
      }
      pending = offset === pending.length ? Buffer.alloc(0) : pending.subarray(offset);
      return frames;
    },
  };
}

export interface TestCommand {
  seq: number;
  stdinBytes: number;
  wallMs: number;
  cpuSoftSeconds: number;
  cpuHardSeconds: number;
  stdoutCap: number;
  stderrCap: number;
  floodCap: number;
}

/** 'T' and eight u32s; the stdin bytes follow it on the same stream. */
export function encodeTestCommand(command: TestCommand): Buffer {
  const buffer = Buffer.alloc(1 + 8 * 4);
  buffer.write('T', 0, 'latin1');
  const fields = [
    command.seq,
    command.stdinBytes,
    command.wallMs,
    command.cpuSoftSeconds,
    command.cpuHardSeconds,
    command.stdoutCap,
    command.stderrCap,
    command.floodCap,
  ];
  for (const [index, value] of fields.entries()) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
      throw new RangeError(`test command field ${index} out of range: ${value}`);
    }
    buffer.writeUInt32LE(value, 1 + index * 4);
  }
  return buffer;
}

/** On the control pipe: kill test `seq` (a stale one for an earlier test is ignored). */
export function encodeKill(seq: number): Buffer {
  const buffer = Buffer.alloc(5);
  buffer.write('K', 0, 'latin1');
  buffer.writeUInt32LE(seq, 1);
  return buffer;
}
