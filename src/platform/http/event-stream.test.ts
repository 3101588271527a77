import { connect } from 'node:net';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createFanOut, openEventStream } from './event-stream.ts';

describe('an event stream', () => {
  const apps: Array<ReturnType<typeof Fastify>> = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  /** A server whose one route streams events until the stream closes, counting what it sent. */
  const serve = async () => {
    const state = { sent: 0, closed: false };
    const app = Fastify();
    apps.push(app);
    app.get('/events', (_request, reply) => {
      const stream = openEventStream(reply);
      stream.onClose(() => {
        state.closed = true;
      });
      const chunk = 'x'.repeat(16 * 1024);
      const pump = () => {
        // Far more than any socket buffers: only dropping the client ends this.
        for (let index = 0; index < 64 && !stream.closed && state.sent < 4096; index++) {
          stream.send('data', chunk);
          state.sent++;
        }
        if (!stream.closed && state.sent < 4096) setImmediate(pump);
      };
      pump();
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    return { state, port: Number(new URL(address).port) };
  };

  it('drops a client that stops reading instead of buffering for it', async () => {
    const { state, port } = await serve();
    const socket = connect(port, '127.0.0.1');
    socket.write('GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
    // Read nothing: the client is alive but does not keep up.
    socket.pause();
    await expect.poll(() => state.closed, { timeout: 10_000 }).toBe(true);
    // 64 MiB was on offer; it stopped long before.
    expect(state.sent).toBeLessThan(4096);
    socket.destroy();
  });

  it('sends comments as heartbeats while nothing happens', async () => {
    const app = Fastify();
    apps.push(app);
    app.get('/quiet', (_request, reply) => {
      openEventStream(reply, { heartbeatMs: 20 });
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const response = await fetch(`${address}/quiet`);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toBe(': keep-alive\n\n');
    await reader.cancel();
  });
});

describe('a fan-out', () => {
  it('delivers an event to the listeners of its key only, until they stop', () => {
    const fanOut = createFanOut<{ board: string; n: number }>((event) => event.board);
    const a: number[] = [];
    const b: number[] = [];
    const stopA = fanOut.listen('a', (event) => a.push(event.n));
    fanOut.listen('b', (event) => b.push(event.n));
    fanOut.deliver({ board: 'a', n: 1 });
    fanOut.deliver({ board: 'b', n: 2 });
    stopA();
    fanOut.deliver({ board: 'a', n: 3 });
    expect(a).toEqual([1]);
    expect(b).toEqual([2]);
    expect(fanOut.keys()).toEqual(['b']);
    expect(fanOut.size()).toBe(1);
  });
});
