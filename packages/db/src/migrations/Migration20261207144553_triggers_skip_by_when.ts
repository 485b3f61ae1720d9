import { Migration } from '@mikro-orm/migrations';

/**
 * WHEN clauses on the row triggers, so PostgreSQL skips the PL/pgSQL call where the function
 * would do nothing: `touch_updated_at` on every table (an UPDATE that set `updated_at` itself,
 * as the ORM and the message append do) and chat_sessions' `announce_change` for a quiet
 * write (`threadstore.announce = off`, the API's appends), which then queues no after-trigger
 * event either. The functions are unchanged. Catalog only: instant on any table size (each
 * trigger is dropped and recreated in the migration's transaction, so no write goes untouched).
 */
export class Migration20261207144553_triggers_skip_by_when extends Migration {

  override name = 'Migration20261207144553_triggers_skip_by_when';

  override up(): void | Promise<void> {
    this.addSql(`drop trigger if exists "touch_updated_at" on "academy_badges";`);
    this.addSql(`drop function if exists "academy_badges_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "academy_badges_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "academy_badges" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "academy_badges_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "academy_missions";`);
    this.addSql(`drop function if exists "academy_missions_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "academy_missions_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "academy_missions" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "academy_missions_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "academy_xp_rollup_state";`);
    this.addSql(`drop function if exists "academy_xp_rollup_state_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "academy_xp_rollup_state_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "academy_xp_rollup_state" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "academy_xp_rollup_state_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "stats_snapshots";`);
    this.addSql(`drop function if exists "stats_snapshots_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "stats_snapshots_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "stats_snapshots" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "stats_snapshots_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "users";`);
    this.addSql(`drop function if exists "users_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "users_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "users" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "users_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "projects";`);
    this.addSql(`drop function if exists "projects_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "projects_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "projects" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "projects_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "retention_policies";`);
    this.addSql(`drop function if exists "retention_policies_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "retention_policies_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "retention_policies" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "retention_policies_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "knowledge_entries";`);
    this.addSql(`drop function if exists "knowledge_entries_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "knowledge_entries_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "knowledge_entries" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "knowledge_entries_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "entity_nodes";`);
    this.addSql(`drop function if exists "entity_nodes_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "entity_nodes_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "entity_nodes" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "entity_nodes_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "entity_relationships";`);
    this.addSql(`drop function if exists "entity_relationships_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "entity_relationships_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "entity_relationships" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "entity_relationships_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "announce_change" on "chat_sessions";`);
    this.addSql(`drop function if exists "chat_sessions_announce_change_fn"();`);
    this.addSql(`drop trigger if exists "touch_updated_at" on "chat_sessions";`);
    this.addSql(`drop function if exists "chat_sessions_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "chat_sessions_announce_change_fn"() returns trigger as \$\$ begin if current_setting('threadstore.announce', true) is distinct from 'off' then perform pg_notify('threadstore_changes', json_build_object('s', new.id, 'u', new.user_id, 'a', new.anonymous_id)::text); end if; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "announce_change" AFTER INSERT OR UPDATE on "chat_sessions" for each ROW
  when ((current_setting('threadstore.announce'::text, true) IS DISTINCT FROM 'off'::text)) execute function "chat_sessions_announce_change_fn"();`);
    this.addSql(`create or replace function "chat_sessions_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "chat_sessions" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "chat_sessions_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "session_shares";`);
    this.addSql(`drop function if exists "session_shares_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "session_shares_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "session_shares" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "session_shares_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "message_ratings";`);
    this.addSql(`drop function if exists "message_ratings_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "message_ratings_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "message_ratings" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "message_ratings_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "investigations";`);
    this.addSql(`drop function if exists "investigations_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "investigations_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "investigations" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "investigations_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "chat_turns";`);
    this.addSql(`drop function if exists "chat_turns_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "chat_turns_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "chat_turns" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "chat_turns_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "chat_messages";`);
    this.addSql(`drop function if exists "chat_messages_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "chat_messages_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "chat_messages" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "chat_messages_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "memories";`);
    this.addSql(`drop function if exists "memories_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "memories_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "memories" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "memories_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "api_keys";`);
    this.addSql(`drop function if exists "api_keys_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "api_keys_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "api_keys" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "api_keys_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "academy_user_missions";`);
    this.addSql(`drop function if exists "academy_user_missions_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "academy_user_missions_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "academy_user_missions" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "academy_user_missions_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "academy_users";`);
    this.addSql(`drop function if exists "academy_users_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "academy_users_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "academy_users" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "academy_users_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "academy_conversations";`);
    this.addSql(`drop function if exists "academy_conversations_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "academy_conversations_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "academy_conversations" for each ROW
  when ((NOT (new.updated_at IS DISTINCT FROM old.updated_at))) execute function "academy_conversations_touch_updated_at_fn"();`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger if exists "touch_updated_at" on "academy_badges";`);
    this.addSql(`drop function if exists "academy_badges_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "academy_badges_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "academy_badges" for each ROW execute function "academy_badges_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "academy_conversations";`);
    this.addSql(`drop function if exists "academy_conversations_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "academy_conversations_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "academy_conversations" for each ROW execute function "academy_conversations_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "academy_missions";`);
    this.addSql(`drop function if exists "academy_missions_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "academy_missions_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "academy_missions" for each ROW execute function "academy_missions_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "academy_user_missions";`);
    this.addSql(`drop function if exists "academy_user_missions_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "academy_user_missions_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "academy_user_missions" for each ROW execute function "academy_user_missions_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "academy_users";`);
    this.addSql(`drop function if exists "academy_users_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "academy_users_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "academy_users" for each ROW execute function "academy_users_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "academy_xp_rollup_state";`);
    this.addSql(`drop function if exists "academy_xp_rollup_state_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "academy_xp_rollup_state_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "academy_xp_rollup_state" for each ROW execute function "academy_xp_rollup_state_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "api_keys";`);
    this.addSql(`drop function if exists "api_keys_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "api_keys_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "api_keys" for each ROW execute function "api_keys_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "chat_messages";`);
    this.addSql(`drop function if exists "chat_messages_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "chat_messages_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "chat_messages" for each ROW execute function "chat_messages_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "chat_sessions";`);
    this.addSql(`drop function if exists "chat_sessions_touch_updated_at_fn"();`);
    this.addSql(`drop trigger if exists "announce_change" on "chat_sessions";`);
    this.addSql(`drop function if exists "chat_sessions_announce_change_fn"();`);
    this.addSql(`create or replace function "chat_sessions_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "chat_sessions" for each ROW execute function "chat_sessions_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "chat_sessions_announce_change_fn"() returns trigger as \$\$ begin if current_setting('threadstore.announce', true) is distinct from 'off' then perform pg_notify('threadstore_changes', json_build_object('s', new.id, 'u', new.user_id, 'a', new.anonymous_id)::text); end if; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "announce_change" AFTER INSERT OR UPDATE on "chat_sessions" for each ROW execute function "chat_sessions_announce_change_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "chat_turns";`);
    this.addSql(`drop function if exists "chat_turns_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "chat_turns_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "chat_turns" for each ROW execute function "chat_turns_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "entity_nodes";`);
    this.addSql(`drop function if exists "entity_nodes_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "entity_nodes_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "entity_nodes" for each ROW execute function "entity_nodes_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "entity_relationships";`);
    this.addSql(`drop function if exists "entity_relationships_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "entity_relationships_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "entity_relationships" for each ROW execute function "entity_relationships_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "investigations";`);
    this.addSql(`drop function if exists "investigations_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "investigations_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "investigations" for each ROW execute function "investigations_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "knowledge_entries";`);
    this.addSql(`drop function if exists "knowledge_entries_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "knowledge_entries_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "knowledge_entries" for each ROW execute function "knowledge_entries_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "memories";`);
    this.addSql(`drop function if exists "memories_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "memories_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "memories" for each ROW execute function "memories_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "message_ratings";`);
    this.addSql(`drop function if exists "message_ratings_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "message_ratings_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "message_ratings" for each ROW execute function "message_ratings_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "projects";`);
    this.addSql(`drop function if exists "projects_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "projects_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "projects" for each ROW execute function "projects_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "retention_policies";`);
    this.addSql(`drop function if exists "retention_policies_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "retention_policies_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "retention_policies" for each ROW execute function "retention_policies_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "session_shares";`);
    this.addSql(`drop function if exists "session_shares_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "session_shares_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "session_shares" for each ROW execute function "session_shares_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "stats_snapshots";`);
    this.addSql(`drop function if exists "stats_snapshots_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "stats_snapshots_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "stats_snapshots" for each ROW execute function "stats_snapshots_touch_updated_at_fn"();`);

    this.addSql(`drop trigger if exists "touch_updated_at" on "users";`);
    this.addSql(`drop function if exists "users_touch_updated_at_fn"();`);
    this.addSql(`create or replace function "users_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "users" for each ROW execute function "users_touch_updated_at_fn"();`);
  }

}
