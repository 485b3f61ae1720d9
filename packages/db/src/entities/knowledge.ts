import { defineEntity, p, type InferEntity, type Opt } from '@mikro-orm/core';
import { check, createdAt, deletedAt, FTS_SOURCE_CHARS, touchUpdatedAt, updatedAt, uuidPrimaryKey } from './columns.ts';
import { ProjectSchema, UserSchema } from './identity.ts';

export const KNOWLEDGE_SOURCE_TYPES = ['url', 'pdf', 'text', 'file'] as const;
export type KnowledgeSourceType = (typeof KNOWLEDGE_SOURCE_TYPES)[number];

/** A document the assistant can cite, searchable by full text (title weighs more than body). */
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
    // Computed by PostgreSQL; `Opt` tells the ORM's types that nobody supplies it on create.
    searchVector: p
      .type('tsvector')
      .$type<Opt<string>>()
      .generated(
        `(setweight(to_tsvector('simple'::regconfig, title), 'A') || setweight(to_tsvector('simple'::regconfig, left(content, ${FTS_SOURCE_CHARS})), 'B')) stored`,
      )
      .lazy()
      .hidden(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: deletedAt(),
  },
  indexes: [{ name: 'knowledge_entries_search_vector_index', properties: ['searchVector'], type: 'gin' }],
  checks: [check('knowledge_entries', 'url_source_has_url', "source_type <> 'url' or source_url is not null")],
  triggers: [touchUpdatedAt()],
});
export type KnowledgeEntry = InferEntity<typeof KnowledgeEntrySchema>;
