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

/**
 * Where an answer the conversation loop generates stands: `generating` while a responder writes
 * it, `complete`, `incomplete` (a model error, a timeout or a cancel stopped it; `stop_reason`
 * says which) or `interrupted` (the API process writing it died). Null for every other message.
 */
export const GENERATION_STATUSES = ['generating', 'complete', 'incomplete', 'interrupted'] as const;
export type GenerationStatus = (typeof GENERATION_STATUSES)[number];

/** A turn of the conversation loop: queued behind another, running, or finished one of four ways. */
export const TURN_STATUSES = ['queued', 'running', 'completed', 'incomplete', 'interrupted', 'cancelled'] as const;
export type TurnStatus = (typeof TURN_STATUSES)[number];

/** The channel every change to a session is announced on (ids only, never content). */
export const CHANGES_CHANNEL = 'threadstore_changes';

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
    // Pinned sessions come first in sessions.list; null when not pinned.
    pinnedAt: p.datetime().nullable(),
    // The owner's labels, lower-cased (sessions.tag); a few per session, filtered and counted per owner.
    tags: p.array().$type<string[]>().defaultRaw(`'{}'`),
    // Where sessions.fork copied this session from (no foreign keys: the source may be purged first).
    forkedFromSessionId: p.uuid().nullable(),
    forkedFromMessageId: p.uuid().nullable(),
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
    // Pinned sessions head every listing; they are few, so a small partial index finds them per owner.
    {
      name: 'chat_sessions_user_pinned_index',
      expression: `create index "chat_sessions_user_pinned_index" on "chat_sessions" ("user_id") where "pinned_at" is not null`,
    },
    {
      name: 'chat_sessions_anonymous_pinned_index',
      expression: `create index "chat_sessions_anonymous_pinned_index" on "chat_sessions" ("anonymous_id") where "pinned_at" is not null`,
    },
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
    check('chat_sessions', 'tags_bounded', 'cardinality(tags) <= 32'),
  ],
  triggers: [
    touchUpdatedAt(),
    {
      // Every change to a session (an append bumps last_seq, so every message too) is announced
      // to the API processes' change feeds, committed or not at all with the change. Ids only: a
      // listener re-reads what it may see. Deletes are not announced (retention purges in bulk).
      // Except where the writer set `threadstore.announce = off` for its transaction: the API's
      // appends announce themselves after their commit, because a NOTIFY serializes commits
      // cluster-wide (see appendStatement's `quiet` in packages/domain/src/messages/append.ts).
      // The WHEN clause (checked as the row changes) keeps a quiet write from even queueing the
      // trigger's call for the end of the statement; the body's own check stays (it sees the same setting).
      name: 'announce_change',
      timing: 'after',
      events: ['insert', 'update'],
      forEach: 'row',
      // Spelled as PostgreSQL prints it back, which is what the schema diff compares.
      when: `(current_setting('threadstore.announce'::text, true) IS DISTINCT FROM 'off'::text)`,
      body: `if current_setting('threadstore.announce', true) is distinct from 'off' then perform pg_notify('${CHANGES_CHANNEL}', json_build_object('s', new.id, 'u', new.user_id, 'a', new.anonymous_id)::text); end if; return null;`,
    },
  ],
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
    // The conversation loop's answers only (null elsewhere): see GENERATION_STATUSES.
    generationStatus: p.enum(GENERATION_STATUSES).nullable(),
    stopReason: p.string().length(64).nullable(),
    // What was sent to the model for this answer: message and memory ids, token estimate.
    contextRecord: p.json<Record<string, unknown>>().nullable(),
    // The message sessions.fork copied this one from (another session's); no foreign key, like parent.
    forkedFromId: p.uuid().nullable(),
    // The typed parts (text, reasoning, tool calls and results, files, citations), in order, for
    // a message written as parts; null for one written as plain text (most), which costs nothing
    // but a bit in the row's null bitmap. `json`, not `jsonb`: kept byte for byte as written (key
    // order included), never queried inside, and not re-parsed into binary form on every append.
    // `content` holds the text parts joined, for search and for clients that show text only.
    parts: p.json<unknown[]>().columnType('json').nullable(),
    // 1 as appended; each messages.edit adds one and keeps the version it replaces in
    // chat_message_versions. A constant default: adding it rewrote no existing row.
    version: p.integer().default(1),
    editedAt: p.datetime().nullable(),
    // A user message sent as an edit of this earlier one (chat.send with editOf): a new branch
    // beside it. No foreign key, like parent_id.
    editOf: p.uuid().nullable(),
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
 * The earlier versions of edited messages, written only by messages.edit (an append never touches
 * this table): row `version` k holds what version k of the message said, and who replaced it with
 * version k + 1 and when. The current version stays in chat_messages.
 *
 * Owned through the session (a cascading foreign key, so account export, import and erasure find
 * it in the catalog); deliberately no foreign key to chat_messages, like chat_message_search: a
 * per-row trigger on every deleted message is what made retention slow. Whoever hard-deletes
 * single messages deletes their versions in the same statement (retention); a session's purge
 * takes them with the session.
 */
export const ChatMessageVersionSchema = defineEntity({
  name: 'ChatMessageVersion',
  tableName: 'chat_message_versions',
  properties: {
    id: uuidPrimaryKey(),
    session: () => p.manyToOne(ChatSessionSchema).deleteRule('cascade').index('chat_message_versions_session_id_index'),
    messageId: p.uuid(),
    version: p.integer(),
    content: p.text(),
    parts: p.json<unknown[]>().columnType('json').nullable(),
    metadata: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    sanitized: p.boolean().default(false),
    // The edit that replaced this version: who (as in audit_log) and when.
    replacedByType: p.string().length(32),
    replacedById: p.string().length(255),
    replacedAt: p
      .datetime()
      .onCreate(() => new Date())
      .defaultRaw('now()'),
  },
  uniques: [{ name: 'chat_message_versions_message_version_unique', properties: ['messageId', 'version'] }],
  checks: [check('chat_message_versions', 'version_positive', 'version >= 1')],
});
export type ChatMessageVersion = InferEntity<typeof ChatMessageVersionSchema>;

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
 *
 * `bulk` marks the ids a bulk import queued (messages.import). The indexer takes every other id
 * (appends, edits, the conversation loop's answers) first, so a message someone just wrote never
 * waits behind an import's backlog of hundreds of thousands. The partial index lists only those
 * interactive ids: it stays as small as the few queued at a time, and the import's rows pay no
 * entry in it.
 */
export const ChatMessageSearchQueueSchema = defineEntity({
  name: 'ChatMessageSearchQueue',
  tableName: 'chat_message_search_queue',
  properties: {
    messageId: p.uuid().primary(),
    bulk: p.boolean().default(false),
  },
  indexes: [
    {
      name: 'chat_message_search_queue_interactive_index',
      expression: `create index "chat_message_search_queue_interactive_index" on "chat_message_search_queue" ("message_id") where not "bulk"`,
    },
  ],
});
export type ChatMessageSearchQueue = InferEntity<typeof ChatMessageSearchQueueSchema>;

/**
 * One send of the conversation loop: the user's message, the answer it gets, and who is writing
 * that answer. At most one turn per session runs at a time (a partial unique index), which is
 * the one-writer-per-session rule across API processes; the writer is named by the backend pid
 * and start time of its process's listening connection, so a dead process is seen at once.
 */
export const ChatTurnSchema = defineEntity({
  name: 'ChatTurn',
  tableName: 'chat_turns',
  properties: {
    id: uuidPrimaryKey(),
    session: () => p.manyToOne(ChatSessionSchema).deleteRule('cascade'),
    // Links without foreign keys, like chat_messages.parent_id (retention deletes messages in bulk).
    userMessageId: p.uuid(),
    assistantMessageId: p.uuid().nullable(),
    clientMessageId: p.string().length(255).nullable(),
    status: p.enum(TURN_STATUSES),
    stopReason: p.string().length(64).nullable(),
    holderPid: p.integer().nullable(),
    holderStartedAt: p.datetime().nullable(),
    cancelRequested: p.boolean().default(false),
    startedAt: p.datetime().nullable(),
    finishedAt: p.datetime().nullable(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  uniques: [{ name: 'chat_turns_session_client_message_id_unique', properties: ['session', 'clientMessageId'] }],
  indexes: [
    {
      name: 'chat_turns_one_running_per_session',
      expression: `create unique index "chat_turns_one_running_per_session" on "chat_turns" ("session_id") where "status" = 'running'`,
    },
    {
      name: 'chat_turns_queued_index',
      expression: `create index "chat_turns_queued_index" on "chat_turns" ("session_id", "created_at") where "status" = 'queued'`,
    },
    { name: 'chat_turns_user_message_index', properties: ['userMessageId'] },
  ],
  triggers: [touchUpdatedAt()],
});
export type ChatTurn = InferEntity<typeof ChatTurnSchema>;

/** What a share link shows: the session as it was when shared (up to its seq then), or as it is. */
export const SHARE_MODES = ['snapshot', 'live'] as const;
export type ShareMode = (typeof SHARE_MODES)[number];

/**
 * A read-only link to a session. The token itself is shown once, when the link is made; only its
 * SHA-256 is stored, so a copy of the database opens no link. Revoking or expiring a link keeps
 * its row (shares.list shows it) but it opens nothing any more.
 */
export const SessionShareSchema = defineEntity({
  name: 'SessionShare',
  tableName: 'session_shares',
  properties: {
    id: uuidPrimaryKey(),
    session: () => p.manyToOne(ChatSessionSchema).deleteRule('cascade').index('session_shares_session_id_index'),
    tokenHash: p.string().length(64).unique('session_shares_token_hash_unique').hidden(),
    mode: p.enum(SHARE_MODES),
    // Snapshot links show messages up to this seq (the session's last_seq when shared).
    upToSeq: p.bigint('number').nullable(),
    expiresAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  checks: [check('session_shares', 'snapshot_has_seq', `(mode = 'snapshot') = (up_to_seq is not null)`)],
  triggers: [touchUpdatedAt()],
});
export type SessionShare = InferEntity<typeof SessionShareSchema>;

export const RATING_VALUES = ['up', 'down'] as const;
export type RatingValue = (typeof RATING_VALUES)[number];

/**
 * Feedback on a message (messages.rate): one per message, since only its session's owner (a user
 * with their API keys, or an anonymous visitor) can read it. No foreign key to the message, like
 * every link to chat_messages (retention deletes messages in bulk); retention deletes a purged
 * message's rating in the same statement, and the session's cascade takes the rest.
 */
export const MessageRatingSchema = defineEntity({
  name: 'MessageRating',
  tableName: 'message_ratings',
  properties: {
    id: uuidPrimaryKey(),
    session: () => p.manyToOne(ChatSessionSchema).deleteRule('cascade').index('message_ratings_session_id_index'),
    messageId: p.uuid().unique('message_ratings_message_id_unique'),
    value: p.enum(RATING_VALUES),
    reason: p.string().length(64).nullable(),
    comment: p.text().nullable(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  // The stats job counts ratings by when they were last given.
  indexes: [{ name: 'message_ratings_updated_at_index', properties: ['updatedAt'] }],
  triggers: [touchUpdatedAt()],
});
export type MessageRating = InferEntity<typeof MessageRatingSchema>;

/**
 * One messages.clear, so it can be undone: a clear hides its messages with one statement, so they
 * all carry the same `deleted_at` (the statement's `now()`), which this row remembers. Undoing it
 * brings back exactly those messages that retention has not purged yet.
 */
export const MessageClearSchema = defineEntity({
  name: 'MessageClear',
  tableName: 'message_clears',
  properties: {
    id: uuidPrimaryKey(),
    session: () => p.manyToOne(ChatSessionSchema).deleteRule('cascade').index('message_clears_session_id_index'),
    chapter: p.string().length(255).nullable(),
    clearedAt: p.datetime(),
    cleared: p.integer(),
    undoneAt: p.datetime().nullable(),
    createdAt: createdAt(),
  },
  checks: [check('message_clears', 'cleared_non_negative', 'cleared >= 0')],
});
export type MessageClear = InferEntity<typeof MessageClearSchema>;
