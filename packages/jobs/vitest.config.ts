import { defineProject } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.ts';

// Definitions need no database, so this package skips the shared PostgreSQL global setup.
const { globalSetup: _databaseSetup, ...shared } = sharedTestConfig.test ?? {};
export default defineProject({ test: { ...shared, name: 'jobs' } });
