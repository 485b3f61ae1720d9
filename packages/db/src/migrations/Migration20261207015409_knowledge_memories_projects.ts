import { Migration } from '@mikro-orm/migrations';

export class Migration20261207015409_knowledge_memories_projects extends Migration {

  override name = 'Migration20261207015409_knowledge_memories_projects';

  override up(): void | Promise<void> {
    this.addSql(`create table "knowledge_chunks" ("entry_id" uuid not null, "ordinal" int not null, "owner_id" uuid not null, "project_id" uuid null, "language" text not null, "start_char" int not null, "length_chars" int not null, "search_vector" tsvector not null, primary key ("entry_id", "ordinal"));`);
    this.addSql(`create index "knowledge_chunks_search_vector_index" on "knowledge_chunks" using gin ("search_vector");`);
    this.addSql(`create index "knowledge_chunks_owner_index" on "knowledge_chunks" ("owner_id");`);

    this.addSql(`alter table "projects" add "archived_at" timestamptz null, add "version" int not null default 1;`);
    // A deleted project no longer holds its name.
    this.addSql(`alter table "projects" drop constraint "projects_owner_name_unique";`);
    this.addSql(`create unique index "projects_owner_name_unique" on "projects" ("owner_id", "name") where "deleted_at" is null;`);
    this.addSql(`create index "projects_owner_created_index" on "projects" ("owner_id", "created_at", "id");`);
    this.addSql(`create index "projects_deleted_at_index" on "projects" ("deleted_at") where "deleted_at" is not null;`);

    this.addSql(`drop index "knowledge_entries_search_vector_index";`);
    this.addSql(`alter table "knowledge_entries" drop column "search_vector";`);
    this.addSql(`alter table "knowledge_entries" add "language" text not null default 'simple', add "tags" text[] not null default '{}', add "client_key" varchar(255) null, add "version" int not null default 1;`);
    this.addSql(`create index "knowledge_entries_owner_created_index" on "knowledge_entries" ("owner_id", "created_at", "id");`);
    this.addSql(`create index "knowledge_entries_tags_index" on "knowledge_entries" using gin ("tags");`);
    this.addSql(`alter table "knowledge_entries" add constraint "knowledge_entries_owner_client_key_unique" unique ("owner_id", "client_key");`);
    this.addSql(`alter table "knowledge_entries" add constraint "knowledge_entries_version_positive_check" check (version >= 1);`);
    this.addSql(`alter table "knowledge_entries" add constraint "knowledge_entries_language_check" check ("language" in ('english', 'portuguese', 'simple'));`);

    // Existing rows become first versions of their own lineage: valid since they were written,
    // closed when a successor superseded them.
    this.addSql(`drop index "memories_user_current_index";`);
    this.addSql(`alter table "memories" add "lineage_id" uuid null;`);
    this.addSql(`update "memories" set "lineage_id" = "id";`);
    this.addSql(`alter table "memories" alter column "lineage_id" set not null;`);
    this.addSql(`alter table "memories" add "version_number" int not null default 1, add "subject" varchar(255) not null default 'user', add "content_hash" varchar(32) generated always as (md5(lower(regexp_replace(btrim(normalize(content, NFKC)), '\\s+', ' ', 'g')))) stored not null, add "confidence" numeric(4,3) not null default 1, add "language" text not null default 'simple', add "project_id" uuid null, add "agent_id" varchar(255) null, add "source_session_id" uuid null, add "valid_from" timestamptz not null default now(), add "valid_to" timestamptz null, add "search_vector" tsvector generated always as (case language::text when 'english'::text then to_tsvector('english'::regconfig, content) when 'portuguese'::text then to_tsvector('portuguese'::regconfig, content) when 'simple'::text then to_tsvector('simple'::regconfig, content) else to_tsvector('simple'::regconfig, content) end) stored not null;`);
    this.addSql(`update "memories" set "valid_from" = "created_at", "valid_to" = case when "superseded_by_id" is not null then greatest("updated_at", "created_at") end;`);
    // Current duplicates (same user, subject and normalised content) would break the unique index
    // below: all but the newest are closed.
    this.addSql(`update "memories" m set "valid_to" = greatest(now(), m."valid_from") from (select "id", row_number() over (partition by "user_id", coalesce("project_id", '00000000-0000-0000-0000-000000000000'::uuid), "subject", coalesce("key", ''), "content_hash" order by "created_at" desc, "id" desc) as n from "memories" where "valid_to" is null) d where d."id" = m."id" and d.n > 1;`);
    this.addSql(`create index "memories_user_current_index" on "memories" ("user_id", "valid_from", "id") where "valid_to" is null;`);
    this.addSql(`alter table "memories" add constraint "memories_project_id_foreign" foreign key ("project_id") references "projects" ("id") on delete set null;`);
    this.addSql(`create index "memories_project_id_index" on "memories" ("project_id");`);
    this.addSql(`alter table "memories" add constraint "memories_lineage_version_unique" unique ("lineage_id", "version_number");`);
    this.addSql(`create unique index "memories_current_content_unique" on "memories" ("user_id", coalesce("project_id", '00000000-0000-0000-0000-000000000000'::uuid), "subject", coalesce("key", ''), "content_hash") where "valid_to" is null;`);
    this.addSql(`alter table "memories" add constraint "memories_confidence_range_check" check (confidence >= 0 and confidence <= 1);`);
    this.addSql(`alter table "memories" add constraint "memories_valid_interval_check" check (valid_to is null or valid_to >= valid_from);`);
    this.addSql(`alter table "memories" add constraint "memories_version_positive_check" check (version_number >= 1);`);
    this.addSql(`alter table "memories" add constraint "memories_language_check" check ("language" in ('english', 'portuguese', 'simple'));`);
    this.addSql(`create or replace function "memories_default_lineage_fn"() returns trigger as \$\$ begin if new.lineage_id is null then new.lineage_id := new.id; end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "default_lineage" BEFORE INSERT on "memories" for each ROW execute function "memories_default_lineage_fn"();`);

    this.addSql(`alter table "knowledge_chunks" add constraint "knowledge_chunks_entry_id_foreign" foreign key ("entry_id") references "knowledge_entries" ("id") on delete cascade;`);
    this.addSql(`alter table "knowledge_chunks" add constraint "knowledge_chunks_language_check" check ("language" in ('english', 'portuguese', 'simple'));`);
    // Existing entries get their full-text slices (32768 characters each, the title in the first).
    this.addSql(`insert into "knowledge_chunks" ("entry_id", "ordinal", "owner_id", "project_id", "language", "start_char", "length_chars", "search_vector")
      select e."id", s.n, e."owner_id", e."project_id", e."language", s.n * 32768, least(32768, greatest(length(e."content") - s.n * 32768, 0)),
             case when s.n = 0 then setweight(to_tsvector('simple'::regconfig, e."title"), 'A') else ''::tsvector end
             || setweight(to_tsvector('simple'::regconfig, substr(e."content", s.n * 32768 + 1, 32768)), 'D')
        from "knowledge_entries" e
        cross join lateral generate_series(0, greatest((length(e."content") - 1) / 32768, 0)) as s(n);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "knowledge_chunks" cascade;`);

    this.addSql(`alter table "memories" drop constraint "memories_project_id_foreign";`);

    this.addSql(`drop index "knowledge_entries_owner_created_index";`);
    this.addSql(`drop index "knowledge_entries_tags_index";`);
    this.addSql(`alter table "knowledge_entries" drop constraint "knowledge_entries_owner_client_key_unique";`);
    this.addSql(`alter table "knowledge_entries" drop constraint "knowledge_entries_version_positive_check";`);
    this.addSql(`alter table "knowledge_entries" drop constraint "knowledge_entries_language_check";`);
    this.addSql(`alter table "knowledge_entries" drop column "language", drop column "tags", drop column "client_key", drop column "version";`);
    this.addSql(`alter table "knowledge_entries" add "search_vector" tsvector generated always as (setweight(to_tsvector('simple'::regconfig, title), 'A') || setweight(to_tsvector('simple'::regconfig, left(content, 262144)), 'B')) stored not null;`);
    this.addSql(`create index "knowledge_entries_search_vector_index" on "knowledge_entries" using gin ("search_vector");`);

    this.addSql(`drop index "memories_project_id_index";`);
    this.addSql(`alter table "memories" drop constraint "memories_lineage_version_unique";`);
    this.addSql(`drop index "memories_current_content_unique";`);
    this.addSql(`alter table "memories" drop constraint "memories_confidence_range_check";`);
    this.addSql(`alter table "memories" drop constraint "memories_valid_interval_check";`);
    this.addSql(`alter table "memories" drop constraint "memories_version_positive_check";`);
    this.addSql(`alter table "memories" drop constraint "memories_language_check";`);
    this.addSql(`drop trigger if exists "default_lineage" on "memories";`);
    this.addSql(`drop function if exists "memories_default_lineage_fn"();`);
    this.addSql(`alter table "memories" drop column "lineage_id", drop column "version_number", drop column "subject", drop column "content_hash", drop column "confidence", drop column "language", drop column "project_id", drop column "agent_id", drop column "source_session_id", drop column "valid_from", drop column "valid_to", drop column "search_vector";`);

    this.addSql(`drop index "memories_user_current_index";`);
    this.addSql(`create index "memories_user_current_index" on "memories" ("user_id", "kind", "key") where "superseded_by_id" is null;`);
    this.addSql(`drop index "projects_owner_name_unique";`);
    this.addSql(`alter table "projects" add constraint "projects_owner_name_unique" unique ("owner_id", "name");`);
    this.addSql(`drop index "projects_owner_created_index";`);
    this.addSql(`drop index "projects_deleted_at_index";`);
    this.addSql(`alter table "projects" drop column "archived_at", drop column "version";`);
  }

}
