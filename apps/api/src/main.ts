import { runService } from '@threadstore/runtime';
import { apiEnvSchema } from './env.ts';
import { createApiServer } from './server.ts';

await runService({
  name: 'api',
  configSchema: apiEnvSchema,
  async start({ config, logger, orm }) {
    const api = createApiServer({ orm, logger, config });
    const { port } = await api.listen();
    return { startedMessage: 'listening', startedFields: { host: config.API_HOST, port }, stop: () => api.close() };
  },
});
