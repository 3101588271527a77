import { describe, expect, it } from 'vitest';
import { parseConfig, redactedConfigValue } from './config.ts';

const problemsOf = (env: Record<string, string>) => {
  const result = parseConfig(env);
  if (result.ok) throw new Error('expected the configuration to be refused');
  return result.problems;
};

describe('parseConfig', () => {
  it('gives the embedded defaults for an empty environment', () => {
    const result = parseConfig({});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.http.port).toBe(8000);
    expect(result.config.http.host).toBe('127.0.0.1');
    expect(result.config.dataDir).toBe('./data');
    expect(result.config.database.url).toBeUndefined();
    expect(result.config.redis.url).toBeUndefined();
    expect(Object.isFrozen(result.config)).toBe(true);
    expect(Object.isFrozen(result.config.http)).toBe(true);
  });

  it('names every bad variable on a line of its own', () => {
    const problems = problemsOf({
      PORT: 'abc',
      DATABASE_URL: 'nonsense',
      REDIS_URL: 'http://x',
      LOG_LEVEL: 'loud',
    });
    expect(problems).toHaveLength(4);
    expect(problems.find((line) => line.startsWith('PORT:'))).toMatch(/must be a number/);
    expect(problems.find((line) => line.startsWith('DATABASE_URL:'))).toMatch(/postgres:\/\//);
    expect(problems.find((line) => line.startsWith('REDIS_URL:'))).toMatch(/redis:\/\//);
    expect(problems.find((line) => line.startsWith('LOG_LEVEL:'))).toBeDefined();
  });

  it('never echoes a secret-looking value back', () => {
    const problems = problemsOf({ DATABASE_URL: 'mysql://root:hunter2@db/x' });
    expect(problems.join('\n')).not.toContain('hunter2');
    const judge0 = problemsOf({ JUDGE0_AUTH_TOKEN: 'short-key' });
    expect(judge0).toEqual([
      'JUDGE0_AUTH_TOKEN: must be at least 16 characters (got a value that is not shown)',
    ]);
  });

  it('reads the feedback LLM endpoint, off by default, and never echoes its key or URL', () => {
    const off = parseConfig({});
    expect(off.ok && off.config.llm).toEqual({
      baseUrl: undefined,
      apiKey: undefined,
      model: 'gpt-4o-mini',
      timeoutMs: 10_000,
    });
    const on = parseConfig({
      LLM_BASE_URL: 'http://127.0.0.1:11434/v1',
      LLM_API_KEY: 'sk-local',
      LLM_MODEL: 'qwen2.5-coder:7b',
      LLM_TIMEOUT_MS: '4000',
    });
    expect(on.ok && on.config.llm).toEqual({
      baseUrl: 'http://127.0.0.1:11434/v1',
      apiKey: 'sk-local',
      model: 'qwen2.5-coder:7b',
      timeoutMs: 4000,
    });
    const problems = problemsOf({
      LLM_BASE_URL: 'ftp://sk-secret@llm.example',
      LLM_TIMEOUT_MS: '0',
    });
    expect(problems.join('\n')).not.toContain('sk-secret');
    expect(problems).toHaveLength(2);
    expect(redactedConfigValue('LLM_API_KEY', 'sk-local')).toBe('set (hidden)');
  });

  it('refuses out-of-range ports', () => {
    expect(problemsOf({ PORT: '70000' })[0]).toMatch(/^PORT: must be between 1 and 65535/);
    expect(problemsOf({ PORT: '8.5' })[0]).toMatch(/^PORT: must be a whole number/);
  });

  it('requires a JWT_SECRET of 32+ characters in production', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      'JWT_SECRET: is required when NODE_ENV=production',
    ]);
    expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET: 'short' })[0]).toMatch(
      /^JWT_SECRET: must be at least 32 characters/,
    );
    expect(parseConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).ok).toBe(true);
    // Development generates one instead (see secrets.ts).
    expect(parseConfig({ NODE_ENV: 'development' }).ok).toBe(true);
  });

  it('refuses SANDBOX=unsafe-none in production, and limits above their maxima', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) };
    expect(problemsOf({ ...production, SANDBOX: 'unsafe-none' })).toEqual([
      'SANDBOX: unsafe-none runs code without isolation and is refused when NODE_ENV=production',
    ]);
    expect(parseConfig({ SANDBOX: 'unsafe-none' }).ok).toBe(true);
    expect(problemsOf({ SANDBOX: 'docker' })[0]).toMatch(/^SANDBOX: /);
    expect(problemsOf({ SANDBOX_CPU_MS: '20000' })).toEqual([
      'SANDBOX_CPU_MS: must not exceed SANDBOX_MAX_CPU_MS',
    ]);
  });

  it('wants ADMIN_EMAIL and ADMIN_PASSWORD together', () => {
    expect(problemsOf({ ADMIN_EMAIL: 'root@example.com' })).toEqual([
      'ADMIN_PASSWORD: must be set together with ADMIN_EMAIL',
    ]);
    const result = parseConfig({
      ADMIN_EMAIL: 'root@example.com',
      ADMIN_PASSWORD: 'long enough pw',
    });
    expect(result.ok && result.config.admin).toEqual({
      email: 'root@example.com',
      password: 'long enough pw',
    });
  });

  it('treats empty values as unset and splits lists', () => {
    const result = parseConfig({
      DATABASE_URL: '',
      CORS_ORIGINS: 'https://a.example, https://b.example,',
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.database.url).toBeUndefined();
    expect(result.config.http.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
  });
});
