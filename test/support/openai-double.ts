import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export type RecordedRequest = {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, as the SDK sent it. */
  body: {
    model?: string;
    messages?: Array<{ role: string; content: string }>;
    response_format?: { type: string };
  };
};

/** How the double answers the next requests. */
export type Behaviour =
  | { reply: string }
  | { status: number; message?: string }
  /** Accept the request and never answer, to exercise timeouts. */
  | { hang: true };

/**
 * A local stand-in for an OpenAI-compatible server (none is reachable from CI), speaking
 * `POST /v1/chat/completions` as the official SDK expects: a `chat.completion` object on success,
 * an `{ error: { message, type, code } }` body on failure. It records every request so tests can
 * read the prompt and headers that really went over the wire.
 */
export async function startOpenAiDouble() {
  const requests: RecordedRequest[] = [];
  let behaviour: Behaviour = { reply: '{"summary":"ok","suggestions":[]}' };

  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = new URL(req.url ?? '/', 'http://double.local').pathname;
      requests.push({
        method: req.method ?? '',
        path,
        headers: req.headers,
        body: raw ? (JSON.parse(raw) as RecordedRequest['body']) : {},
      });
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || path !== '/v1/chat/completions')
        return json(404, { error: { message: 'not found', type: 'invalid_request_error' } });
      if ('hang' in behaviour) return;
      if ('status' in behaviour)
        // retry-after-ms is OpenAI's own hint; 0 keeps the SDK's one retry from slowing tests.
        return json(
          behaviour.status,
          {
            error: {
              message: behaviour.message ?? 'The server had an error',
              type: 'server_error',
              param: null,
              code: null,
            },
          },
          { 'retry-after-ms': '0' },
        );
      const body = requests.at(-1)?.body;
      return json(200, {
        id: `chatcmpl-${requests.length}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body?.model ?? 'unknown',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: behaviour.reply, refusal: null },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
      });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    /** The base URL to configure, as LLM_BASE_URL would be. */
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    behave(next: Behaviour) {
      behaviour = next;
    },
    /** The prompt of a recorded request: its messages' text, joined. */
    promptOf(request: RecordedRequest | undefined) {
      return (request?.body.messages ?? []).map((message) => message.content).join('\n');
    },
    async close() {
      // Hanging requests would keep close() waiting forever.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type OpenAiDouble = Awaited<ReturnType<typeof startOpenAiDouble>>;
