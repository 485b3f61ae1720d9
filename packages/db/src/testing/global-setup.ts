import type { TestProject } from 'vitest/node';
import { createTemplateDatabase, dropDatabase, type TestPostgres } from './databases.ts';
import { startTestPostgres } from './postgres-server.ts';

declare module 'vitest' {
  interface ProvidedContext {
    testPostgres: TestPostgres;
  }
}

/**
 * Vitest global setup shared by every package: one PostgreSQL server per test run and one
 * migrated template database on it. Test files clone the template (`createTestDatabase`), so
 * each file starts from a clean, fully migrated schema without re-running migrations.
 */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startTestPostgres();
  const template = `threadstore_template_${process.pid}`;
  try {
    await createTemplateDatabase(server.adminUrl, template);
  } catch (error) {
    await server.stop();
    throw error;
  }
  project.provide('testPostgres', { adminUrl: server.adminUrl, template, serverVersion: server.serverVersion });
  return async () => {
    await dropDatabase(server.adminUrl, template);
    await server.stop();
  };
}
