import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { check, createdAt, touchUpdatedAt, updatedAt, uuidPrimaryKey } from './columns.ts';
import { ChatMessageSchema } from './conversation.ts';
import { UserSchema } from './identity.ts';

export const MEMORY_KINDS = ['short_term', 'episodic', 'long_term'] as const;
export type MemoryKind = (typeof MEMORY_KINDS)[number];

/**
 * What an assistant remembers about a user. A memory is never edited in place: a newer one
 * supersedes it (superseded_by), so the history of what was believed stays inspectable.
 */
export const MemorySchema = defineEntity({
  name: 'Memory',
  tableName: 'memories',
  properties: {
    id: uuidPrimaryKey(),
    user: () => p.manyToOne(UserSchema).deleteRule('cascade'),
    kind: p.enum(MEMORY_KINDS),
    key: p.string().length(255).nullable(),
    content: p.text(),
    importance: p.decimal('number').precision(4).scale(3).default(0.5),
    metadata: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    // Provenance, not ownership: no foreign key, so purging old messages never waits on a per-row
    // trigger here; a memory keeps its (then dangling) source id after the message is gone.
    sourceMessage: () =>
      p
        .manyToOne(ChatMessageSchema)
        .nullable()
        .createForeignKeyConstraint(false)
        .index('memories_source_message_id_index'),
    expiresAt: p.datetime().nullable(),
    supersededBy: () =>
      p.manyToOne(MemorySchema).nullable().deleteRule('set null').index('memories_superseded_by_id_index'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  indexes: [
    {
      name: 'memories_user_current_index',
      expression:
        'create index "memories_user_current_index" on "memories" ("user_id", "kind", "key") where "superseded_by_id" is null',
    },
    {
      name: 'memories_expires_at_index',
      expression:
        'create index "memories_expires_at_index" on "memories" ("expires_at") where "expires_at" is not null',
    },
  ],
  checks: [
    check('memories', 'importance_range', 'importance >= 0 and importance <= 1'),
    check('memories', 'not_own_successor', 'superseded_by_id <> id'),
  ],
  triggers: [touchUpdatedAt()],
});
export type Memory = InferEntity<typeof MemorySchema>;
