import { createRequire } from 'node:module';

/**
 * This build's version, from package.json. The path is relative to this file and resolves to
 * the same package.json from src/ (node --watch, tests) and from dist/ (node dist/main.js).
 */
export const API_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
