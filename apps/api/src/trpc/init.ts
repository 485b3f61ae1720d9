import { initTRPC } from '@trpc/server';
import * as z from 'zod';
import type { Context } from './context.ts';

/** The one tRPC instance of the API; everything else builds on the helpers exported below. */
const t = initTRPC.context<Context>().create({
  // Always capture the stack; the formatter below decides per request whether it leaves the
  // server. (tRPC's own default reads process.env behind our back.)
  isDev: true,
  errorFormatter({ shape, error, ctx }) {
    const { stack, ...data } = shape.data;
    // Errors raised before the context exists (a malformed batch, say) have no ctx and so
    // never carry a stack: a stack names files and dependencies an attacker should not learn.
    const exposeStack = ctx?.config.NODE_ENV === 'development' || ctx?.config.NODE_ENV === 'test';
    return {
      ...shape,
      data: {
        ...data,
        ...(exposeStack && stack !== undefined ? { stack } : {}),
        // Only for bad input: an output-validation ZodError is a server bug, and its issues
        // would describe internal data to the client.
        zodError:
          error.code === 'BAD_REQUEST' && error.cause instanceof z.ZodError ? z.flattenError(error.cause) : null,
      },
    };
  },
});

/** @see https://trpc.io/docs/v11/server/routers */
export const router = t.router;
/** @see https://trpc.io/docs/v11/server/procedures */
export const publicProcedure = t.procedure;
/** @see https://trpc.io/docs/v11/server/server-side-calls */
export const createCallerFactory = t.createCallerFactory;
