import { ZImportMessagesOutput } from '@threadstore/contract';
import { importMessages } from '@threadstore/domain';
import { octetInputParser } from '@trpc/server/http';
import { actorOf } from '../../trpc/context.ts';
import { principalProcedure } from '../../trpc/init.ts';

/**
 * `messages.import`: an NDJSON body (`application/octet-stream`, one `ZImportMessageLine` per
 * line) streamed into the caller's sessions, all or nothing per request. tRPC 11 hands a
 * non-JSON body to the procedure as a ReadableStream (`octetInputParser`), so the lines are
 * parsed, validated and COPYed as they arrive; the zod schema of each line is applied by the
 * domain function, line by line, naming the line it refuses. The server routes this one path to
 * a handler with its own body limit, `LIMIT_MAX_IMPORT_BYTES` (server.ts).
 */
export const importStream = principalProcedure
  .input(octetInputParser)
  .output(ZImportMessagesOutput)
  .mutation(({ ctx, input }) =>
    importMessages(ctx.em, actorOf(ctx), input as unknown as AsyncIterable<Uint8Array>, ctx.limits),
  );
