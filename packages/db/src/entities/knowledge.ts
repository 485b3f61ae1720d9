import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import {
  check,
  createdAt,
  deletedAt,
  TEXT_SEARCH_LANGUAGES,
  touchUpdatedAt,
  updatedAt,
  uuidPrimaryKey,
} from './columns.ts';
import { ProjectSchema, UserSchema } from './identity.ts';

export const KNOWLEDGE_SOURCE_TYPES = ['url', 'pdf', 'text', 'file'] as const;
export type KnowledgeSourceType = (typeof KNOWLEDGE_SOURCE_TYPES)[number];

/**
 * A document the assistant can cite: a title, a Markdown body, tags, a language. Its full-text
 * index lives in `knowledge_chunks`, so a body of any length stays searchable to its last word.
 */
export const KnowledgeEntrySchema = defineEntity({
  name: 'KnowledgeEntry',
  tableName: 'knowledge_entries',
  properties: {
    id: uuidPrimaryKey(),
    owner: () => p.manyToOne(UserSchema).deleteRule('cascade').index('knowledge_entries_owner_id_index'),
    project: () =>
      p.manyToOne(ProjectSchema).nullable().deleteRule('set null').index('knowledge_entries_project_id_index'),
    title: p.string().length(512),
    content: p.text(),
    sourceType: p.enum(KNOWLEDGE_SOURCE_TYPES),
    sourceUrl: p.string().length(2048).nullable(),
    metadata: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    language: p.enum(TEXT_SEARCH_LANGUAGES).default('simple'),
    tags: p.array().$type<string[]>().defaultRaw(`'{}'`),
    // The caller's own key for the entry (its id in the source system): knowledge.import is
    // idempotent by it.
    clientKey: p.string().length(255).nullable(),
    version: p.integer().version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: deletedAt(),
  },
  uniques: [{ name: 'knowledge_entries_owner_client_key_unique', properties: ['owner', 'clientKey'] }],
  indexes: [
    // Keyset listing per owner, newest first (knowledge.list).
    { name: 'knowledge_entries_owner_created_index', properties: ['owner', 'createdAt', 'id'] },
    { name: 'knowledge_entries_tags_index', properties: ['tags'], type: 'gin' },
  ],
  checks: [
    check('knowledge_entries', 'url_source_has_url', "source_type <> 'url' or source_url is not null"),
    check('knowledge_entries', 'version_positive', 'version >= 1'),
  ],
  triggers: [touchUpdatedAt()],
});
export type KnowledgeEntry = InferEntity<typeof KnowledgeEntrySchema>;

/**
 * The full-text index of a knowledge entry, one row per slice of its body (the title rides in
 * the first, weighted above the body). PostgreSQL refuses a tsvector over 1 MB (error 54000), and
 * truncating a long body would hide its end from search without a word; slices of at most
 * KNOWLEDGE_CHUNK_CHARS characters keep every tsvector far below the limit, so a word near the
 * end of a 5 MB document is found like any other. Owner, project and language are copied from
 * the entry so a search filters and ranks from this table alone; written only by the domain's
 * knowledge SQL, in the same transaction as the entry.
 */
export const KnowledgeChunkSchema = defineEntity({
  name: 'KnowledgeChunk',
  tableName: 'knowledge_chunks',
  properties: {
    entry: () => p.manyToOne(KnowledgeEntrySchema).primary().deleteRule('cascade'),
    ordinal: p.integer().primary(),
    owner: () => p.manyToOne(UserSchema).deleteRule('cascade').createForeignKeyConstraint(false),
    project: () => p.manyToOne(ProjectSchema).nullable().createForeignKeyConstraint(false),
    language: p.enum(TEXT_SEARCH_LANGUAGES),
    // Where the slice sits in the entry's body, in characters (0-based), for its snippet.
    startChar: p.integer(),
    lengthChars: p.integer(),
    searchVector: p.type('tsvector'),
  },
  indexes: [
    { name: 'knowledge_chunks_search_vector_index', properties: ['searchVector'], type: 'gin' },
    { name: 'knowledge_chunks_owner_index', properties: ['owner'] },
  ],
});
export type KnowledgeChunk = InferEntity<typeof KnowledgeChunkSchema>;

/**
 * Characters per full-text slice of a knowledge entry's body; see KnowledgeChunkSchema. A hit's
 * snippet is `ts_headline` over its best slice, whose cost grows with the slice: 4,096 characters
 * (about 600 words; most entries are one slice) keep a snippet near a millisecond, where a
 * 32 KiB slice of a long document took tens. Slices written before keep their size.
 */
export const KNOWLEDGE_CHUNK_CHARS = 4_096;
