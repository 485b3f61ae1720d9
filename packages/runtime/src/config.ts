import * as z from 'zod';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses the environment once, at start. On failure the message names every missing or
 * malformed variable and what was wrong with it, e.g.
 *   invalid configuration:
 *     API_PORT: Too big: expected number to be <=65535 (got "70000")
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const value = issue.path.length === 1 ? env[String(issue.path[0])] : undefined;
    const shown = value === undefined ? ' (not set)' : ` (got ${JSON.stringify(redact(name, value))})`;
    return `  ${name}: ${issue.message}${shown}`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

/** Never echo secrets back into logs: a URL keeps its shape but loses its password. */
function redact(name: string, value: string): string {
  if (/PASSWORD|SECRET|TOKEN|KEY/i.test(name)) return '***';
  return value.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

/** Variables shared by every process. */
export const logEnvSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Defaults to production: a deployment that forgets NODE_ENV must not hand stack traces to
  // clients. The launcher (local use) sets development for the apps it starts.
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
});

/** `true`/`false`/`1`/`0`/`yes`/`no`, since `z.coerce.boolean()` would read "false" as true. */
export const envBoolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
