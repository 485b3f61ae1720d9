import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './testing/index.ts';

/**
 * Every CHECK, UNIQUE and FOREIGN KEY of the schema, each shown to reject what it should.
 * The last test compares this list with the catalog, so a constraint added later without a
 * case here fails the suite.
 */

const U1 = '00000000-0000-4000-8000-000000000001';
const U2 = '00000000-0000-4000-8000-000000000002';
const P1 = '00000000-0000-4000-8000-0000000000a1';
const S1 = '00000000-0000-4000-8000-0000000000b1';
const S2 = '00000000-0000-4000-8000-0000000000b2';
const M1 = '00000000-0000-4000-8000-0000000000c1';
const MEM1 = '00000000-0000-4000-8000-0000000000d1';
const N1 = '00000000-0000-4000-8000-0000000000e1';
const N2 = '00000000-0000-4000-8000-0000000000e2';
const MI1 = '00000000-0000-4000-8000-0000000000f1';
const B1 = '00000000-0000-4000-8000-0000000000f2';
const ANON = '00000000-0000-4000-8000-0000000000aa';
const MISSING = '00000000-0000-4000-8000-00000000dead';
const INV1 = '00000000-0000-4000-8000-0000000000e1';

/** Valid rows every case starts from (inside a transaction that is rolled back). */
const FIXTURE = `
  insert into users (id, issuer, subject, username) values ('${U1}', 'https://idp', 'u1', 'Ana'), ('${U2}', 'https://idp', 'u2', null);
  insert into api_keys (user_id, name, key_prefix, key_hash, scopes) values ('${U1}', 'k', 'ts_1', 'hash-1', '{read}');
  insert into projects (id, owner_id, name) values ('${P1}', '${U1}', 'Research');
  insert into chat_sessions (id, user_id, project_id, client_key, last_seq, message_count) values ('${S1}', '${U1}', '${P1}', 'conv-1', 1, 1);
  insert into chat_sessions (id, anonymous_id, client_key) values ('${S2}', '${ANON}', 'conv-1');
  insert into chat_messages (id, session_id, seq, role, content, client_message_id) values ('${M1}', '${S1}', 1, 'user', 'hello', 'cm-1');
  insert into memories (id, user_id, kind, content) values ('${MEM1}', '${U1}', 'long_term', 'likes tea');
  insert into knowledge_entries (owner_id, title, content, source_type) values ('${U1}', 'Guide', 'text', 'text');
  insert into academy_users (user_id) values ('${U1}');
  insert into academy_conversations (user_id, session_id, topic) values ('${U1}', '${S1}', 'sql');
  insert into academy_xp_transactions (user_id, amount, reason, source_ref) values ('${U1}', 10, 'message', 'msg:1');
  insert into academy_missions (id, code, title, xp_reward) values ('${MI1}', 'first-chat', 'First chat', 50);
  insert into academy_user_missions (user_id, mission_id) values ('${U1}', '${MI1}');
  insert into academy_badges (id, code, name) values ('${B1}', 'starter', 'Starter');
  insert into academy_user_badges (user_id, badge_id) values ('${U1}', '${B1}');
  insert into entity_nodes (id, type, name, canonical_key) values ('${N1}', 'company', 'ACME', 'acme'), ('${N2}', 'person', 'Ana', 'ana');
  insert into entity_relationships (source_id, target_id, type) values ('${N1}', '${N2}', 'employs');
  insert into investigations (id, owner_id, title, query) values ('${INV1}', '${U1}', 'Contracts', 'who signed?');
  insert into retention_policies (scope, user_id, target, legal_hold) values ('user', '${U1}', 'all', true);
  insert into chat_turns (session_id, user_message_id, client_message_id, status) values ('${S1}', '${M1}', 'cm-1', 'running');
  insert into account_erasures (user_id) values ('${U2}');
  insert into chat_message_versions (session_id, message_id, version, content, replaced_by_type, replaced_by_id) values ('${S1}', '${M1}', 1, 'before', 'user', '${U1}');
  insert into session_shares (session_id, token_hash, mode) values ('${S1}', 'th-1', 'live');
  insert into message_ratings (session_id, message_id, value) values ('${S1}', '${M1}', 'up');
  insert into message_clears (session_id, cleared_at, cleared) values ('${S1}', now(), 1);
`;

const session = (values: string) => `insert into chat_sessions ${values}`;
const message = (columns: string, values: string) =>
  `insert into chat_messages (session_id, role, content, ${columns}) values ('${S1}', 'user', 'x', ${values})`;

/** constraint name → a statement that must violate exactly it. */
const CASES: Record<string, string> = {
  users_issuer_subject_unique: `insert into users (issuer, subject) values ('https://idp', 'u1')`,
  users_username_unique: `insert into users (issuer, subject, username) values ('https://idp', 'u3', 'ANA')`,
  users_issuer_not_blank_check: `insert into users (issuer, subject) values ('', 'u3')`,
  users_subject_not_blank_check: `insert into users (issuer, subject) values ('https://idp', '')`,
  users_role_check: `insert into users (issuer, subject, role) values ('https://idp', 'u3', 'root')`,

  api_keys_user_id_foreign: `insert into api_keys (user_id, name, key_prefix, key_hash, scopes) values ('${MISSING}', 'k', 'p', 'h2', '{read}')`,
  api_keys_key_hash_unique: `insert into api_keys (user_id, name, key_prefix, key_hash, scopes) values ('${U2}', 'k', 'p', 'hash-1', '{read}')`,
  api_keys_scopes_check: `insert into api_keys (user_id, name, key_prefix, key_hash, scopes) values ('${U1}', 'k', 'p', 'h2', '{read,admin}')`,

  projects_owner_id_foreign: `insert into projects (owner_id, name) values ('${MISSING}', 'x')`,
  projects_owner_name_unique: `insert into projects (owner_id, name) values ('${U1}', 'Research')`,
  projects_name_not_blank_check: `insert into projects (owner_id, name) values ('${U1}', '   ')`,

  chat_sessions_user_id_foreign: session(`(user_id) values ('${MISSING}')`),
  chat_sessions_project_id_foreign: session(`(user_id, project_id) values ('${U1}', '${MISSING}')`),
  chat_sessions_user_client_key_unique: session(`(user_id, client_key) values ('${U1}', 'conv-1')`),
  chat_sessions_anonymous_client_key_unique: session(`(anonymous_id, client_key) values ('${ANON}', 'conv-1')`),
  chat_sessions_one_owner_check: session(`(user_id, anonymous_id) values ('${U1}', '${ANON}')`),
  chat_sessions_round_number_non_negative_check: session(`(user_id, round_number) values ('${U1}', -1)`),
  chat_sessions_total_cost_non_negative_check: session(`(user_id, total_cost) values ('${U1}', -0.0000000001)`),
  chat_sessions_last_seq_non_negative_check: session(`(user_id, last_seq, message_count) values ('${U1}', -1, -2)`),
  chat_sessions_message_count_non_negative_check: session(`(user_id, message_count) values ('${U1}', -1)`),
  chat_sessions_message_count_within_seq_check: session(`(user_id, last_seq, message_count) values ('${U1}', 2, 3)`),
  chat_sessions_version_positive_check: session(`(user_id, version) values ('${U1}', 0)`),
  chat_sessions_status_check: session(`(user_id, status) values ('${U1}', 'paused')`),

  chat_messages_session_id_foreign: `insert into chat_messages (session_id, seq, role, content) values ('${MISSING}', 1, 'user', 'x')`,
  chat_messages_session_seq_unique: message('seq', '1'),
  chat_messages_session_client_message_id_unique: message('seq, client_message_id', `2, 'cm-1'`),
  chat_messages_seq_positive_check: message('seq', '0'),
  chat_messages_prompt_tokens_non_negative_check: message('seq, prompt_tokens', '2, -1'),
  chat_messages_completion_tokens_non_negative_check: message('seq, completion_tokens', '2, -1'),
  chat_messages_cost_non_negative_check: message('seq, cost', '2, -1'),
  chat_messages_latency_non_negative_check: message('seq, latency_ms', '2, -1'),
  chat_messages_client_message_id_not_blank_check: message('seq, client_message_id', `2, ''`),
  chat_messages_not_own_parent_check: `update chat_messages set parent_id = id where id = '${M1}'`,
  chat_messages_generation_status_check: message('seq, generation_status', `2, 'thinking'`),

  chat_message_versions_session_id_foreign: `insert into chat_message_versions (session_id, message_id, version, content, replaced_by_type, replaced_by_id) values ('${MISSING}', '${M1}', 2, 'x', 'user', 'u')`,
  chat_message_versions_message_version_unique: `insert into chat_message_versions (session_id, message_id, version, content, replaced_by_type, replaced_by_id) values ('${S1}', '${M1}', 1, 'x', 'user', 'u')`,
  chat_message_versions_version_positive_check: `insert into chat_message_versions (session_id, message_id, version, content, replaced_by_type, replaced_by_id) values ('${S1}', '${M1}', 0, 'x', 'user', 'u')`,
  session_shares_session_id_foreign: `insert into session_shares (session_id, token_hash, mode) values ('${MISSING}', 'th-2', 'live')`,
  session_shares_token_hash_unique: `insert into session_shares (session_id, token_hash, mode) values ('${S1}', 'th-1', 'live')`,
  session_shares_mode_check: `insert into session_shares (session_id, token_hash, mode) values ('${S1}', 'th-2', 'public')`,
  session_shares_snapshot_has_seq_check: `insert into session_shares (session_id, token_hash, mode) values ('${S1}', 'th-2', 'snapshot')`,
  message_ratings_session_id_foreign: `insert into message_ratings (session_id, message_id, value) values ('${MISSING}', '${MISSING}', 'up')`,
  message_ratings_message_id_unique: `insert into message_ratings (session_id, message_id, value) values ('${S1}', '${M1}', 'down')`,
  message_ratings_value_check: `insert into message_ratings (session_id, message_id, value) values ('${S1}', '${MISSING}', 'meh')`,
  message_clears_session_id_foreign: `insert into message_clears (session_id, cleared_at, cleared) values ('${MISSING}', now(), 1)`,
  message_clears_cleared_non_negative_check: `insert into message_clears (session_id, cleared_at, cleared) values ('${S1}', now(), -1)`,
  chat_sessions_tags_bounded_check: session(
    `(user_id, tags) values ('${U1}', array(select 't' || g from generate_series(1, 33) g))`,
  ),
  chat_turns_session_id_foreign: `insert into chat_turns (session_id, user_message_id, status) values ('${MISSING}', '${M1}', 'queued')`,
  chat_turns_session_client_message_id_unique: `insert into chat_turns (session_id, user_message_id, client_message_id, status) values ('${S1}', '${M1}', 'cm-1', 'queued')`,
  chat_turns_status_check: `insert into chat_turns (session_id, user_message_id, status) values ('${S1}', '${M1}', 'paused')`,
  chat_turns_one_running_per_session: `insert into chat_turns (session_id, user_message_id, status) values ('${S1}', '${M1}', 'running')`,

  account_erasures_running_user_unique: `insert into account_erasures (user_id) values ('${U2}')`,
  account_erasures_running_has_subject_check: `insert into account_erasures (user_id) values (null)`,
  account_erasures_receipt_anonymous_check: `insert into account_erasures (user_id, status, finished_at) values ('${U1}', 'completed', now())`,
  account_erasures_status_check: `insert into account_erasures (user_id, status, finished_at) values (null, 'paused', now())`,

  chat_messages_role_check: `insert into chat_messages (session_id, seq, role, content) values ('${S1}', 2, 'robot', 'x')`,

  memories_user_id_foreign: `insert into memories (user_id, kind, content) values ('${MISSING}', 'episodic', 'x')`,
  memories_superseded_by_id_foreign: `update memories set superseded_by_id = '${MISSING}' where id = '${MEM1}'`,
  memories_importance_range_check: `insert into memories (user_id, kind, content, importance) values ('${U1}', 'episodic', 'x', 1.5)`,
  memories_not_own_successor_check: `update memories set superseded_by_id = id where id = '${MEM1}'`,
  memories_kind_check: `insert into memories (user_id, kind, content) values ('${U1}', 'forever', 'x')`,
  memories_confidence_range_check: `insert into memories (user_id, kind, content, confidence) values ('${U1}', 'episodic', 'x', -0.1)`,
  memories_valid_interval_check: `update memories set valid_to = valid_from - interval '1 second' where id = '${MEM1}'`,
  memories_version_positive_check: `update memories set version_number = 0 where id = '${MEM1}'`,
  memories_language_check: `insert into memories (user_id, kind, content, language) values ('${U1}', 'episodic', 'x', 'klingon')`,
  memories_project_id_foreign: `insert into memories (user_id, kind, content, project_id) values ('${U1}', 'episodic', 'x', '${MISSING}')`,
  memories_lineage_version_unique: `insert into memories (user_id, kind, content, lineage_id) values ('${U1}', 'episodic', 'other', '${MEM1}')`,
  memories_current_content_unique: `insert into memories (user_id, kind, content) values ('${U1}', 'episodic', '  Likes   TEA ')`,

  knowledge_entries_owner_id_foreign: `insert into knowledge_entries (owner_id, title, content, source_type) values ('${MISSING}', 't', 'c', 'text')`,
  knowledge_entries_project_id_foreign: `insert into knowledge_entries (owner_id, project_id, title, content, source_type) values ('${U1}', '${MISSING}', 't', 'c', 'text')`,
  knowledge_entries_url_source_has_url_check: `insert into knowledge_entries (owner_id, title, content, source_type) values ('${U1}', 't', 'c', 'url')`,
  knowledge_entries_source_type_check: `insert into knowledge_entries (owner_id, title, content, source_type) values ('${U1}', 't', 'c', 'video')`,
  knowledge_entries_language_check: `insert into knowledge_entries (owner_id, title, content, source_type, language) values ('${U1}', 't', 'c', 'text', 'klingon')`,
  knowledge_entries_version_positive_check: `update knowledge_entries set version = 0`,
  knowledge_entries_owner_client_key_unique: `insert into knowledge_entries (owner_id, title, content, source_type, client_key) values ('${U1}', 't', 'c', 'text', 'doc-1'), ('${U1}', 't2', 'c', 'text', 'doc-1')`,
  knowledge_chunks_entry_id_foreign: `insert into knowledge_chunks (entry_id, ordinal, owner_id, language, start_char, length_chars, search_vector) values ('${MISSING}', 0, '${U1}', 'simple', 0, 1, '')`,
  knowledge_chunks_language_check: `insert into knowledge_chunks (entry_id, ordinal, owner_id, language, start_char, length_chars, search_vector) select id, 9, owner_id, 'klingon', 0, 1, '' from knowledge_entries`,

  academy_users_pkey: `insert into academy_users (user_id) values ('${U1}')`,
  academy_users_user_id_foreign: `insert into academy_users (user_id) values ('${MISSING}')`,
  academy_users_level_positive_check: `insert into academy_users (user_id, level) values ('${U2}', 0)`,
  academy_users_total_xp_non_negative_check: `insert into academy_users (user_id, total_xp) values ('${U2}', -1)`,
  academy_users_streaks_non_negative_check: `insert into academy_users (user_id, current_streak, longest_streak) values ('${U2}', 3, 2)`,
  academy_users_xp_parts_non_negative_check: `insert into academy_users (user_id, earned_xp) values ('${U2}', -1)`,

  academy_conversations_user_id_foreign: `insert into academy_conversations (user_id, session_id, topic) values ('${MISSING}', '${S2}', 't')`,
  academy_conversations_session_id_foreign: `insert into academy_conversations (user_id, session_id, topic) values ('${U1}', '${MISSING}', 't')`,
  academy_conversations_session_id_unique: `insert into academy_conversations (user_id, session_id, topic) values ('${U1}', '${S1}', 't')`,
  academy_conversations_mission_id_foreign: `insert into academy_conversations (user_id, session_id, topic, mission_id) values ('${U1}', '${S2}', 't', '${MISSING}')`,
  academy_weekly_xp_user_id_foreign: `insert into academy_weekly_xp (week, user_id, xp) values ('2026-01-05', '${MISSING}', 1)`,

  academy_xp_transactions_user_id_foreign: `insert into academy_xp_transactions (user_id, amount, reason, source_ref) values ('${MISSING}', 1, 'r', 's')`,
  academy_xp_transactions_user_source_ref_unique: `insert into academy_xp_transactions (user_id, amount, reason, source_ref) values ('${U1}', 10, 'message', 'msg:1')`,
  academy_xp_transactions_amount_non_zero_check: `insert into academy_xp_transactions (user_id, amount, reason, source_ref) values ('${U1}', 0, 'r', 's')`,
  academy_xp_transactions_source_ref_not_blank_check: `insert into academy_xp_transactions (user_id, amount, reason, source_ref) values ('${U1}', 1, 'r', '')`,
  academy_xp_rollup_state_single_row_check: `insert into academy_xp_rollup_state (id) values (2)`,

  academy_missions_code_unique: `insert into academy_missions (code, title, xp_reward) values ('first-chat', 't', 1)`,
  academy_missions_xp_reward_non_negative_check: `insert into academy_missions (code, title, xp_reward) values ('m2', 't', -1)`,
  academy_missions_window_ordered_check: `insert into academy_missions (code, title, xp_reward, starts_at, ends_at) values ('m2', 't', 1, now(), now() - interval '1 day')`,

  academy_user_missions_user_id_foreign: `insert into academy_user_missions (user_id, mission_id) values ('${MISSING}', '${MI1}')`,
  academy_user_missions_mission_id_foreign: `insert into academy_user_missions (user_id, mission_id) values ('${U2}', '${MISSING}')`,
  academy_user_missions_user_mission_unique: `insert into academy_user_missions (user_id, mission_id) values ('${U1}', '${MI1}')`,
  academy_user_missions_progress_non_negative_check: `insert into academy_user_missions (user_id, mission_id, progress) values ('${U2}', '${MI1}', -1)`,
  academy_user_missions_completed_when_done_check: `insert into academy_user_missions (user_id, mission_id, status) values ('${U2}', '${MI1}', 'completed')`,
  academy_user_missions_status_check: `insert into academy_user_missions (user_id, mission_id, status) values ('${U2}', '${MI1}', 'won')`,

  academy_badges_code_unique: `insert into academy_badges (code, name) values ('starter', 'x')`,
  academy_user_badges_user_id_foreign: `insert into academy_user_badges (user_id, badge_id) values ('${MISSING}', '${B1}')`,
  academy_user_badges_badge_id_foreign: `insert into academy_user_badges (user_id, badge_id) values ('${U2}', '${MISSING}')`,
  academy_user_badges_user_badge_unique: `insert into academy_user_badges (user_id, badge_id) values ('${U1}', '${B1}')`,

  entity_nodes_identity_unique: `insert into entity_nodes (type, name, canonical_key) values ('company', 'Acme Inc', 'acme')`,
  entity_nodes_owner_id_foreign: `insert into entity_nodes (owner_id, type, name, canonical_key) values ('${MISSING}', 't', 'n', 'k')`,
  entity_nodes_project_id_foreign: `insert into entity_nodes (owner_id, project_id, type, name, canonical_key) values ('${U1}', '${MISSING}', 't', 'n', 'k')`,
  entity_nodes_merged_into_id_foreign: `insert into entity_nodes (merged_into_id, type, name, canonical_key) values ('${MISSING}', 't', 'n', 'k')`,
  entity_nodes_aliases_array_check: `insert into entity_nodes (type, name, canonical_key, aliases) values ('t', 'n', 'k', '{"a": 1}')`,
  entity_nodes_not_merged_into_itself_check: `update entity_nodes set merged_into_id = id where id = '${N1}'`,
  entity_nodes_type_not_blank_check: `insert into entity_nodes (type, name, canonical_key) values ('', 'n', 'k')`,
  entity_nodes_canonical_key_not_blank_check: `insert into entity_nodes (type, name, canonical_key) values ('t', 'n', '')`,

  entity_relationships_source_id_foreign: `insert into entity_relationships (source_id, target_id, type) values ('${MISSING}', '${N2}', 'x')`,
  entity_relationships_target_id_foreign: `insert into entity_relationships (source_id, target_id, type) values ('${N1}', '${MISSING}', 'x')`,
  entity_relationships_source_target_type_unique: `insert into entity_relationships (source_id, target_id, type) values ('${N1}', '${N2}', 'employs')`,
  entity_relationships_weight_non_negative_check: `insert into entity_relationships (source_id, target_id, type, weight) values ('${N2}', '${N1}', 'x', -1)`,
  entity_relationships_valid_span_check: `insert into entity_relationships (source_id, target_id, type, valid_from, valid_to) values ('${N2}', '${N1}', 'x', now(), now() - interval '1 day')`,
  entity_relationships_type_not_blank_check: `insert into entity_relationships (source_id, target_id, type) values ('${N2}', '${N1}', '')`,

  investigations_owner_id_foreign: `insert into investigations (owner_id, title, query) values ('${MISSING}', 't', 'q')`,
  investigations_session_id_foreign: `insert into investigations (owner_id, session_id, title, query) values ('${U1}', '${MISSING}', 't', 'q')`,
  investigations_confidence_range_check: `insert into investigations (owner_id, title, query, confidence) values ('${U1}', 't', 'q', 1.5)`,
  investigations_completed_after_start_check: `insert into investigations (owner_id, title, query, started_at, completed_at) values ('${U1}', 't', 'q', now(), now() - interval '1 hour')`,
  investigations_project_id_foreign: `insert into investigations (owner_id, project_id, title, query) values ('${U1}', '${MISSING}', 't', 'q')`,
  investigation_sessions_investigation_id_foreign: `insert into investigation_sessions (investigation_id, session_id) values ('${MISSING}', '${S1}')`,
  investigation_sessions_session_id_foreign: `insert into investigation_sessions (investigation_id, session_id) values ('${INV1}', '${MISSING}')`,
  investigation_entities_investigation_id_foreign: `insert into investigation_entities (investigation_id, node_id) values ('${MISSING}', '${N1}')`,
  investigation_entities_node_id_foreign: `insert into investigation_entities (investigation_id, node_id) values ('${INV1}', '${MISSING}')`,
  investigation_findings_investigation_id_foreign: `insert into investigation_findings (investigation_id, summary, confidence) values ('${MISSING}', 's', 0.5)`,
  investigation_findings_confidence_range_check: `insert into investigation_findings (investigation_id, summary, confidence) values ('${INV1}', 's', 1.5)`,
  investigations_status_check: `insert into investigations (owner_id, title, query, status) values ('${U1}', 't', 'q', 'paused')`,

  audit_log_action_not_blank_check: `insert into audit_log (actor_type, action) values ('system', '')`,
  audit_log_actor_type_check: `insert into audit_log (actor_type, action) values ('robot', 'x')`,

  retention_policies_user_id_foreign: `insert into retention_policies (scope, user_id, target, keep_for_days) values ('user', '${MISSING}', 'inactive_sessions', 5)`,
  retention_policies_project_id_foreign: `insert into retention_policies (scope, project_id, target, keep_for_days) values ('project', '${MISSING}', 'inactive_sessions', 5)`,
  retention_policies_scope_target_unique: `insert into retention_policies (scope, target, keep_for_days) values ('global', 'inactive_sessions', 7)`,
  retention_policies_scope_subject_check: `insert into retention_policies (scope, user_id, target, keep_for_days) values ('global', '${U1}', 'inactive_sessions', 5)`,
  retention_policies_keep_for_days_positive_check: `insert into retention_policies (scope, user_id, target, keep_for_days) values ('user', '${U2}', 'inactive_sessions', 0)`,
  retention_policies_rule_present_check: `insert into retention_policies (scope, user_id, target) values ('user', '${U2}', 'inactive_sessions')`,
  retention_policies_legal_hold_covers_all_check: `insert into retention_policies (scope, user_id, target, keep_for_days, legal_hold) values ('user', '${U2}', 'inactive_sessions', 5, true)`,
  retention_policies_global_not_held_check: `insert into retention_policies (scope, target, legal_hold) values ('global', 'all', true)`,
  retention_policies_scope_check: `insert into retention_policies (scope, target, keep_for_days) values ('team', 'inactive_sessions', 5)`,
  retention_policies_target_check: `insert into retention_policies (scope, target, keep_for_days) values ('global', 'everything', 5)`,

  maintenance_runs_rows_affected_non_negative_check: `insert into maintenance_runs (job, rows_affected) values ('j', -1)`,
  maintenance_runs_finished_when_done_check: `insert into maintenance_runs (job, outcome) values ('j', 'succeeded')`,
  maintenance_runs_finished_after_start_check: `insert into maintenance_runs (job, outcome, started_at, finished_at) values ('j', 'failed', now(), now() - interval '1 minute')`,
  maintenance_runs_outcome_check: `insert into maintenance_runs (job, outcome, finished_at) values ('j', 'exploded', now())`,
};

describe('schema constraints', () => {
  let db: TestDatabase;
  let client: pg.Client;

  beforeAll(async () => {
    db = await createTestDatabase(inject('testPostgres'));
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  /** Runs `fn` on the fixture inside a transaction that is always rolled back. */
  async function inFixture<T>(fn: () => Promise<T>): Promise<T> {
    await client.query('begin');
    try {
      await client.query(FIXTURE);
      return await fn();
    } finally {
      await client.query('rollback');
    }
  }

  async function violation(sql: string): Promise<string | undefined> {
    return inFixture(async () => {
      try {
        await client.query(sql);
        return undefined;
      } catch (error) {
        return (error as pg.DatabaseError).constraint ?? (error as Error).message;
      }
    });
  }

  it('accepts the fixture itself', async () => {
    await inFixture(async () => {
      const { rows } = await client.query('select count(*)::int as n from chat_messages');
      expect(rows[0].n).toBe(1);
    });
  });

  it.each(Object.entries(CASES))('%s rejects what it should', async (constraint, sql) => {
    expect(await violation(sql)).toBe(constraint);
  });

  it('every constraint and unique index in the schema has a case above', async () => {
    const { rows } = await client.query<{ name: string }>(`
      select conname as name from pg_constraint c join pg_namespace n on n.oid = c.connamespace
       where n.nspname = 'public' and c.contype in ('c', 'u', 'f')
         and c.conrelid <> 'mikro_orm_migrations'::regclass
      union
      select i.relname from pg_index x join pg_class i on i.oid = x.indexrelid join pg_namespace n on n.oid = i.relnamespace
       where n.nspname = 'public' and x.indisunique and not x.indisprimary
         and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid)`);
    const untested = rows.map((r) => r.name).filter((name) => !(name in CASES));
    expect(untested).toEqual([]);
  });

  it('the XP ledger refuses updates (append-only) but lets a user deletion cascade to it', async () => {
    await inFixture(async () => {
      await expect(client.query(`update academy_xp_transactions set amount = 1000`)).rejects.toThrow(/append-only/);
    });
    await inFixture(async () => {
      await client.query(`delete from users where id = '${U1}'`);
      const { rows } = await client.query(`select count(*)::int as n from academy_xp_transactions`);
      expect(rows[0].n).toBe(0);
    });
  });

  it('deleting a user removes what they own and keeps the audit trail', async () => {
    await inFixture(async () => {
      await client.query(
        `insert into audit_log (actor_type, actor_id, action) values ('user', '${U1}', 'session.create')`,
      );
      await client.query(`delete from users where id = '${U1}'`);
      const { rows } = await client.query(`
        select (select count(*) from chat_sessions where user_id is not null)::int as sessions,
               (select count(*) from chat_messages)::int as messages,
               (select count(*) from memories)::int as memories,
               (select count(*) from projects)::int as projects,
               (select count(*) from audit_log)::int as audit,
               (select count(*) from chat_sessions where anonymous_id is not null)::int as anonymous`);
      expect(rows[0]).toEqual({ sessions: 0, messages: 0, memories: 0, projects: 0, audit: 1, anonymous: 1 });
    });
  });

  it('deleting a project detaches its sessions; deleting a message leaves its replies and memories pointing at it', async () => {
    await inFixture(async () => {
      await client.query(`delete from projects where id = '${P1}'`);
      const { rows: sessions } = await client.query(`select project_id from chat_sessions where id = '${S1}'`);
      expect(sessions[0].project_id).toBeNull();

      // parent_id and source_message_id carry no foreign key (see conversation.ts): purging a
      // message fires no per-row trigger, and what pointed at it keeps the id.
      await client.query(
        `insert into chat_messages (session_id, seq, role, content, parent_id) values ('${S1}', 2, 'assistant', 'hi', '${M1}')`,
      );
      await client.query(`update memories set source_message_id = '${M1}' where id = '${MEM1}'`);
      await client.query(`delete from chat_messages where id = '${M1}'`);
      const { rows } = await client.query(
        `select (select parent_id from chat_messages where seq = 2) as parent, (select source_message_id from memories) as source`,
      );
      expect(rows[0]).toEqual({ parent: M1, source: M1 });
    });
  });

  it('maintains updated_at for writes that bypass the ORM, and keeps an explicit value', async () => {
    await inFixture(async () => {
      await client.query(`update users set updated_at = '2020-01-01T00:00:00Z' where id = '${U1}'`);
      const explicit = await client.query(`select updated_at from users where id = '${U1}'`);
      expect(explicit.rows[0].updated_at.toISOString()).toBe('2020-01-01T00:00:00.000Z');

      await client.query(`update users set display_name = 'Ana' where id = '${U1}'`);
      const touched = await client.query(`select updated_at > '2020-01-02' as touched from users where id = '${U1}'`);
      expect(touched.rows[0].touched).toBe(true);
    });
  });
});
