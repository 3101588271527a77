import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { config as loadDotenv } from 'dotenv';
import { createDeps } from './deps.ts';
import { ROLES, type Role } from './modules/users/users.models.ts';
import { type Config, parseConfig } from './platform/config/config.ts';
import { openDatabase } from './platform/db/database.ts';
import { createLogger } from './platform/logger/logger.ts';
import { seedDemoData } from './seed.ts';
import { VERSION } from './version.ts';

/** Reads `.env` (never overriding the real environment) and validates everything, or exits. */
function loadConfig(): Config {
  loadDotenv({ quiet: true });
  const result = parseConfig(process.env);
  if (!result.ok) {
    for (const problem of result.problems) process.stderr.write(`config error: ${problem}\n`);
    process.exit(2);
  }
  return result.config;
}

const quietLogger = (config: Config) =>
  createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel });

const program = new Command('assay')
  .description('Assay: online assessment platform')
  .version(VERSION)
  .showHelpAfterError();

program
  .command('serve')
  .description('serve the HTTP API (and, unless --no-workers, every job queue) in this process')
  .option('--no-workers', 'serve HTTP only; run `assay worker` processes for the jobs')
  .action(async (options: { workers: boolean }) => {
    const config = loadConfig();
    if (!options.workers && !config.database.url) {
      throw new Error(
        '--no-workers needs DATABASE_URL: the embedded database cannot be shared with a worker process',
      );
    }
    const { serve } = await import('./main.ts');
    await serve(config, { workers: options.workers });
  });

program
  .command('worker')
  .description('run job workers and the scheduler (needs DATABASE_URL; REDIS_URL recommended)')
  .option('--queues <names>', 'comma-separated queues to work (default: all)', (value: string) =>
    value
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  )
  .action(async (options: { queues?: string[] }) => {
    const config = loadConfig();
    if (!config.database.url) {
      throw new Error(
        'assay worker needs DATABASE_URL: the embedded database lives inside `assay serve`',
      );
    }
    const { work } = await import('./main.ts');
    await work(config, options.queues ? { queues: options.queues } : {});
  });

program
  .command('migrate')
  .description('apply database migrations and exit')
  .action(async () => {
    const config = loadConfig();
    const logger = quietLogger(config);
    // Only the database: migrating must not need Redis or anything else to be up.
    const database = config.database.url
      ? await openDatabase({ kind: 'postgres', url: config.database.url, poolMax: 1, logger })
      : await openDatabase({ kind: 'pglite', dataDir: resolve(config.dataDir, 'db'), logger });
    try {
      await database.migrate();
      process.stdout.write(`migrations applied (${database.kind})\n`);
    } finally {
      await database.close();
    }
  });

program
  .command('seed')
  .description(
    'load demo data: an admin, an instructor, three students, two coding challenges and a demo quiz (idempotent)',
  )
  .action(async () => {
    const config = loadConfig();
    const deps = await createDeps(config, quietLogger(config));
    try {
      const { accounts, challenges, quiz } = await seedDemoData(deps);
      for (const account of accounts) {
        process.stdout.write(
          `${account.created ? 'created' : 'exists '} ${account.role.padEnd(10)} ${account.email}  ${account.password ? `password: ${account.password}` : '(password unchanged)'}\n`,
        );
      }
      for (const challenge of challenges.challenges)
        process.stdout.write(
          `${challenge.created ? 'created' : 'exists '} challenge  ${challenge.id}  ${challenge.title}\n`,
        );
      if (challenges.reason)
        process.stdout.write(`skipped challenges: code cannot run here (${challenges.reason})\n`);
      process.stdout.write(
        `${quiz.created ? 'created' : 'exists '} quiz       ${quiz.id}  ${quiz.title}\n`,
      );
    } finally {
      await deps.close();
    }
  });

const role = (value: string): Role => {
  if (!(ROLES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`must be one of ${ROLES.join(', ')}`);
  }
  return value as Role;
};

const users = program.command('users').description('manage accounts');
users
  .command('create')
  .description('create an active account')
  .requiredOption('--email <email>')
  .requiredOption('--name <name>')
  .addOption(
    new Option('--role <role>', 'admin, instructor or student')
      .argParser(role)
      .makeOptionMandatory(),
  )
  .requiredOption(
    '--password <password>',
    'at least 8 characters (or set ASSAY_PASSWORD and pass -)',
  )
  .action(async (options: { email: string; name: string; role: Role; password: string }) => {
    const config = loadConfig();
    const { validateNewAccount } = await import('./modules/users/users.validation.ts');
    const password =
      options.password === '-' ? (process.env.ASSAY_PASSWORD ?? '') : options.password;
    const { passwordProblem } = await import('./modules/auth/password-policy.ts');
    const problems = validateNewAccount({ email: options.email, name: options.name, password });
    const weak = passwordProblem(password, { email: options.email, name: options.name });
    if (weak && problems.length === 0) problems.push(`password: ${weak}`);
    if (problems.length > 0) {
      for (const problem of problems) process.stderr.write(`error: ${problem}\n`);
      process.exit(2);
    }
    const deps = await createDeps(config, quietLogger(config));
    try {
      const user = await deps.users.createActive({ ...options, password });
      process.stdout.write(`created ${user.role} ${user.email} (${user.id})\n`);
    } finally {
      await deps.close();
    }
  });

const leaderboards = program.command('leaderboards').description('leaderboards');
leaderboards
  .command('rebuild')
  .description(
    'recompute every board from the database (attempts and submissions) and repair what differs',
  )
  .action(async () => {
    const config = loadConfig();
    const deps = await createDeps(config, quietLogger(config));
    try {
      const outcome = await deps.leaderboards.rebuild();
      process.stdout.write(
        `rebuilt ${outcome.boards} boards (${deps.leaderboards.store.kind} store): ${outcome.entries} entries, ${outcome.writes} written on ${outcome.repairedBoards} boards that differed\n`,
      );
    } finally {
      await deps.close();
    }
  });

program
  .command('doctor')
  .description('show what is configured and whether each dependency answers')
  .action(async () => {
    const config = loadConfig();
    const { runDoctor } = await import('./doctor.ts');
    const ok = await runDoctor(config, (line) => process.stdout.write(`${line}\n`));
    process.exitCode = ok ? 0 : 1;
  });

export async function main(argv: string[]) {
  try {
    await program.parseAsync(argv);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`assay: ${message}\n`);
    process.exit(1);
  }
}
