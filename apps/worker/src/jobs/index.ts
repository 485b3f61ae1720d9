/** The worker's jobs with their handlers, for the benchmarks that run a handler in their own process. */
export { jobs } from './registry.ts';
export type { JobContract } from './contract.ts';
