import OpenAI from 'openai';

/** Where a chat completions endpoint is; `baseUrl` unset means there is none to use. */
export type LlmSettings = Readonly<{
  baseUrl: string | undefined;
  apiKey: string | undefined;
  model: string;
  timeoutMs: number;
}>;

export type ChatJsonRequest = {
  system: string;
  user: string;
  signal?: AbortSignal;
};

/**
 * A client for any OpenAI-compatible chat completions endpoint (OpenAI, a local Ollama or vLLM,
 * a proxy), through the official SDK. It asks for a JSON object and returns the reply's text
 * unparsed: what counts as valid is the caller's to decide.
 */
export function createLlmClient(settings: {
  baseUrl: string;
  apiKey: string | undefined;
  model: string;
  timeoutMs: number;
}) {
  const client = new OpenAI({
    baseURL: settings.baseUrl,
    // Local servers often take no key, but the SDK refuses to start without one; with none,
    // the Authorization header is dropped below rather than sending a made-up bearer.
    apiKey: settings.apiKey ?? 'none',
    ...(settings.apiKey ? {} : { defaultHeaders: { Authorization: null } }),
    // Given explicitly so the SDK takes nothing from OPENAI_* variables: config is read in one place.
    adminAPIKey: null,
    organization: null,
    project: null,
    webhookSecret: null,
    timeout: settings.timeoutMs,
    // One retry covers a dropped connection or a brief 5xx; more would outlast the caller's deadline.
    maxRetries: 1,
    // The SDK's own logging goes to the console and can show request bodies (student source).
    logLevel: 'off',
  });

  return {
    model: settings.model,

    async completeJson(request: ChatJsonRequest): Promise<string> {
      const completion = await client.chat.completions.create(
        {
          model: settings.model,
          messages: [
            { role: 'system', content: request.system },
            { role: 'user', content: request.user },
          ],
          response_format: { type: 'json_object' },
        },
        request.signal ? { signal: request.signal } : {},
      );
      const content = completion.choices[0]?.message?.content;
      if (typeof content !== 'string') throw new Error('the completion has no text content');
      return content;
    },
  };
}

export type LlmClient = ReturnType<typeof createLlmClient>;
