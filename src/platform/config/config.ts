import { z } from 'zod';

/**
 * Every environment variable Assay reads, parsed once into a frozen object. Nothing else in the
 * code base reads `process.env`: components get the slice of this object they need.
 */

const port = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

const positiveInt = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .positive('must be greater than 0')
    .default(fallback);

const urlWithProtocols = (protocols: string[], example: string) =>
  z
    .string()
    .trim()
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      { message: `must be a URL like ${example}` },
    );

const emptyAsUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess(emptyAsUndefined, schema.optional());

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(8000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: optional(
    urlWithProtocols(['postgres:', 'postgresql:'], 'postgres://user@host:5432/db'),
  ),
  DATABASE_POOL_MAX: positiveInt(10),
  REDIS_URL: optional(urlWithProtocols(['redis:', 'rediss:'], 'redis://host:6379')),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,40}$/, 'must be 1-40 letters, digits, dots, dashes or underscores')
    .default('assay'),
  JWT_SECRET: optional(z.string()),
  ADMIN_EMAIL: optional(z.email('must be an email address')),
  ADMIN_PASSWORD: optional(z.string().min(8, 'must be at least 8 characters')),
  SMTP_URL: optional(urlWithProtocols(['smtp:', 'smtps:'], 'smtp://user:pass@host:587')),
  MAIL_FROM: z.string().min(3).default('Assay <no-reply@assay.local>'),
  STORAGE_URL: optional(urlWithProtocols(['file:', 's3:'], 'file:///var/lib/assay or s3://bucket')),
  S3_ENDPOINT: optional(urlWithProtocols(['http:', 'https:'], 'https://s3.example.com')),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: optional(z.string()),
  S3_SECRET_ACCESS_KEY: optional(z.string()),
  S3_FORCE_PATH_STYLE: booleanFlag.default(false),
  CORS_ORIGINS: z.string().default(''),
  TRUSTED_PROXIES: z.string().default(''),
  WORKER_CONCURRENCY: positiveInt(4),
  JOB_LEASE_MS: positiveInt(30_000),
  JOB_SWEEP_INTERVAL_MS: positiveInt(5_000),
  SHUTDOWN_TIMEOUT_MS: positiveInt(10_000),
  HEALTH_CACHE_MS: z.coerce.number({ error: 'must be a number' }).int().min(0).default(1_000),
  HEALTH_CHECK_TIMEOUT_MS: positiveInt(2_000),
  BODY_LIMIT_BYTES: positiveInt(1024 * 1024),
  METRICS_ENABLED: booleanFlag.default(true),
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: positiveInt(300),
  RATE_LIMIT_USER_PER_MINUTE: positiveInt(600),
  RATE_LIMIT_LOGIN_PER_MINUTE: positiveInt(10),
  ATTEMPT_GRACE_SECONDS: z.coerce.number({ error: 'must be a number' }).min(0).max(300).default(5),
  /** Where the host's own tools are (for locating toolchains, never for user code). */
  PATH: z.string().default('/usr/local/bin:/usr/bin:/bin'),
  SANDBOX: z.enum(['bwrap', 'unsafe-none']).default('bwrap'),
  SANDBOX_POOL_SIZE: optional(
    z.coerce.number({ error: 'must be a number' }).int('must be a whole number').positive(),
  ),
  SANDBOX_QUEUE_MAX: positiveInt(200),
  SANDBOX_START_AHEAD: optional(
    z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(0).max(64),
  ),
  SANDBOX_CPU_MS: positiveInt(2_000),
  SANDBOX_WALL_MS: positiveInt(5_000),
  SANDBOX_MEMORY_MB: positiveInt(256),
  SANDBOX_MAX_CPU_MS: positiveInt(10_000),
  SANDBOX_MAX_WALL_MS: positiveInt(20_000),
  SANDBOX_MAX_MEMORY_MB: positiveInt(1_024),
  SANDBOX_PROCESSES: positiveInt(64),
  SANDBOX_OUTPUT_BYTES: positiveInt(1024 * 1024),
  RATE_LIMIT_RUNS_PER_MINUTE: positiveInt(30),
  RATE_LIMIT_SUBMISSIONS_PER_MINUTE: positiveInt(20),
  JUDGE0_AUTH_TOKEN: optional(z.string().trim().min(16, 'must be at least 16 characters')),
  LLM_BASE_URL: optional(urlWithProtocols(['http:', 'https:'], 'https://api.openai.com/v1')),
  LLM_API_KEY: optional(z.string().trim()),
  LLM_MODEL: z.string().trim().min(1).default('gpt-4o-mini'),
  LLM_TIMEOUT_MS: positiveInt(10_000),
});

export type Config = Readonly<{
  nodeEnv: 'development' | 'production' | 'test';
  http: Readonly<{
    port: number;
    host: string;
    bodyLimitBytes: number;
    corsOrigins: readonly string[];
    trustedProxies: readonly string[];
  }>;
  dataDir: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  database: Readonly<{ url: string | undefined; poolMax: number }>;
  redis: Readonly<{ url: string | undefined; prefix: string }>;
  /** Unset in development means "generate one and keep it in DATA_DIR" (see secrets.ts). */
  jwtSecret: string | undefined;
  admin: Readonly<{ email: string; password: string }> | undefined;
  mail: Readonly<{ smtpUrl: string | undefined; from: string }>;
  storageUrl: string | undefined;
  /** Used when STORAGE_URL is s3://…; unset keys fall back to the AWS SDK's own chain. */
  s3: Readonly<{
    endpoint: string | undefined;
    region: string;
    accessKeyId: string | undefined;
    secretAccessKey: string | undefined;
    forcePathStyle: boolean;
  }>;
  jobs: Readonly<{ concurrency: number; leaseMs: number; sweepIntervalMs: number }>;
  shutdownTimeoutMs: number;
  health: Readonly<{ cacheMs: number; checkTimeoutMs: number }>;
  metricsEnabled: boolean;
  rateLimits: Readonly<{
    anonymousPerMinute: number;
    userPerMinute: number;
    loginPerMinute: number;
  }>;
  /** Writes to an attempt are accepted this long after it expires (network delay). */
  attemptGraceMs: number;
  /** The host's PATH, used only to locate toolchains. */
  hostPath: string;
  sandbox: Readonly<{
    /** `unsafe-none` runs code without isolation: local experiments only, refused in production. */
    mode: 'bwrap' | 'unsafe-none';
    /** Runs at once in this process; defaults to the number of cores. */
    poolSize: number | undefined;
    /** Runs waiting beyond the pool; past this a run is refused with 503 and retry-after. */
    queueMax: number;
    /** Per-submission sandboxes kept started ahead of need; defaults to the pool size, 0 is off. */
    startAhead?: number | undefined;
    cpuMs: number;
    wallMs: number;
    memoryMb: number;
    maxCpuMs: number;
    maxWallMs: number;
    maxMemoryMb: number;
    processes: number;
    outputBytes: number;
    runsPerMinute: number;
    submissionsPerMinute: number;
  }>;
  /** The X-Auth-Token Judge0 clients send to /judge0; unset = bearer tokens only. Never logged. */
  judge0: Readonly<{ authToken: string | undefined }>;
  /**
   * An OpenAI-compatible chat completions endpoint for submission feedback; unset `baseUrl` =
   * heuristic feedback only. The key is never logged.
   */
  llm: Readonly<{
    baseUrl: string | undefined;
    apiKey: string | undefined;
    model: string;
    timeoutMs: number;
  }>;
}>;

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

const MIN_PRODUCTION_SECRET_LENGTH = 32;

const list = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

/** Parses an environment into a Config, or lists every problem, one line per variable. */
export function parseConfig(env: Record<string, string | undefined>): ConfigResult {
  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? 'environment');
      const given = SECRET_NAMES.test(name)
        ? 'a value that is not shown'
        : describeValue(env[name]);
      problems.push(`${name}: ${issue.message} (got ${given})`);
    }
  }
  const raw = parsed.success ? parsed.data : undefined;
  const nodeEnv = raw?.NODE_ENV ?? env.NODE_ENV;
  if (nodeEnv === 'production') {
    const secret = env.JWT_SECRET?.trim() ?? '';
    if (secret.length === 0) {
      problems.push('JWT_SECRET: is required when NODE_ENV=production');
    } else if (secret.length < MIN_PRODUCTION_SECRET_LENGTH) {
      problems.push(
        `JWT_SECRET: must be at least ${MIN_PRODUCTION_SECRET_LENGTH} characters when NODE_ENV=production (got ${secret.length})`,
      );
    }
  }
  if (raw && (raw.ADMIN_EMAIL === undefined) !== (raw.ADMIN_PASSWORD === undefined)) {
    const missing = raw.ADMIN_EMAIL === undefined ? 'ADMIN_EMAIL' : 'ADMIN_PASSWORD';
    problems.push(
      `${missing}: must be set together with ${missing === 'ADMIN_EMAIL' ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL'}`,
    );
  }
  if (nodeEnv === 'production' && raw?.SANDBOX === 'unsafe-none') {
    problems.push(
      'SANDBOX: unsafe-none runs code without isolation and is refused when NODE_ENV=production',
    );
  }
  if (raw && raw.SANDBOX_CPU_MS > raw.SANDBOX_MAX_CPU_MS) {
    problems.push('SANDBOX_CPU_MS: must not exceed SANDBOX_MAX_CPU_MS');
  }
  if (raw && raw.SANDBOX_MEMORY_MB > raw.SANDBOX_MAX_MEMORY_MB) {
    problems.push('SANDBOX_MEMORY_MB: must not exceed SANDBOX_MAX_MEMORY_MB');
  }
  if (raw && raw.SANDBOX_WALL_MS > raw.SANDBOX_MAX_WALL_MS) {
    problems.push('SANDBOX_WALL_MS: must not exceed SANDBOX_MAX_WALL_MS');
  }
  if (problems.length > 0 || !raw) return { ok: false, problems };

  const config: Config = {
    nodeEnv: raw.NODE_ENV,
    http: {
      port: raw.PORT,
      host: raw.HOST,
      bodyLimitBytes: raw.BODY_LIMIT_BYTES,
      corsOrigins: list(raw.CORS_ORIGINS),
      trustedProxies: list(raw.TRUSTED_PROXIES),
    },
    dataDir: raw.DATA_DIR,
    logLevel: raw.LOG_LEVEL,
    database: { url: raw.DATABASE_URL, poolMax: raw.DATABASE_POOL_MAX },
    redis: { url: raw.REDIS_URL, prefix: raw.REDIS_PREFIX },
    jwtSecret: raw.JWT_SECRET,
    admin:
      raw.ADMIN_EMAIL && raw.ADMIN_PASSWORD
        ? { email: raw.ADMIN_EMAIL, password: raw.ADMIN_PASSWORD }
        : undefined,
    mail: { smtpUrl: raw.SMTP_URL, from: raw.MAIL_FROM },
    storageUrl: raw.STORAGE_URL,
    s3: {
      endpoint: raw.S3_ENDPOINT,
      region: raw.S3_REGION,
      accessKeyId: raw.S3_ACCESS_KEY_ID,
      secretAccessKey: raw.S3_SECRET_ACCESS_KEY,
      forcePathStyle: raw.S3_FORCE_PATH_STYLE,
    },
    jobs: {
      concurrency: raw.WORKER_CONCURRENCY,
      leaseMs: raw.JOB_LEASE_MS,
      sweepIntervalMs: raw.JOB_SWEEP_INTERVAL_MS,
    },
    shutdownTimeoutMs: raw.SHUTDOWN_TIMEOUT_MS,
    health: { cacheMs: raw.HEALTH_CACHE_MS, checkTimeoutMs: raw.HEALTH_CHECK_TIMEOUT_MS },
    metricsEnabled: raw.METRICS_ENABLED,
    rateLimits: {
      anonymousPerMinute: raw.RATE_LIMIT_ANONYMOUS_PER_MINUTE,
      userPerMinute: raw.RATE_LIMIT_USER_PER_MINUTE,
      loginPerMinute: raw.RATE_LIMIT_LOGIN_PER_MINUTE,
    },
    attemptGraceMs: raw.ATTEMPT_GRACE_SECONDS * 1000,
    hostPath: raw.PATH,
    sandbox: {
      mode: raw.SANDBOX,
      poolSize: raw.SANDBOX_POOL_SIZE,
      queueMax: raw.SANDBOX_QUEUE_MAX,
      startAhead: raw.SANDBOX_START_AHEAD,
      cpuMs: raw.SANDBOX_CPU_MS,
      wallMs: raw.SANDBOX_WALL_MS,
      memoryMb: raw.SANDBOX_MEMORY_MB,
      maxCpuMs: raw.SANDBOX_MAX_CPU_MS,
      maxWallMs: raw.SANDBOX_MAX_WALL_MS,
      maxMemoryMb: raw.SANDBOX_MAX_MEMORY_MB,
      processes: raw.SANDBOX_PROCESSES,
      outputBytes: raw.SANDBOX_OUTPUT_BYTES,
      runsPerMinute: raw.RATE_LIMIT_RUNS_PER_MINUTE,
      submissionsPerMinute: raw.RATE_LIMIT_SUBMISSIONS_PER_MINUTE,
    },
    judge0: { authToken: raw.JUDGE0_AUTH_TOKEN },
    llm: {
      baseUrl: raw.LLM_BASE_URL,
      apiKey: raw.LLM_API_KEY,
      model: raw.LLM_MODEL,
      timeoutMs: raw.LLM_TIMEOUT_MS,
    },
  };
  return { ok: true, config: deepFreeze(config) };
}

const SECRET_NAMES = /SECRET|PASSWORD|TOKEN|KEY|_URL$/;

/** Shows what was given without echoing secrets (URLs can carry passwords). */
function describeValue(value: string | undefined): string {
  if (value === undefined) return 'nothing';
  if (value.length > 60) return `${value.length} characters`;
  return JSON.stringify(value);
}

export function redactedConfigValue(name: string, value: string | undefined): string {
  if (value === undefined) return 'unset';
  return SECRET_NAMES.test(name) ? 'set (hidden)' : value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
