import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { check, createdAt, deletedAt, touchUpdatedAt, updatedAt, uuidPrimaryKey } from './columns.ts';
import { ProjectSchema, UserSchema } from './identity.ts';

/**
 * The run lifecycle of an agent session: created → running → completed | failed | killed.
 * `deleted` marks a session its owner deleted (kept until retention purges it).
 */
export const SESSION_STATUSES = ['created', 'running', 'completed', 'failed', 'killed', 'deleted'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

export const MESSAGE_ROLES = ['system', 'user', 'assistant', 'tool'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

/** Exact money: numeric(20, 10) holds a billion dollars to a ten-billionth of a cent-fraction. */
const money = () => p.decimal('string').precision(20).scale(10).default('0');

/**
 * A conversation, which may also be an agent run. Owned by exactly one principal: a signed-in
 * user, or an anonymous visitor's client-generated id until they sign in and claim it.
 */
export const ChatSessionSchema = defineEntity({
  name: 'ChatSession',
  tableName: 'chat_sessions',
  properties: {
    id: uuidPrimaryKey(),
    user: () => p.manyToOne(UserSchema).nullable().deleteRule('cascade'),
    anonymousId: p.uuid().nullable(),
    project: () => p.manyToOne(ProjectSchema).nullable().deleteRule('set null').index('chat_sessions_project_id_index'),
    // A caller-chosen key for get-or-create (e.g. the frontend's conversation id), unique per owner.
    clientKey: p.string().length(255).nullable(),
    title: p.string().length(512).nullable(),
    agentId: p.string().length(255).nullable(),
    context: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    metadata: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    problemStatement: p.text().nullable(),
    status: p.enum(SESSION_STATUSES).default('created'),
    phase: p.string().length(128).nullable(),
    roundNumber: p.integer().default(0),
    totalCost: money(),
    synthesis: p.text().nullable(),
    finalRecommendation: p.text().nullable(),
    error: p.text().nullable(),
    startedAt: p.datetime().nullable(),
    finishedAt: p.datetime().nullable(),
    // Last sign of life of a running agent; the stuck-run reaper reads it.
    lastProgressAt: p.datetime().nullable(),
    lastSeq: p.bigint('number').default(0),
    messageCount: p.bigint('number').default(0),
    lastMessageAt: p.datetime().nullable(),
    // Ordering key for "recent conversations" and the clock retention measures inactivity by.
    lastActivityAt: p
      .datetime()
      .onCreate(() => new Date())
      .defaultRaw('now()'),
    archivedAt: p.datetime().nullable(),
    deletedAt: deletedAt(),
    version: p.integer().version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  uniques: [
    { name: 'chat_sessions_user_client_key_unique', properties: ['user', 'clientKey'] },
    { name: 'chat_sessions_anonymous_client_key_unique', properties: ['anonymousId', 'clientKey'] },
  ],
  indexes: [
    // Keyset listing, newest activity first, per owner (sessions.list).
    { name: 'chat_sessions_user_activity_index', properties: ['user', 'lastActivityAt', 'id'] },
    { name: 'chat_sessions_user_created_index', properties: ['user', 'createdAt', 'id'] },
    { name: 'chat_sessions_anonymous_activity_index', properties: ['anonymousId', 'lastActivityAt', 'id'] },
    // Retention scans by inactivity; the reaper by running + last progress.
    { name: 'chat_sessions_last_activity_index', properties: ['lastActivityAt'] },
    {
      name: 'chat_sessions_running_index',
      expression: `create index "chat_sessions_running_index" on "chat_sessions" ("last_progress_at") where "status" = 'running'`,
    },
  ],
  checks: [
    check('chat_sessions', 'one_owner', 'num_nonnulls(user_id, anonymous_id) = 1'),
    check('chat_sessions', 'round_number_non_negative', 'round_number >= 0'),
    check('chat_sessions', 'total_cost_non_negative', 'total_cost >= 0'),
    check('chat_sessions', 'last_seq_non_negative', 'last_seq >= 0'),
    check('chat_sessions', 'message_count_non_negative', 'message_count >= 0'),
    check('chat_sessions', 'message_count_within_seq', 'message_count <= last_seq'),
    check('chat_sessions', 'version_positive', 'version >= 1'),
  ],
  triggers: [touchUpdatedAt()],
});
export type ChatSession = InferEntity<typeof ChatSessionSchema>;

/** Token usage and cost, as reported by the model provider for one message. */
export const ChatMessageSchema = defineEntity({
  name: 'ChatMessage',
  tableName: 'chat_messages',
  properties: {
    id: uuidPrimaryKey(),
    session: () => p.manyToOne(ChatSessionSchema).deleteRule('cascade'),
    // Position in the session: 1, 2, 3, … with no gaps; assigned from chat_sessions.last_seq.
    seq: p.bigint('number'),
    // The message this one answers or branches from, always of the same session (the append path
    // checks that). Deliberately no foreign key: an FK's per-row trigger on every deleted message
    // made retention spend most of its time on ON DELETE SET NULL lookups. A reply may outlive
    // its parent (a soft-deleted message purged after its grace period); thread walks stop there.
    parent: () => p.manyToOne(ChatMessageSchema).nullable().createForeignKeyConstraint(false),
    role: p.enum(MESSAGE_ROLES),
    content: p.text(),
    agentId: p.string().length(255).nullable(),
    chapter: p.string().length(255).nullable(),
    citations: p.json<unknown[]>().nullable(),
    toolCalls: p.json<unknown[]>().nullable(),
    metadata: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    model: p.string().length(255).nullable(),
    promptTokens: p.integer().nullable(),
    completionTokens: p.integer().nullable(),
    cost: p.decimal('string').precision(20).scale(10).nullable(),
    latencyMs: p.integer().nullable(),
    // Idempotency key chosen by the client; a retried append finds the stored message by it.
    clientMessageId: p.string().length(255).nullable(),
    // Fingerprint of the append's payload, to tell a true retry from a reused key.
    requestHash: p.string().length(64).nullable().hidden(),
    sanitized: p.boolean().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: deletedAt(),
  },
  uniques: [
    { name: 'chat_messages_session_seq_unique', properties: ['session', 'seq'] },
    { name: 'chat_messages_session_client_message_id_unique', properties: ['session', 'clientMessageId'] },
  ],
  indexes: [
    { name: 'chat_messages_session_chapter_seq_index', properties: ['session', 'chapter', 'seq'] },
    // Stats and retention read messages by time; BRIN costs kilobytes on an append-ordered column.
    { name: 'chat_messages_created_at_index', properties: ['createdAt'], type: 'brin' },
  ],
  checks: [
    check('chat_messages', 'seq_positive', 'seq >= 1'),
    check('chat_messages', 'prompt_tokens_non_negative', 'prompt_tokens >= 0'),
    check('chat_messages', 'completion_tokens_non_negative', 'completion_tokens >= 0'),
    check('chat_messages', 'cost_non_negative', 'cost >= 0'),
    check('chat_messages', 'latency_non_negative', 'latency_ms >= 0'),
    check('chat_messages', 'client_message_id_not_blank', 'length(client_message_id) > 0'),
    check('chat_messages', 'not_own_parent', 'parent_id <> id'),
  ],
  triggers: [touchUpdatedAt()],
});
export type ChatMessage = InferEntity<typeof ChatMessageSchema>;

/**
 * Full-text search over messages, kept off the append path. Computing `to_tsvector` and adding
 * its GIN entries was about 75% of what storing a message cost (bench/results/api-2026-11-22.md),
 * so an append only queues the message's id (`ChatMessageSearchQueue`) and the worker's search
 * indexer fills this table in batches, seconds later.
 *
 * Deliberately no foreign keys: a per-row RI trigger on every deleted message is what made
 * retention slow before (see `parent` above). Whoever hard-deletes messages deletes their rows
 * here in the same statement (retention, sessions.purge); a row left behind is never shown,
 * because every search joins the message and its session and keeps only visible ones.
 */
export const ChatMessageSearchSchema = defineEntity({
  name: 'ChatMessageSearch',
  tableName: 'chat_message_search',
  properties: {
    messageId: p.uuid().primary(),
    // Copied from the message so a search within one session can be answered from this table.
    sessionId: p.uuid().index('chat_message_search_session_id_index'),
    searchVector: p.type('tsvector'),
  },
  indexes: [{ name: 'chat_message_search_vector_index', properties: ['searchVector'], type: 'gin' }],
});
export type ChatMessageSearch = InferEntity<typeof ChatMessageSearchSchema>;

/**
 * Messages stored but not yet indexed for search: the append statement adds each new message's
 * id here (a few microseconds, no text processing), and the search indexer takes them out in
 * batches with `FOR UPDATE SKIP LOCKED`, so any number of workers can drain it side by side.
 */
export const ChatMessageSearchQueueSchema = defineEntity({
  name: 'ChatMessageSearchQueue',
  tableName: 'chat_message_search_queue',
  properties: {
    messageId: p.uuid().primary(),
  },
});
export type ChatMessageSearchQueue = InferEntity<typeof ChatMessageSearchQueueSchema>;
