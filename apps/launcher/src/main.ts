import { loadDotEnvFile } from '@threadstore/db';
import { createLogger, loadConfigOrExit } from '@threadstore/runtime';
import { launcherEnvSchema } from './env.ts';
import { launch } from './launcher.ts';

// Settings from the repository's .env, under those the environment already sets.
loadDotEnvFile();

const env = loadConfigOrExit(launcherEnvSchema);
const logger = createLogger('launcher', env.LOG_LEVEL);
// Run the apps the way the launcher itself runs: compiled (`dist/main.js`) or from source.
const mode = process.argv.includes('--watch') ? 'watch' : import.meta.filename.endsWith('.ts') ? 'source' : 'built';

// Signal handlers go in before anything starts: a signal that arrives while PostgreSQL or the
// apps are still starting must stop them once they are up, not kill the launcher and orphan them.
let launched: Awaited<ReturnType<typeof launch>> | undefined;
let stopRequested = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopRequested) return;
    stopRequested = true;
    logger.info({ signal }, 'stopping api, worker and database');
    void launched?.stop();
  });
}

try {
  launched = await launch({ env, logger, mode });
  if (stopRequested) void launched.stop();
  const code = await launched.finished;
  logger.info({ code }, 'stopped');
  process.exit(code);
} catch (error) {
  logger.fatal({ err: error }, 'could not start Threadstore');
  process.exit(1);
}
