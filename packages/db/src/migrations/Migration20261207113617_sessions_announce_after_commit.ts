import { Migration } from '@mikro-orm/migrations';

export class Migration20261207113617_sessions_announce_after_commit extends Migration {

  override name = 'Migration20261207113617_sessions_announce_after_commit';

  override up(): void | Promise<void> {
    this.addSql(`drop trigger if exists "announce_change" on "chat_sessions";`);
    this.addSql(`drop function if exists "chat_sessions_announce_change_fn"();`);
    this.addSql(`create or replace function "chat_sessions_announce_change_fn"() returns trigger as \$\$ begin if current_setting('threadstore.announce', true) is distinct from 'off' then perform pg_notify('threadstore_changes', json_build_object('s', new.id, 'u', new.user_id, 'a', new.anonymous_id)::text); end if; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "announce_change" AFTER INSERT OR UPDATE on "chat_sessions" for each ROW execute function "chat_sessions_announce_change_fn"();`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger if exists "announce_change" on "chat_sessions";`);
    this.addSql(`drop function if exists "chat_sessions_announce_change_fn"();`);
    this.addSql(`create or replace function "chat_sessions_announce_change_fn"() returns trigger as \$\$ begin perform pg_notify('threadstore_changes', json_build_object('s', new.id, 'u', new.user_id, 'a', new.anonymous_id)::text); return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "announce_change" AFTER INSERT OR UPDATE on "chat_sessions" for each ROW execute function "chat_sessions_announce_change_fn"();`);
  }

}
