import * as z from 'zod';

/** Every id Threadstore hands out is a UUID (v7, so ids sort by creation). */
export const ZId = z.uuid();

/**
 * An opaque keyset cursor. Clients pass back exactly what a page returned; the server binds it
 * to its owner and its listing, so a cursor is useless to anyone else.
 */
export const ZCursor = z.string().min(1).max(512);

/** Timestamps travel as ISO 8601 strings in UTC, so JSON clients need no transformer. */
export const ZTimestamp = z.iso.datetime({ offset: true });

/** Exact money as a decimal string (numeric(20,10) on the server): never a float. */
export const ZMoney = z.string().regex(/^\d{1,10}(\.\d{1,10})?$/, 'a non-negative decimal with at most 10 decimals');

/** Free-form JSON objects (context, metadata). The server bounds their size and depth. */
export const ZJsonObject = z.record(z.string(), z.unknown());

/** A page of a keyset listing: `nextCursor` is null on the last page. */
export function ZPage<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: ZCursor.nullable() });
}
