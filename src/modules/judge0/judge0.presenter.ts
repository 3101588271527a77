import { isUtf8 } from 'node:buffer';
import {
  decimalSeconds,
  encodeBase64,
  type Field,
  type Judge0Language,
  type Judge0Limits,
  statusOf,
} from './judge0.models.ts';
import type { Judge0SubmissionRow } from './judge0.tables.ts';

export type PresentOptions = {
  fields: readonly Field[];
  base64: boolean;
  languages: readonly Judge0Language[];
  limits: Judge0Limits;
};

/** Judge0 renders timestamps the Rails way: ISO 8601 with milliseconds. */
const time = (date: Date | null) => (date ? date.toISOString() : null);

/**
 * One submission as Judge0's SubmissionSerializer renders it: only the requested fields, texts
 * base64-encoded on request, decimals as strings, memory in kilobytes. Null when a text is not
 * UTF-8 and base64 was not asked for: Judge0 then refuses to render it (the caller says how).
 */
export function presentSubmission(
  row: Judge0SubmissionRow,
  options: PresentOptions,
): Record<string, unknown> | null {
  let convertible = true;
  const textOf = (value: Buffer | string | null): string | null => {
    if (value === null) return null;
    const buffer = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    if (options.base64) return encodeBase64(buffer);
    if (!isUtf8(buffer)) {
      convertible = false;
      return null;
    }
    return buffer.toString('utf8');
  };
  const language = options.languages.find((item) => item.id === row.languageId);
  const value = (field: Field): unknown => {
    switch (field) {
      case 'source_code':
        return textOf(row.sourceCode);
      case 'language_id':
        return row.languageId;
      case 'stdin':
        return textOf(row.stdin);
      case 'expected_output':
        return textOf(row.expectedOutput);
      case 'stdout':
        return textOf(row.stdout);
      case 'stderr':
        return textOf(row.stderr);
      case 'compile_output':
        return textOf(row.compileOutput);
      case 'message':
        return textOf(row.message);
      case 'status_id':
        return row.statusId;
      case 'status':
        return statusOf(row.statusId);
      case 'created_at':
        return time(row.createdAt);
      case 'finished_at':
        return time(row.finishedAt);
      case 'time':
        return row.timeMs === null ? null : decimalSeconds(row.timeMs);
      case 'wall_time':
        return row.wallTimeMs === null ? null : decimalSeconds(row.wallTimeMs);
      case 'memory':
        return row.memoryKb;
      case 'token':
        return row.token;
      case 'exit_code':
        return row.exitCode;
      case 'exit_signal':
        return row.exitSignal;
      case 'number_of_runs':
        return 1;
      case 'cpu_time_limit':
        return decimalSeconds(row.cpuTimeLimitMs);
      case 'cpu_extra_time':
        return decimalSeconds(0);
      case 'wall_time_limit':
        return decimalSeconds(row.wallTimeLimitMs);
      case 'memory_limit':
        return row.memoryLimitKb;
      case 'stack_limit':
        return options.limits.stackKb;
      case 'max_processes_and_or_threads':
        return options.limits.processes;
      case 'enable_per_process_and_thread_time_limit':
      case 'enable_per_process_and_thread_memory_limit':
      case 'enable_network':
        return false;
      case 'max_file_size':
        return options.limits.fileSizeKb;
      case 'compiler_options':
        return row.settings.compiler_options;
      case 'command_line_arguments':
        return row.settings.command_line_arguments;
      case 'redirect_stderr_to_stdout':
        return row.settings.redirect_stderr_to_stdout;
      case 'callback_url':
        return row.settings.callback_url;
      case 'additional_files':
        return null;
      case 'language':
        return { id: row.languageId, name: language?.name ?? row.language };
    }
  };
  const out: Record<string, unknown> = {};
  for (const field of options.fields) out[field] = value(field);
  return convertible ? out : null;
}
