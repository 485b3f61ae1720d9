export * from './lifecycle.ts';
export { findOwnedInvestigation, toInvestigationDto } from './access.ts';
export * from './investigations.ts';
