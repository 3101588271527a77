import { describe, expect, it } from 'vitest';
import {
  createFrameParser,
  encodeKill,
  encodeTestCommand,
  FrameError,
  MAX_CHUNK_BYTES,
} from './sandbox.frames.ts';

const frame = (type: string, payload: Buffer = Buffer.alloc(0)) => {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeUInt32LE(payload.length, 1);
  return Buffer.concat([header, payload]);
};

const endPayload = (fields: {
  seq: number;
  kind: number;
  value: number;
  killed: number;
  flags: number;
  wallUs: bigint;
}) => {
  const payload = Buffer.alloc(32);
  payload.writeUInt32LE(fields.seq, 0);
  payload.writeInt32LE(fields.kind, 4);
  payload.writeInt32LE(fields.value, 8);
  payload.writeUInt32LE(fields.killed, 12);
  payload.writeUInt32LE(fields.flags, 16);
  payload.writeBigUInt64LE(fields.wallUs, 24);
  return payload;
};

describe('supervisor frames', () => {
  it('decodes every frame type, whatever the chunking', () => {
    const stream = Buffer.concat([
      frame('R'),
      frame('O', Buffer.from('out')),
      frame('E', Buffer.from('err')),
      frame('X', endPayload({ seq: 7, kind: 1, value: 9, killed: 3, flags: 5, wallUs: 1234n })),
      frame('F', Buffer.from('why')),
    ]);
    const expected = [
      { type: 'ready' },
      { type: 'stdout', data: Buffer.from('out') },
      { type: 'stderr', data: Buffer.from('err') },
      {
        type: 'end',
        end: {
          seq: 7,
          kind: 'signaled',
          value: 9,
          killedFor: 'cpu',
          stdoutTruncated: true,
          stderrTruncated: false,
          tainted: true,
          wallUs: 1234,
        },
      },
      { type: 'fatal', message: 'why' },
    ];
    for (const size of [1, 2, 3, 7, stream.length]) {
      const parser = createFrameParser();
      const frames = [];
      for (let offset = 0; offset < stream.length; offset += size) {
        frames.push(...parser.push(stream.subarray(offset, offset + size)));
      }
      expect(frames, `chunks of ${size}`).toEqual(expected);
    }
  });

  it('refuses unknown types and lengths outside a type’s bounds before buffering them', () => {
    const oversized = Buffer.alloc(5);
    oversized.write('O', 0, 'latin1');
    oversized.writeUInt32LE(MAX_CHUNK_BYTES + 1, 1);
    const cases = [
      frame('Z'),
      oversized,
      frame('O'),
      frame('R', Buffer.from('x')),
      frame('X', Buffer.alloc(31)),
      frame('X', endPayload({ seq: 1, kind: 5, value: 0, killed: 0, flags: 0, wallUs: 0n })),
      frame('X', endPayload({ seq: 1, kind: 0, value: 0, killed: 9, flags: 0, wallUs: 0n })),
    ];
    for (const bytes of cases) {
      const parser = createFrameParser();
      // Only the header is needed to refuse a length: the payload is never waited for.
      expect(() => parser.push(bytes.subarray(0, Math.max(5, bytes.length)))).toThrow(FrameError);
      expect(() => parser.push(frame('R'))).toThrow(FrameError);
    }
  });

  it('keeps an incomplete frame until the rest arrives', () => {
    const parser = createFrameParser();
    const bytes = frame('O', Buffer.from('hello'));
    expect(parser.push(bytes.subarray(0, 6))).toEqual([]);
    expect(parser.push(bytes.subarray(6))).toEqual([
      { type: 'stdout', data: Buffer.from('hello') },
    ]);
  });

  it('encodes commands and refuses fields a u32 cannot hold', () => {
    const command = {
      seq: 1,
      stdinBytes: 2,
      wallMs: 3,
      cpuSoftSeconds: 4,
      cpuHardSeconds: 5,
      stdoutCap: 6,
      stderrCap: 7,
      floodCap: 8,
    };
    const bytes = encodeTestCommand(command);
    expect(bytes.length).toBe(33);
    expect(bytes.toString('latin1', 0, 1)).toBe('T');
    expect([...Array(8).keys()].map((i) => bytes.readUInt32LE(1 + i * 4))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
    expect(() => encodeTestCommand({ ...command, stdinBytes: 2 ** 32 })).toThrow(RangeError);
    expect(() => encodeTestCommand({ ...command, wallMs: -1 })).toThrow(RangeError);
    expect(encodeKill(258)).toEqual(Buffer.from([0x4b, 2, 1, 0, 0]));
  });
});
