import * as z from 'zod';
import { ZCursor, ZId, ZJsonObject, ZPage, ZTimestamp } from './common.ts';
import { ZSearchLanguage, ZSearchQuery } from './search.ts';
import { ZKey } from './sessions.ts';

export const ZKnowledgeSourceType = z.enum(['url', 'pdf', 'text', 'file']);

const ZTag = ZKey(64);
const ZTags = z
  .array(ZTag)
  .max(32)
  .refine((tags) => new Set(tags).size === tags.length, 'each tag at most once');
const ZTitle = z.string().trim().min(1).max(512);

/** A knowledge entry without its body: what listings and search hits carry. */
export const ZKnowledgeEntrySummary = z.object({
  id: ZId,
  projectId: ZId.nullable(),
  title: z.string(),
  tags: z.array(z.string()),
  language: ZSearchLanguage,
  sourceType: ZKnowledgeSourceType,
  sourceUrl: z.string().nullable(),
  clientKey: z.string().nullable(),
  metadata: ZJsonObject,
  /** Characters of the body. */
  contentLength: z.number().int().nonnegative(),
  version: z.number().int().positive(),
  createdAt: ZTimestamp,
  updatedAt: ZTimestamp,
});
export type TKnowledgeEntrySummary = z.infer<typeof ZKnowledgeEntrySummary>;

export const ZKnowledgeEntry = ZKnowledgeEntrySummary.extend({
  /** Markdown. */
  content: z.string(),
});
export type TKnowledgeEntry = z.infer<typeof ZKnowledgeEntry>;

const newEntryFields = {
  title: ZTitle,
  /** Markdown, of any length up to the request body limit; all of it is searchable. */
  content: z.string(),
  tags: ZTags.optional(),
  /** For stemming: `english`, `portuguese` or `simple` (the default: no stemming). */
  language: ZSearchLanguage.optional(),
  sourceUrl: z.url().max(2048).optional(),
  /** Defaults to `url` with a sourceUrl, else `text`. */
  sourceType: ZKnowledgeSourceType.optional(),
  /** One of the caller's own projects. */
  projectId: ZId.optional(),
  metadata: ZJsonObject.optional(),
};

export const ZCreateKnowledgeInput = z.strictObject({
  ...newEntryFields,
  /** The entry's id in the caller's own system, unique among the caller's entries. */
  clientKey: ZKey(255).optional(),
});
export type TCreateKnowledgeInput = z.infer<typeof ZCreateKnowledgeInput>;

export const ZImportKnowledgeInput = z.strictObject({
  /** All are stored or none. An entry whose clientKey the caller already uses is returned as stored. */
  entries: z
    .array(z.strictObject({ ...newEntryFields, clientKey: ZKey(255) }))
    .min(1)
    .max(1_000)
    .refine(
      (entries) => new Set(entries.map((entry) => entry.clientKey)).size === entries.length,
      'each clientKey at most once',
    ),
});
export type TImportKnowledgeInput = z.infer<typeof ZImportKnowledgeInput>;

export const ZImportKnowledgeOutput = z.object({
  /** In the order given. */
  entries: z.array(ZKnowledgeEntrySummary),
  created: z.number().int().nonnegative(),
  existing: z.number().int().nonnegative(),
});
export type TImportKnowledgeOutput = z.infer<typeof ZImportKnowledgeOutput>;

export const ZKnowledgeIdInput = z.strictObject({ id: ZId });
export type TKnowledgeIdInput = z.infer<typeof ZKnowledgeIdInput>;

export const ZUpdateKnowledgeInput = z
  .strictObject({
    id: ZId,
    expectedVersion: z.number().int().positive().optional(),
    title: ZTitle.optional(),
    content: z.string().optional(),
    tags: ZTags.optional(),
    language: ZSearchLanguage.optional(),
    /** null clears it. */
    sourceUrl: z.url().max(2048).nullable().optional(),
    sourceType: ZKnowledgeSourceType.optional(),
    /** null takes the entry out of its project. */
    projectId: ZId.nullable().optional(),
    metadata: ZJsonObject.optional(),
  })
  .refine((input) => Object.keys(input).some((key) => key !== 'id' && key !== 'expectedVersion'), {
    message: 'nothing to update',
  });
export type TUpdateKnowledgeInput = z.infer<typeof ZUpdateKnowledgeInput>;

export const ZDeleteKnowledgeOutput = z.object({ id: ZId, deletedAt: ZTimestamp });
export type TDeleteKnowledgeOutput = z.infer<typeof ZDeleteKnowledgeOutput>;

const filterFields = {
  projectId: ZId.optional(),
  /** Entries carrying every one of these tags. */
  tags: z.array(ZTag).min(1).max(32).optional(),
  createdAfter: ZTimestamp.optional(),
  createdBefore: ZTimestamp.optional(),
  limit: z.number().int().positive().optional(),
  cursor: ZCursor.optional(),
};

export const ZListKnowledgeInput = z.strictObject(filterFields).prefault({});
export type TListKnowledgeInput = z.infer<typeof ZListKnowledgeInput>;

export const ZKnowledgePage = ZPage(ZKnowledgeEntrySummary);
export type TKnowledgePage = z.infer<typeof ZKnowledgePage>;

export const ZSearchKnowledgeInput = z.strictObject({
  query: ZSearchQuery,
  /** As-you-type: the last word also matches words it begins. */
  prefix: z.boolean().default(false),
  /** Only entries written in this language. */
  language: ZSearchLanguage.optional(),
  ...filterFields,
});
export type TSearchKnowledgeInput = z.infer<typeof ZSearchKnowledgeInput>;

export const ZKnowledgeHit = z.object({
  entry: ZKnowledgeEntrySummary,
  /** Higher is better; title matches weigh more than body matches. */
  rank: z.number(),
  /** The best-matching passage, matched words wrapped in <b>…</b> (other markup escaped). */
  snippet: z.string(),
});
export type TKnowledgeHit = z.infer<typeof ZKnowledgeHit>;

export const ZKnowledgeSearchPage = ZPage(ZKnowledgeHit);
export type TKnowledgeSearchPage = z.infer<typeof ZKnowledgeSearchPage>;
