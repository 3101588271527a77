import { z } from 'zod';

/**
 * Judge0's request and response shapes, for the OpenAPI document. Validation of submissions is
 * Judge0's own (judge0.models.ts, with its 422 messages), so these schemas accept what Judge0
 * accepts: every object is loose and scalars may come as strings.
 */

const flag = z.string().optional();
const numeric = z.union([z.number(), z.string()]).nullish();
const text = z.union([z.string(), z.number()]).nullish();

export const submissionQuery = z.looseObject({
  base64_encoded: flag.describe(
    '"true": source_code, stdin, expected_output and outputs are base64',
  ),
  wait: flag.describe('"true": run now and answer with the result instead of a token'),
  fields: flag.describe(
    'comma list of attributes, or * for all; default stdout,time,memory,stderr,token,compile_output,message,status',
  ),
});

export const readQuery = z.looseObject({
  base64_encoded: flag.describe('"true": texts in the answer are base64'),
  fields: flag.describe('comma list of attributes, or * for all'),
});

export const batchReadQuery = readQuery.extend({
  tokens: z.string().optional().describe('comma list of at most 20 tokens'),
});

export const batchCreateQuery = z.looseObject({ base64_encoded: flag });

export const submissionBody = z
  .looseObject({
    source_code: text.describe('the program (required)'),
    language_id: numeric.describe('a Judge0 CE language id from GET /judge0/languages (required)'),
    stdin: text,
    expected_output: text.describe(
      'compared with stdout as Judge0 does (trailing whitespace of each line ignored)',
    ),
    cpu_time_limit: numeric.describe('seconds'),
    wall_time_limit: numeric.describe('seconds'),
    memory_limit: numeric.describe('kilobytes'),
    cpu_extra_time: numeric.describe('accepted, not used'),
    stack_limit: numeric.describe('accepted, not used'),
    max_processes_and_or_threads: numeric.describe('accepted, not used'),
    max_file_size: numeric.describe('accepted, not used'),
    number_of_runs: numeric.describe('accepted; every program runs once'),
    compiler_options: text.describe('accepted, not used'),
    command_line_arguments: text.describe('accepted, not used'),
    redirect_stderr_to_stdout: z.unknown().optional().describe('accepted, not used'),
    callback_url: text.describe('accepted; no callback is made'),
    additional_files: text.describe('accepted, not used'),
    enable_network: z.unknown().optional().describe('must not be true: programs have no network'),
  })
  .optional();

export const batchBody = z
  .looseObject({ submissions: z.array(submissionBody).optional() })
  .optional();

export const tokenParams = z.object({ token: z.string() });
export const languageParams = z.object({ id: z.string() });

/** A submission with the requested fields only, so its keys vary. */
export const submissionResult = z
  .record(z.string(), z.unknown())
  .describe(
    'the requested fields of a submission (stdout, time, memory, status: { id, description }, …)',
  );

export const judge0ErrorBody = z
  .record(z.string(), z.unknown())
  .describe('Judge0 error: { error } or { attribute: [messages] }');

export const language = z.object({ id: z.number(), name: z.string() });
export const languageDetail = language.extend({ is_archived: z.boolean() });
export const status = z.object({ id: z.number(), description: z.string() });
export const about = z.looseObject({
  version: z.string(),
  homepage: z.string(),
  source_code: z.string(),
  maintainer: z.string(),
});
export const configInfo = z.record(z.string(), z.unknown());
