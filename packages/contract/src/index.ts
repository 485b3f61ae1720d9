/**
 * The API's contract: every procedure's input and output schema. The server validates with
 * these; clients import them for forms and types. Nothing here may import server code.
 */
export * from './common.ts';
export * from './limits.ts';
export * from './auth.ts';
export * from './api-keys.ts';
export * from './sessions.ts';
export * from './messages.ts';
export * from './admin.ts';
export * from './graph.ts';
export * from './investigations.ts';
export * from './academy.ts';
export * from './search.ts';
export * from './project-settings.ts';
export * from './projects.ts';
export * from './knowledge.ts';
export * from './memories.ts';
export * from './account.ts';
export * from './retention.ts';
export * from './chat.ts';
export * from './conversations.ts';
export * from './shares.ts';
export * from './message-parts.ts';
