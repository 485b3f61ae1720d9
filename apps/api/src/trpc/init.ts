import { DriverException, OptimisticLockError } from '@threadstore/db';
import { DomainError, type Principal } from '@threadstore/domain';
import { getTRPCErrorFromUnknown, initTRPC, TRPCError } from '@trpc/server';
import * as z from 'zod';
import type { Context } from './context.ts';
import { isDatabaseUnavailable } from './database-unavailable.ts';

/** The one tRPC instance of the API; everything else builds on the helpers exported below. */
const t = initTRPC.context<Context>().create({
  // Always capture the stack; the formatter below decides per request whether it leaves the
  // server. (tRPC's own default reads process.env behind our back.)
  isDev: true,
  // Subscriptions (chat.stream, sessions.watch) travel as Server-Sent Events: a ping keeps idle
  // streams open through proxies, and a client hearing nothing for 20 s reconnects (resuming
  // from its last event id).
  sse: { ping: { enabled: true, intervalMs: 10_000 }, client: { reconnectAfterInactivityMs: 20_000 } },
  errorFormatter({ shape, error, ctx }) {
    const { stack, ...data } = shape.data;
    // A stack names files, paths and dependencies an attacker should not learn, so it leaves the
    // server only when API_EXPOSE_STACK_TRACES asks, whatever NODE_ENV says (the quick start runs
    // in development mode on machines others can reach). Errors raised before the context
    // exists (a malformed batch, say) have no ctx and so never carry one.
    const exposeStack = ctx?.config.API_EXPOSE_STACK_TRACES === true;
    const inputError = error.code === 'BAD_REQUEST' && error.cause instanceof z.ZodError ? error.cause : undefined;
    return {
      ...shape,
      // tRPC's own message for bad input is the issues array as JSON; one readable line per issue
      // serves a person better, and `zodError` below still carries the fields for code.
      message: inputError === undefined ? shape.message : z.prettifyError(inputError),
      data: {
        ...data,
        ...(exposeStack && stack !== undefined ? { stack } : {}),
        // Only for bad input: an output-validation ZodError is a server bug, and its issues
        // would describe internal data to the client.
        zodError: inputError === undefined ? null : z.flattenError(inputError),
        // What a refusal is about, in fields a client can act on: the limit and its value, the
        // two states of an illegal transition, the seconds to wait.
        details: error.cause instanceof DomainError ? (error.cause.details ?? null) : null,
      },
    };
  },
});

/**
 * Turns what domain functions and the database refuse into the tRPC error a client should see.
 * Anything left over is a bug and stays INTERNAL_SERVER_ERROR (logged with its stack).
 */
function translate(error: TRPCError): TRPCError | undefined {
  const cause = error.cause;
  if (error.code === 'INTERNAL_SERVER_ERROR' && isDatabaseUnavailable(cause)) {
    return new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'the database is unavailable; retry shortly', cause });
  }
  if (cause instanceof DomainError) return new TRPCError({ code: cause.code, message: cause.message, cause });
  if (cause instanceof OptimisticLockError) {
    return new TRPCError({ code: 'CONFLICT', message: 'changed by someone else meanwhile; reload and retry', cause });
  }
  if (cause instanceof DriverException) {
    const sqlState = (cause as { code?: unknown }).code;
    // Class 22 is "data exception" (a value PostgreSQL cannot store: bad encoding, out of range),
    // 54000 "program limit exceeded" (e.g. an index row too large), 08P01 "protocol violation"
    // (a NUL in a value inlined into the SQL text, which the protocol cannot carry): the input's
    // fault, not ours.
    if (typeof sqlState === 'string' && (sqlState.startsWith('22') || sqlState === '54000' || sqlState === '08P01')) {
      return new TRPCError({
        code: 'BAD_REQUEST',
        message: `the database refused a value (SQLSTATE ${sqlState})`,
        cause,
      });
    }
  }
  return undefined;
}

/**
 * Calls without credentials run within their bounded share of the pool (see call-share.ts), so
 * a burst of them cannot starve signed-in users, and mutations within theirs, so writes waiting
 * on a WAL flush cannot hold the connections reads need. Not subscriptions, and not `chat.send`:
 * they wait on the change feed or the model for most of their life, not on a database connection.
 */
const UNBOUNDED_WAITS = new Set(['chat.send']);

/** A middleware's result as tRPC types it: what `next()` resolved to, its context override included. */
type CallResult = { ok: true } | { ok: false; error: TRPCError };

/**
 * What every call goes through before its procedure, as one middleware rather than a chain of
 * five: tRPC copies the call's options (and the context, when a middleware extends it) at every
 * hop, which was a measurable share of the API's CPU per request. In order:
 *  1. timing and counting by procedure and outcome (the code a client sees);
 *  2. the caller's rate-limit budgets;
 *  3. the bounded pool shares of calls without credentials and of mutations;
 *  4. `admit`, the procedure kind's own check (a principal, its scopes, a user, an admin);
 * and what domain functions and the database refuse, turned into the error a client should see.
 */
async function guardCall<Result extends CallResult>(
  ctx: Context,
  path: string,
  type: string,
  admit: () => Promise<Result>,
): Promise<Result> {
  const started = performance.now();
  const record = (code: string) => {
    const labels = { procedure: path, type, code };
    ctx.metrics.calls.inc(labels);
    ctx.metrics.callSeconds.observe(labels, (performance.now() - started) / 1000);
  };
  let result: Result;
  try {
    for (const key of rateLimitKeys(ctx)) {
      const decision = await ctx.rateLimiter.take(key);
      if (!decision.allowed) {
        ctx.metrics.rateLimited.inc({ budget: key.startsWith('address:') ? 'address' : 'principal' });
        throw new DomainError('TOO_MANY_REQUESTS', `rate limit exceeded; retry in ${decision.retryAfterSeconds} s`, {
          retryAfterSeconds: decision.retryAfterSeconds,
        });
      }
    }
    const unauthenticated = ctx.principal === null || ctx.principal.kind === 'anonymous';
    const bounded = type !== 'subscription' && !UNBOUNDED_WAITS.has(path);
    const run = bounded && type === 'mutation' ? () => ctx.writeShare.run(admit) : admit;
    result = bounded && unauthenticated ? await ctx.anonymousShare.run(run) : await run();
  } catch (cause) {
    const error = getTRPCErrorFromUnknown(cause);
    const translated = translate(error) ?? error;
    record(translated.code);
    throw translated;
  }
  if (!result.ok) {
    const translated = translate(result.error);
    record((translated ?? result.error).code);
    if (translated !== undefined) throw translated;
    return result;
  }
  record('OK');
  return result;
}

/**
 * Whose budgets a call spends. Anyone can mint anonymous ids (a fresh X-Session-ID per request),
 * so anonymous visitors spend their address's budget as well as their own; users and API keys
 * only their own (many of them may sit behind one proxy).
 */
function rateLimitKeys(ctx: Pick<Context, 'principal' | 'clientAddress'>): string[] {
  const address = `address:${ctx.clientAddress ?? 'unknown'}`;
  if (ctx.principal === null) return [address];
  if (ctx.principal.kind === 'anonymous') return [principalKey(ctx.principal), address];
  return [principalKey(ctx.principal)];
}

function principalKey(principal: Principal): string {
  switch (principal.kind) {
    case 'user':
      return `user:${principal.userId}`;
    case 'apiKey':
      return `api-key:${principal.apiKeyId}`;
    case 'anonymous':
      return `anonymous:${principal.anonymousId}`;
  }
}

/** Any principal; API keys carry scopes: reading needs `read`, anything that changes data needs `write`. */
function requirePrincipal(ctx: Context, type: string): Principal {
  const { principal } = ctx;
  if (principal === null) {
    throw new DomainError('UNAUTHORIZED', ctx.authFailure ?? 'sign in, or send an API key or an X-Session-ID');
  }
  if (principal.kind === 'apiKey') {
    const needed = type === 'mutation' ? 'write' : 'read';
    if (!principal.scopes.includes(needed)) {
      throw new DomainError('FORBIDDEN', `this API key lacks the '${needed}' scope`, { scope: needed });
    }
  }
  return principal;
}

type SignedIn = Exclude<Principal, { kind: 'anonymous' }>;

function requireUser(ctx: Context, type: string): SignedIn {
  const principal = requirePrincipal(ctx, type);
  if (principal.kind === 'anonymous') {
    throw new DomainError('UNAUTHORIZED', 'sign in first: anonymous visitors cannot do this');
  }
  return principal;
}

function requireAdmin(ctx: Context, type: string): SignedIn {
  const principal = requirePrincipal(ctx, type);
  if (principal.kind === 'anonymous' || principal.role !== 'admin') {
    throw new DomainError('FORBIDDEN', 'administrators only');
  }
  return principal;
}

/** @see https://trpc.io/docs/v11/server/routers */
export const router = t.router;
/** Anyone, signed in or not (health, sign-up, sign-in). @see https://trpc.io/docs/v11/server/procedures */
export const publicProcedure = t.procedure.use(({ ctx, path, type, next }) => guardCall(ctx, path, type, () => next()));
/** Any principal: a user, an API key (scoped: queries need `read`, mutations `write`) or an anonymous visitor. */
export const principalProcedure = t.procedure.use(({ ctx, path, type, next }) =>
  guardCall(ctx, path, type, () => next({ ctx: { principal: requirePrincipal(ctx, type) } })),
);
/** A signed-in user, directly or through an API key; never an anonymous visitor. */
export const userProcedure = t.procedure.use(({ ctx, path, type, next }) =>
  guardCall(ctx, path, type, () => next({ ctx: { principal: requireUser(ctx, type) } })),
);
/** Users with the admin role (directly or through their API key); every other principal gets FORBIDDEN. */
export const adminProcedure = t.procedure.use(({ ctx, path, type, next }) =>
  guardCall(ctx, path, type, () => next({ ctx: { principal: requireAdmin(ctx, type) } })),
);
/** @see https://trpc.io/docs/v11/server/server-side-calls */
export const createCallerFactory = t.createCallerFactory;
