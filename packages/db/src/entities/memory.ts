import { defineEntity, p, type InferEntity, type Opt } from '@mikro-orm/core';
import {
  check,
  createdAt,
  TEXT_SEARCH_LANGUAGES,
  touchUpdatedAt,
  tsVectorByLanguage,
  updatedAt,
  uuidPrimaryKey,
} from './columns.ts';
import { ChatMessageSchema } from './conversation.ts';
import { ProjectSchema, UserSchema } from './identity.ts';

export const MEMORY_KINDS = ['short_term', 'episodic', 'long_term'] as const;
export type MemoryKind = (typeof MEMORY_KINDS)[number];

/**
 * SQL for the hash of `textSql` normalised as duplicates are judged: NFKC, trimmed, runs of
 * whitespace as one space, lower case. The generated `content_hash` column and the domain's
 * lookups use this one spelling.
 */
export const memoryContentHashSql = (textSql: string) =>
  `md5(lower(regexp_replace(btrim(normalize(${textSql}, NFKC)), '\\s+', ' ', 'g')))`;

/**
 * What an assistant remembers about a user. One row is one version of a memory: a memory (its
 * `lineage_id`, the id of its first version) is never edited in place. An update closes the
 * current version (`valid_to`, `superseded_by_id`) and inserts the next one, valid from the same
 * instant; a delete closes the current version without a successor. So the history of what was
 * believed stays inspectable, and "what was known at time t" is the version whose
 * [valid_from, valid_to) holds t.
 */
export const MemorySchema = defineEntity({
  name: 'Memory',
  tableName: 'memories',
  properties: {
    id: uuidPrimaryKey(),
    user: () => p.manyToOne(UserSchema).deleteRule('cascade'),
    // The memory this row is a version of: the id of its first version.
    lineageId: p.uuid().$type<Opt<string>>(),
    versionNumber: p.integer().default(1),
    kind: p.enum(MEMORY_KINDS),
    key: p.string().length(255).nullable(),
    // What the memory is about ("user", "user.diet", "project.deadline"); duplicates are judged
    // per subject.
    subject: p.string().length(255).default('user'),
    content: p.text(),
    contentHash: p
      .string()
      .length(32)
      .$type<Opt<string>>()
      .generated(`(${memoryContentHashSql('content')}) stored`)
      .lazy()
      .hidden(),
    importance: p.decimal('number').precision(4).scale(3).default(0.5),
    confidence: p.decimal('number').precision(4).scale(3).default(1),
    language: p.enum(TEXT_SEARCH_LANGUAGES).default('simple'),
    metadata: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    project: () => p.manyToOne(ProjectSchema).nullable().deleteRule('set null').index('memories_project_id_index'),
    agentId: p.string().length(255).nullable(),
    // Provenance, not ownership: no foreign key, so purging old messages never waits on a per-row
    // trigger here; a memory keeps its (then dangling) source ids after the session or message is gone.
    sourceSessionId: p.uuid().nullable(),
    sourceMessage: () =>
      p
        .manyToOne(ChatMessageSchema)
        .nullable()
        .createForeignKeyConstraint(false)
        .index('memories_source_message_id_index'),
    expiresAt: p.datetime().nullable(),
    validFrom: p
      .datetime()
      .onCreate(() => new Date())
      .defaultRaw('now()'),
    validTo: p.datetime().nullable(),
    supersededBy: () =>
      p.manyToOne(MemorySchema).nullable().deleteRule('set null').index('memories_superseded_by_id_index'),
    searchVector: p
      .type('tsvector')
      .$type<Opt<string>>()
      .generated(`(${tsVectorByLanguage('language', 'content')}) stored`)
      .lazy()
      .hidden(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  uniques: [
    { name: 'memories_lineage_version_unique', properties: ['lineageId', 'versionNumber'] },
    // Idempotent create: one current memory per owner, project, subject, key and normalised content.
    {
      name: 'memories_current_content_unique',
      expression: `create unique index "memories_current_content_unique" on "memories" ("user_id", coalesce("project_id", '00000000-0000-0000-0000-000000000000'::uuid), "subject", coalesce("key", ''), "content_hash") where "valid_to" is null`,
    },
  ],
  indexes: [
    // memories.context and memories.list read a user's current versions through this index only.
    {
      name: 'memories_user_current_index',
      expression:
        'create index "memories_user_current_index" on "memories" ("user_id", "valid_from", "id") where "valid_to" is null',
    },
    {
      name: 'memories_expires_at_index',
      expression:
        'create index "memories_expires_at_index" on "memories" ("expires_at") where "expires_at" is not null',
    },
  ],
  checks: [
    check('memories', 'importance_range', 'importance >= 0 and importance <= 1'),
    check('memories', 'confidence_range', 'confidence >= 0 and confidence <= 1'),
    check('memories', 'not_own_successor', 'superseded_by_id <> id'),
    check('memories', 'valid_interval', 'valid_to is null or valid_to >= valid_from'),
    check('memories', 'version_positive', 'version_number >= 1'),
  ],
  triggers: [
    touchUpdatedAt(),
    {
      // A first version is its own lineage; SQL that inserts memories need not know the rule.
      name: 'default_lineage',
      timing: 'before' as const,
      events: ['insert' as const],
      forEach: 'row' as const,
      body: 'if new.lineage_id is null then new.lineage_id := new.id; end if; return new;',
    },
  ],
});
export type Memory = InferEntity<typeof MemorySchema>;
