import type * as z from 'zod';
import { ConfigError, loadConfig } from '../config.ts';

/** The message `loadConfig` refuses `env` with; throws when the environment is accepted. */
export function configErrorOf(schema: z.ZodType, env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(schema, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a configuration error, but the environment was accepted');
}
