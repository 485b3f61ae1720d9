import { Migration } from '@mikro-orm/migrations';

export class Migration20261121234247_initial extends Migration {
  override name = 'Migration20261121234247_initial';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "academy_badges" ("id" uuid not null default gen_random_uuid(), "code" varchar(128) not null, "name" varchar(255) not null, "description" text null, "icon_url" varchar(2048) null, "criteria" jsonb not null default '{}', "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`alter table "academy_badges" add constraint "academy_badges_code_unique" unique ("code");`);
    this.addSql(
      `create or replace function "academy_badges_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "touch_updated_at" BEFORE UPDATE on "academy_badges" for each ROW execute function "academy_badges_touch_updated_at_fn"();`,
    );

    this.addSql(
      `create table "academy_missions" ("id" uuid not null default gen_random_uuid(), "code" varchar(128) not null, "title" varchar(255) not null, "description" text null, "xp_reward" int not null, "criteria" jsonb not null default '{}', "starts_at" timestamptz null, "ends_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`alter table "academy_missions" add constraint "academy_missions_code_unique" unique ("code");`);
    this.addSql(
      `alter table "academy_missions" add constraint "academy_missions_xp_reward_non_negative_check" check (xp_reward >= 0);`,
    );
    this.addSql(
      `alter table "academy_missions" add constraint "academy_missions_window_ordered_check" check (ends_at is null or starts_at is null or ends_at > starts_at);`,
    );
    this.addSql(
      `create or replace function "academy_missions_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "touch_updated_at" BEFORE UPDATE on "academy_missions" for each ROW execute function "academy_missions_touch_updated_at_fn"();`,
    );

    this.addSql(
      `create table "audit_log" ("id" bigserial primary key, "actor_type" text not null, "actor_id" varchar(255) null, "action" varchar(128) not null, "subject_type" varchar(64) null, "subject_id" varchar(255) null, "details" jsonb not null default '{}', "request_id" varchar(128) null, "occurred_at" timestamptz not null default now());`,
    );
    this.addSql(`create index "audit_log_actor_index" on "audit_log" ("actor_type", "actor_id", "occurred_at");`);
    this.addSql(`create index "audit_log_subject_index" on "audit_log" ("subject_type", "subject_id", "occurred_at");`);
    this.addSql(`create index "audit_log_occurred_at_index" on "audit_log" using brin ("occurred_at");`);
    this.addSql(
      `alter table "audit_log" add constraint "audit_log_action_not_blank_check" check (length(action) > 0);`,
    );
    this.addSql(
      `alter table "audit_log" add constraint "audit_log_actor_type_check" check ("actor_type" in ('user', 'api_key', 'anonymous', 'system'));`,
    );

    this.addSql(
      `create table "entity_nodes" ("id" uuid not null default gen_random_uuid(), "type" varchar(64) not null, "name" varchar(512) not null, "canonical_key" varchar(512) not null, "properties" jsonb not null default '{}', "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(
      `alter table "entity_nodes" add constraint "entity_nodes_type_canonical_key_unique" unique ("type", "canonical_key");`,
    );
    this.addSql(
      `alter table "entity_nodes" add constraint "entity_nodes_type_not_blank_check" check (length(type) > 0);`,
    );
    this.addSql(
      `alter table "entity_nodes" add constraint "entity_nodes_canonical_key_not_blank_check" check (length(canonical_key) > 0);`,
    );
    this.addSql(
      `create or replace function "entity_nodes_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "touch_updated_at" BEFORE UPDATE on "entity_nodes" for each ROW execute function "entity_nodes_touch_updated_at_fn"();`,
    );

    this.addSql(
      `create table "entity_relationships" ("id" uuid not null default gen_random_uuid(), "source_id" uuid not null, "target_id" uuid not null, "type" varchar(64) not null, "weight" numeric(12,6) not null default 1, "properties" jsonb not null default '{}', "evidence_ref" varchar(1024) null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "entity_relationships_target_id_index" on "entity_relationships" ("target_id");`);
    this.addSql(
      `alter table "entity_relationships" add constraint "entity_relationships_source_target_type_unique" unique ("source_id", "target_id", "type");`,
    );
    this.addSql(
      `alter table "entity_relationships" add constraint "entity_relationships_weight_non_negative_check" check (weight >= 0);`,
    );
    this.addSql(
      `alter table "entity_relationships" add constraint "entity_relationships_type_not_blank_check" check (length(type) > 0);`,
    );
    this.addSql(
      `create or replace function "entity_relationships_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "touch_updated_at" BEFORE UPDATE on "entity_relationships" for each ROW execute function "entity_relationships_touch_updated_at_fn"();`,
    );

    this.addSql(
      `create table "maintenance_runs" ("id" uuid not null default gen_random_uuid(), "job" varchar(128) not null, "queue_job_id" varchar(64) null, "dry_run" boolean not null default false, "outcome" text not null default 'running', "started_at" timestamptz not null default now(), "finished_at" timestamptz null, "rows_affected" bigint not null default '0', "details" jsonb not null default '{}', "error" text null, primary key ("id"));`,
    );
    this.addSql(`create index "maintenance_runs_job_started_index" on "maintenance_runs" ("job", "started_at");`);
    this.addSql(
      `alter table "maintenance_runs" add constraint "maintenance_runs_rows_affected_non_negative_check" check (rows_affected >= 0);`,
    );
    this.addSql(
      `alter table "maintenance_runs" add constraint "maintenance_runs_finished_when_done_check" check ((outcome = 'running') = (finished_at is null));`,
    );
    this.addSql(
      `alter table "maintenance_runs" add constraint "maintenance_runs_finished_after_start_check" check (finished_at is null or finished_at >= started_at);`,
    );
    this.addSql(
      `alter table "maintenance_runs" add constraint "maintenance_runs_outcome_check" check ("outcome" in ('running', 'succeeded', 'failed', 'aborted'));`,
    );

    this.addSql(
      `create table "stats_snapshots" ("id" uuid not null default gen_random_uuid(), "taken_at" timestamptz not null default now(), "database" jsonb not null, "product" jsonb not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "stats_snapshots_taken_at_index" on "stats_snapshots" ("taken_at");`);
    this.addSql(
      `create or replace function "stats_snapshots_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "touch_updated_at" BEFORE UPDATE on "stats_snapshots" for each ROW execute function "stats_snapshots_touch_updated_at_fn"();`,
    );

    this.addSql(
      `create table "users" ("id" uuid not null default gen_random_uuid(), "issuer" varchar(512) not null, "subject" varchar(512) not null, "email" varchar(320) null, "username" varchar(64) null, "display_name" varchar(256) null, "role" text not null default 'user', "password_hash" text null, "last_seen_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "deleted_at" timestamptz null, primary key ("id"));`,
    );
    this.addSql(`create index "users_email_index" on "users" (lower("email"));`);
    this.addSql(`alter table "users" add constraint "users_issuer_subject_unique" unique ("issuer", "subject");`);
    this.addSql(
      `create unique index "users_username_unique" on "users" (lower("username")) where "username" is not null;`,
    );
    this.addSql(`alter table "users" add constraint "users_issuer_not_blank_check" check (length(issuer) > 0);`);
    this.addSql(`alter table "users" add constraint "users_subject_not_blank_check" check (length(subject) > 0);`);
    this.addSql(`alter table "users" add constraint "users_role_check" check ("role" in ('user', 'admin'));`);
    this.addSql(
      `create or replace function "users_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "touch_updated_at" BEFORE UPDATE on "users" for each ROW execute function "users_touch_updated_at_fn"();`,
    );

    this.addSql(
      `create table "projects" ("id" uuid not null default gen_random_uuid(), "owner_id" uuid not null, "name" varchar(256) not null, "description" text null, "settings" jsonb not null default '{}', "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "deleted_at" timestamptz null, primary key ("id"));`,
    );
    this.addSql(`alter table "projects" add constraint "projects_owner_name_unique" unique ("owner_id", "name");`);
    this.addSql(
      `alter table "projects" add constraint "projects_name_not_blank_check" check (length(btrim(name)) > 0);`,
    );
    this.addSql(
      `create or replace function "projects_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "touch_updated_at" BEFORE UPDATE on "projects" for each ROW execute function "projects_touch_updated_at_fn"();`,
    );

    this.addSql(
      `create table "retention_policies" ("id" uuid not null default gen_random_uuid(), "scope" text not null, "user_id" uuid null, "project_id" uuid null, "target" text not null, "keep_for_days" int null, "legal_hold" boolean not null default false, "note" text null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "retention_policies_user_id_index" on "retention_policies" ("user_id");`);
    this.addSql(`create index "retention_policies_project_id_index" on "retention_policies" ("project_id");`);
    this.addSql(
      `create unique index "retention_policies_scope_target_unique" on "retention_policies" ("scope", "user_id", "project_id", "target") nulls not distinct;`,
    );
    this.addSql(
      `alter table "retention_policies" add constraint "retention_policies_scope_subject_check" check ((scope = 'global' and user_id is null and project_id is null) or (scope = 'user' and user_id is not null and project_id is null) or (scope = 'project' and project_id is not null and user_id is null));`,
    );
    this.addSql(
      `alter table "retention_policies" add constraint "retention_policies_keep_for_days_positive_check" check (keep_for_days > 0);`,
    );
    this.addSql(
      `alter table "retention_policies" add constraint "retention_policies_rule_present_check" check (legal_hold or keep_for_days is not null);`,
    );
    this.addSql(
      `alter table "retention_policies" add constraint "retention_policies_legal_hold_covers_all_check" check ((legal_hold and target = 'all') or (not legal_hold and target <> 'all'));`,
    );
    this.addSql(
      `alter table "retention_policies" add constraint "retention_policies_global_not_held_check" check (scope <> 'global' or not legal_hold);`,
    );
    this.addSql(
      `alter table "retention_policies" add constraint "retention_policies_scope_check" check ("scope" in ('global', 'user', 'project'));`,
    );
    this.addSql(
      `alter table "retention_policies" add constraint "retention_policies_target_check" check ("target" in ('inactive_sessions', 'soft_deleted', 'short_term_memories', 'episodic_memories', 'anonymous_sessions', 'all'));`,
    );
    this.addSql(
      `create or replace function "retention_policies_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "touch_updated_at" BEFORE UPDATE on "retention_policies" for each ROW execute function "retention_policies_touch_updated_at_fn"();`,
    );

    this.addSql(
      `create table "knowledge_entries" ("id" uuid not null default gen_random_uuid(), "owner_id" uuid not null, "project_id" uuid null, "title" varchar(512) not null, "content" text not null, "source_type" text not null, "source_url" varchar(2048) null, "metadata" jsonb not null default '{}', "search_vector" tsvector generated always as (setweight(to_tsvector('simple'::regconfig, title), 'A') || setweight(to_tsvector('simple'::regconfig, left(content, 262144)), 'B')) stored not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "deleted_at" timestamptz null, primary key ("id"));`,
    );
    this.addSql(`create index "knowledge_entries_owner_id_index" on "knowledge_entries" ("owner_id");`);
    this.addSql(`create index "knowledge_entries_project_id_index" on "knowledge_entries" ("project_id");`);
    this.addSql(
      `create index "knowledge_entries_search_vector_index" on "knowledge_entries" using gin ("search_vector");`,
    );
    this.addSql(
      `alter table "knowledge_entries" add constraint "knowledge_entries_url_source_has_url_check" check (source_type <> 'url' or source_url is not null);`,
    );
    this.addSql(
      `alter table "knowledge_entries" add constraint "knowledge_entries_source_type_check" check ("source_type" in ('url', 'pdf', 'text', 'file'));`,
    );
    this.addSql(
      `create or replace function "knowledge_entries_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "touch_updated_at" BEFORE UPDATE on "knowledge_entries" for each ROW execute function "knowledge_entries_touch_updated_at_fn"();`,
    );

    this.addSql(
      `create table "chat_sessions" ("id" uuid not null default gen_random_uuid(), "user_id" uuid null, "anonymous_id" uuid null, "project_id" uuid null, "client_key" varchar(255) null, "title" varchar(512) null, "agent_id" varchar(255) null, "context" jsonb not null default '{}', "metadata" jsonb not null default '{}', "problem_statement" text null, "status" text not null default 'created', "phase" varchar(128) null, "round_number" int not null default 0, "total_cost" numeric(20,10) not null default '0', "synthesis" text null, "final_recommendation" text null, "error" text null, "started_at" timestamptz null, "finished_at" timestamptz null, "last_progress_at" timestamptz null, "last_seq" bigint not null default '0', "message_count" bigint not null default '0', "last_message_at" timestamptz null, "last_activity_at" timestamptz not null default now(), "archived_at" timestamptz null, "deleted_at" timestamptz null, "version" int not null default 1, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "chat_sessions_project_id_index" on "chat_sessions" ("project_id");`);
    this.addSql(
      `create index "chat_sessions_user_activity_index" on "chat_sessions" ("user_id", "last_activity_at", "id");`,
    );
    this.addSql(`create index "chat_sessions_user_created_index" on "chat_sessions" ("user_id", "created_at", "id");`);
    this.addSql(
      `create index "chat_sessions_anonymous_activity_index" on "chat_sessions" ("anonymous_id", "last_activity_at", "id");`,
    );
    this.addSql(`create index "chat_sessions_last_activity_index" on "chat_sessions" ("last_activity_at");`);
    this.addSql(
      `create index "chat_sessions_running_index" on "chat_sessions" ("last_progress_at") where "status" = 'running';`,
    );
    this.addSql(
      `alter table "chat_sessions" add constraint "chat_sessions_user_client_key_unique" unique ("user_id", "client_key");`,
    );
    this.addSql(
      `alter table "chat_sessions" add constraint "chat_sessions_anonymous_client_key_unique" unique ("anonymous_id", "client_key");`,
    );
    this.addSql(
      `alter table "chat_sessions" add constraint "chat_sessions_one_owner_check" check (num_nonnulls(user_id, anonymous_id) = 1);`,
    );
    this.addSql(
      `alter table "chat_sessions" add constraint "chat_sessions_round_number_non_negative_check" check (round_number >= 0);`,
    );
    this.addSql(
      `alter table "chat_sessions" add constraint "chat_sessions_total_cost_non_negative_check" check (total_cost >= 0);`,
    );
    this.addSql(
      `alter table "chat_sessions" add constraint "chat_sessions_last_seq_non_negative_check" check (last_seq >= 0);`,
    );
    this.addSql(
      `alter table "chat_sessions" add constraint "chat_sessions_message_count_non_negative_check" check (message_count >= 0);`,
    );
    this.addSql(
      `alter table "chat_sessions" add constraint "chat_sessions_message_count_within_seq_check" check (message_count <= last_seq);`,
    );
    this.addSql(
      `alter table "chat_sessions" add constraint "chat_sessions_version_positive_check" check (version >= 1);`,
    );
    this.addSql(
      `alter table "chat_sessions" add constraint "chat_sessions_status_check" check ("status" in ('created', 'running', 'completed', 'failed', 'killed', 'deleted'));`,
    );
    this.addSql(
      `create or replace function "chat_sessions_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "touch_updated_at" BEFORE UPDATE on "chat_sessions" for each ROW execute function "chat_sessions_touch_updated_at_fn"();`,
    );

    this.addSql(
      `create table "investigations" ("id" uuid not null default gen_random_uuid(), "owner_id" uuid not null, "session_id" uuid null, "title" varchar(512) not null, "query" text not null, "status" text not null default 'pending', "findings" jsonb not null default '{}', "confidence" numeric(4,3) null, "error" text null, "started_at" timestamptz null, "completed_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "deleted_at" timestamptz null, primary key ("id"));`,
    );
    this.addSql(`create index "investigations_session_id_index" on "investigations" ("session_id");`);
    this.addSql(`create index "investigations_owner_created_index" on "investigations" ("owner_id", "created_at");`);
    this.addSql(
      `alter table "investigations" add constraint "investigations_confidence_range_check" check (confidence >= 0 and confidence <= 1);`,
    );
    this.addSql(
      `alter table "investigations" add constraint "investigations_completed_after_start_check" check (completed_at is null or started_at is null or completed_at >= started_at);`,
    );
    this.addSql(
      `alter table "investigations" add constraint "investigations_status_check" check ("status" in ('pending', 'running', 'completed', 'failed', 'cancelled'));`,
    );
    this.addSql(
      `create or replace function "investigations_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "touch_updated_at" BEFORE UPDATE on "investigations" for each ROW execute function "investigations_touch_updated_at_fn"();`,
    );

    this.addSql(
      `create table "chat_messages" ("id" uuid not null default gen_random_uuid(), "session_id" uuid not null, "seq" bigint not null, "parent_id" uuid null, "role" text not null, "content" text not null, "agent_id" varchar(255) null, "chapter" varchar(255) null, "citations" jsonb null, "tool_calls" jsonb null, "metadata" jsonb not null default '{}', "model" varchar(255) null, "prompt_tokens" int null, "completion_tokens" int null, "cost" numeric(20,10) null, "latency_ms" int null, "client_message_id" varchar(255) null, "request_hash" varchar(64) null, "sanitized" boolean not null default false, "search_vector" tsvector generated always as (to_tsvector('simple'::regconfig, left(content, 262144))) stored not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "deleted_at" timestamptz null, primary key ("id"));`,
    );
    this.addSql(`create index "chat_messages_parent_id_index" on "chat_messages" ("parent_id");`);
    this.addSql(
      `create index "chat_messages_session_chapter_seq_index" on "chat_messages" ("session_id", "chapter", "seq");`,
    );
    this.addSql(`create index "chat_messages_search_vector_index" on "chat_messages" using gin ("search_vector");`);
    this.addSql(`create index "chat_messages_created_at_index" on "chat_messages" using brin ("created_at");`);
    this.addSql(
      `alter table "chat_messages" add constraint "chat_messages_session_seq_unique" unique ("session_id", "seq");`,
    );
    this.addSql(
      `alter table "chat_messages" add constraint "chat_messages_session_client_message_id_unique" unique ("session_id", "client_message_id");`,
    );
    this.addSql(`alter table "chat_messages" add constraint "chat_messages_seq_positive_check" check (seq >= 1);`);
    this.addSql(
      `alter table "chat_messages" add constraint "chat_messages_prompt_tokens_non_negative_check" check (prompt_tokens >= 0);`,
    );
    this.addSql(
      `alter table "chat_messages" add constraint "chat_messages_completion_tokens_non_negative_check" check (completion_tokens >= 0);`,
    );
    this.addSql(
      `alter table "chat_messages" add constraint "chat_messages_cost_non_negative_check" check (cost >= 0);`,
    );
    this.addSql(
      `alter table "chat_messages" add constraint "chat_messages_latency_non_negative_check" check (latency_ms >= 0);`,
    );
    this.addSql(
      `alter table "chat_messages" add constraint "chat_messages_client_message_id_not_blank_check" check (length(client_message_id) > 0);`,
    );
    this.addSql(
      `alter table "chat_messages" add constraint "chat_messages_not_own_parent_check" check (parent_id <> id);`,
    );
    this.addSql(
      `alter table "chat_messages" add constraint "chat_messages_role_check" check ("role" in ('system', 'user', 'assistant', 'tool'));`,
    );
    this.addSql(
      `create or replace function "chat_messages_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "touch_updated_at" BEFORE UPDATE on "chat_messages" for each ROW execute function "chat_messages_touch_updated_at_fn"();`,
    );

    this.addSql(
      `create table "memories" ("id" uuid not null default gen_random_uuid(), "user_id" uuid not null, "kind" text not null, "key" varchar(255) null, "content" text not null, "importance" numeric(4,3) not null default 0.5, "metadata" jsonb not null default '{}', "source_message_id" uuid null, "expires_at" timestamptz null, "superseded_by_id" uuid null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "memories_source_message_id_index" on "memories" ("source_message_id");`);
    this.addSql(`create index "memories_superseded_by_id_index" on "memories" ("superseded_by_id");`);
    this.addSql(
      `create index "memories_user_current_index" on "memories" ("user_id", "kind", "key") where "superseded_by_id" is null;`,
    );
    this.addSql(
      `create index "memories_expires_at_index" on "memories" ("expires_at") where "expires_at" is not null;`,
    );
    this.addSql(
      `alter table "memories" add constraint "memories_importance_range_check" check (importance >= 0 and importance <= 1);`,
    );
    this.addSql(
      `alter table "memories" add constraint "memories_not_own_successor_check" check (superseded_by_id <> id);`,
    );
    this.addSql(
      `alter table "memories" add constraint "memories_kind_check" check ("kind" in ('short_term', 'episodic', 'long_term'));`,
    );
    this.addSql(
      `create or replace function "memories_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "touch_updated_at" BEFORE UPDATE on "memories" for each ROW execute function "memories_touch_updated_at_fn"();`,
    );

    this.addSql(
      `create table "api_keys" ("id" uuid not null default gen_random_uuid(), "user_id" uuid not null, "name" varchar(128) not null, "key_prefix" varchar(16) not null, "key_hash" varchar(128) not null, "scopes" text[] not null, "last_used_at" timestamptz null, "expires_at" timestamptz null, "revoked_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "api_keys_user_id_index" on "api_keys" ("user_id");`);
    this.addSql(`alter table "api_keys" add constraint "api_keys_key_hash_unique" unique ("key_hash");`);
    this.addSql(
      `alter table "api_keys" add constraint "api_keys_scopes_check" check (cardinality(scopes) > 0 and scopes <@ array['read', 'write']::text[]);`,
    );
    this.addSql(
      `create or replace function "api_keys_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "touch_updated_at" BEFORE UPDATE on "api_keys" for each ROW execute function "api_keys_touch_updated_at_fn"();`,
    );

    this.addSql(
      `create table "academy_xp_transactions" ("id" bigserial primary key, "user_id" uuid not null, "amount" int not null, "reason" varchar(255) not null, "source_ref" varchar(255) not null, "metadata" jsonb not null default '{}', "created_at" timestamptz not null default now());`,
    );
    this.addSql(
      `alter table "academy_xp_transactions" add constraint "academy_xp_transactions_user_source_ref_unique" unique ("user_id", "source_ref");`,
    );
    this.addSql(
      `alter table "academy_xp_transactions" add constraint "academy_xp_transactions_amount_non_zero_check" check (amount <> 0);`,
    );
    this.addSql(
      `alter table "academy_xp_transactions" add constraint "academy_xp_transactions_source_ref_not_blank_check" check (length(source_ref) > 0);`,
    );
    this.addSql(
      `create or replace function "academy_xp_transactions_append_only_fn"() returns trigger as \$\$ begin raise exception 'academy_xp_transactions is append-only' using errcode = 'integrity_constraint_violation'; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "append_only" BEFORE UPDATE on "academy_xp_transactions" for each ROW execute function "academy_xp_transactions_append_only_fn"();`,
    );

    this.addSql(
      `create table "academy_user_missions" ("id" uuid not null default gen_random_uuid(), "user_id" uuid not null, "mission_id" uuid not null, "progress" int not null default 0, "status" text not null default 'in_progress', "completed_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "academy_user_missions_mission_id_index" on "academy_user_missions" ("mission_id");`);
    this.addSql(
      `alter table "academy_user_missions" add constraint "academy_user_missions_user_mission_unique" unique ("user_id", "mission_id");`,
    );
    this.addSql(
      `alter table "academy_user_missions" add constraint "academy_user_missions_progress_non_negative_check" check (progress >= 0);`,
    );
    this.addSql(
      `alter table "academy_user_missions" add constraint "academy_user_missions_completed_when_done_check" check ((status = 'completed') = (completed_at is not null));`,
    );
    this.addSql(
      `alter table "academy_user_missions" add constraint "academy_user_missions_status_check" check ("status" in ('in_progress', 'completed', 'expired'));`,
    );
    this.addSql(
      `create or replace function "academy_user_missions_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "touch_updated_at" BEFORE UPDATE on "academy_user_missions" for each ROW execute function "academy_user_missions_touch_updated_at_fn"();`,
    );

    this.addSql(
      `create table "academy_user_badges" ("id" uuid not null default gen_random_uuid(), "user_id" uuid not null, "badge_id" uuid not null, "awarded_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "academy_user_badges_badge_id_index" on "academy_user_badges" ("badge_id");`);
    this.addSql(
      `alter table "academy_user_badges" add constraint "academy_user_badges_user_badge_unique" unique ("user_id", "badge_id");`,
    );

    this.addSql(
      `create table "academy_users" ("user_id" uuid not null, "level" int not null default 1, "total_xp" bigint not null default '0', "current_streak" int not null default 0, "longest_streak" int not null default 0, "last_active_day" date null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("user_id"));`,
    );
    this.addSql(`alter table "academy_users" add constraint "academy_users_level_positive_check" check (level >= 1);`);
    this.addSql(
      `alter table "academy_users" add constraint "academy_users_total_xp_non_negative_check" check (total_xp >= 0);`,
    );
    this.addSql(
      `alter table "academy_users" add constraint "academy_users_streaks_non_negative_check" check (current_streak >= 0 and longest_streak >= current_streak);`,
    );
    this.addSql(
      `create or replace function "academy_users_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "touch_updated_at" BEFORE UPDATE on "academy_users" for each ROW execute function "academy_users_touch_updated_at_fn"();`,
    );

    this.addSql(
      `create table "academy_conversations" ("id" uuid not null default gen_random_uuid(), "user_id" uuid not null, "session_id" uuid not null, "topic" varchar(255) not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(`create index "academy_conversations_user_id_index" on "academy_conversations" ("user_id");`);
    this.addSql(
      `alter table "academy_conversations" add constraint "academy_conversations_session_id_unique" unique ("session_id");`,
    );
    this.addSql(
      `create or replace function "academy_conversations_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "touch_updated_at" BEFORE UPDATE on "academy_conversations" for each ROW execute function "academy_conversations_touch_updated_at_fn"();`,
    );

    this.addSql(
      `alter table "entity_relationships" add constraint "entity_relationships_source_id_foreign" foreign key ("source_id") references "entity_nodes" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "entity_relationships" add constraint "entity_relationships_target_id_foreign" foreign key ("target_id") references "entity_nodes" ("id") on delete cascade;`,
    );

    this.addSql(
      `alter table "projects" add constraint "projects_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on delete cascade;`,
    );

    this.addSql(
      `alter table "retention_policies" add constraint "retention_policies_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "retention_policies" add constraint "retention_policies_project_id_foreign" foreign key ("project_id") references "projects" ("id") on delete cascade;`,
    );

    this.addSql(
      `alter table "knowledge_entries" add constraint "knowledge_entries_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "knowledge_entries" add constraint "knowledge_entries_project_id_foreign" foreign key ("project_id") references "projects" ("id") on delete set null;`,
    );

    this.addSql(
      `alter table "chat_sessions" add constraint "chat_sessions_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "chat_sessions" add constraint "chat_sessions_project_id_foreign" foreign key ("project_id") references "projects" ("id") on delete set null;`,
    );

    this.addSql(
      `alter table "investigations" add constraint "investigations_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "investigations" add constraint "investigations_session_id_foreign" foreign key ("session_id") references "chat_sessions" ("id") on delete set null;`,
    );

    this.addSql(
      `alter table "chat_messages" add constraint "chat_messages_session_id_foreign" foreign key ("session_id") references "chat_sessions" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "chat_messages" add constraint "chat_messages_parent_id_foreign" foreign key ("parent_id") references "chat_messages" ("id") on delete set null;`,
    );

    this.addSql(
      `alter table "memories" add constraint "memories_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "memories" add constraint "memories_source_message_id_foreign" foreign key ("source_message_id") references "chat_messages" ("id") on delete set null;`,
    );
    this.addSql(
      `alter table "memories" add constraint "memories_superseded_by_id_foreign" foreign key ("superseded_by_id") references "memories" ("id") on delete set null;`,
    );

    this.addSql(
      `alter table "api_keys" add constraint "api_keys_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );

    this.addSql(
      `alter table "academy_xp_transactions" add constraint "academy_xp_transactions_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );

    this.addSql(
      `alter table "academy_user_missions" add constraint "academy_user_missions_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "academy_user_missions" add constraint "academy_user_missions_mission_id_foreign" foreign key ("mission_id") references "academy_missions" ("id") on delete cascade;`,
    );

    this.addSql(
      `alter table "academy_user_badges" add constraint "academy_user_badges_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "academy_user_badges" add constraint "academy_user_badges_badge_id_foreign" foreign key ("badge_id") references "academy_badges" ("id") on delete cascade;`,
    );

    this.addSql(
      `alter table "academy_users" add constraint "academy_users_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "academy_conversations" add constraint "academy_conversations_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`,
    );
    this.addSql(
      `alter table "academy_conversations" add constraint "academy_conversations_session_id_foreign" foreign key ("session_id") references "chat_sessions" ("id") on delete cascade;`,
    );
    // Retention defaults, stored as data so operators can change them without a deploy. Inactive
    // sessions are kept 90 days after their last activity; soft-deleted rows get a 30-day grace
    // period (an undo window); short-term memories live a day, episodic ones 30 days; anonymous
    // sessions nobody claimed go after 30 days of inactivity.
    this.addSql(`insert into "retention_policies" ("scope", "target", "keep_for_days", "note") values
      ('global', 'inactive_sessions', 90, 'default: sessions are kept 90 days after their last activity'),
      ('global', 'soft_deleted', 30, 'default: grace period before soft-deleted sessions and messages are purged'),
      ('global', 'short_term_memories', 1, 'default: short-term memories expire after 24 hours'),
      ('global', 'episodic_memories', 30, 'default: episodic memories expire after 30 days'),
      ('global', 'anonymous_sessions', 30, 'default: unclaimed anonymous sessions are kept 30 days after their last activity');`);
  }
}
