/** What other apps (the API's admin procedures) may know of the worker's jobs. */
export { jobs } from './registry.ts';
export type { JobContract } from './contract.ts';
