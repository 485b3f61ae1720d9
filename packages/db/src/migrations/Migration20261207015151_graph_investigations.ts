import { Migration } from '@mikro-orm/migrations';

export class Migration20261207015151_graph_investigations extends Migration {

  override name = 'Migration20261207015151_graph_investigations';

  override up(): void | Promise<void> {
    this.addSql(`create table "investigation_sessions" ("investigation_id" uuid not null, "session_id" uuid not null, "created_at" timestamptz not null default now(), primary key ("investigation_id", "session_id"));`);
    this.addSql(`create index "investigation_sessions_session_id_index" on "investigation_sessions" ("session_id");`);

    this.addSql(`create table "investigation_findings" ("id" uuid not null default gen_random_uuid(), "investigation_id" uuid not null, "summary" text not null, "details" jsonb not null default '{}', "confidence" numeric(4,3) not null, "evidence_message_ids" text[] not null default '{}', "evidence_entity_ids" text[] not null default '{}', "evidence_urls" text[] not null default '{}', "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "investigation_findings_investigation_created_index" on "investigation_findings" ("investigation_id", "created_at", "id");`);

    this.addSql(`create table "investigation_entities" ("investigation_id" uuid not null, "node_id" uuid not null, "created_at" timestamptz not null default now(), primary key ("investigation_id", "node_id"));`);
    this.addSql(`create index "investigation_entities_node_id_index" on "investigation_entities" ("node_id");`);

    this.addSql(`alter table "entity_nodes" drop constraint "entity_nodes_type_canonical_key_unique";`);
    this.addSql(`alter table "entity_nodes" add "owner_id" uuid null, add "project_id" uuid null, add "aliases" jsonb not null default '[]', add "merged_into_id" uuid null, add "search_vector" tsvector generated always as (setweight(to_tsvector('simple'::regconfig, (name)::text), 'A') || setweight(jsonb_to_tsvector('simple'::regconfig, aliases, '["string"]'::jsonb), 'B')) stored not null;`);
    this.addSql(`alter table "entity_nodes" add constraint "entity_nodes_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on delete cascade;`);
    this.addSql(`alter table "entity_nodes" add constraint "entity_nodes_project_id_foreign" foreign key ("project_id") references "projects" ("id") on delete cascade;`);
    this.addSql(`alter table "entity_nodes" add constraint "entity_nodes_merged_into_id_foreign" foreign key ("merged_into_id") references "entity_nodes" ("id") on delete cascade;`);
    this.addSql(`create index "entity_nodes_project_id_index" on "entity_nodes" ("project_id");`);
    this.addSql(`create index "entity_nodes_merged_into_id_index" on "entity_nodes" ("merged_into_id");`);
    this.addSql(`create index "entity_nodes_search_vector_index" on "entity_nodes" using gin ("search_vector");`);
    this.addSql(`create unique index "entity_nodes_identity_unique" on "entity_nodes" ("owner_id", "project_id", "type", "canonical_key") nulls not distinct;`);
    this.addSql(`alter table "entity_nodes" add constraint "entity_nodes_aliases_array_check" check (jsonb_typeof(aliases) = 'array');`);
    this.addSql(`alter table "entity_nodes" add constraint "entity_nodes_not_merged_into_itself_check" check (merged_into_id <> id);`);

    this.addSql(`drop index "entity_relationships_target_id_index";`);
    this.addSql(`alter table "entity_relationships" add "evidence_message_ids" text[] not null default '{}', add "evidence_investigation_ids" text[] not null default '{}', add "evidence_urls" text[] not null default '{}', add "valid_from" timestamptz null, add "valid_to" timestamptz null;`);
    // Edges written before evidence had columns keep their one evidence reference as a source URL.
    this.addSql(`update "entity_relationships" set "evidence_urls" = array["evidence_ref"] where "evidence_ref" is not null;`);
    this.addSql(`alter table "entity_relationships" drop column "evidence_ref";`);
    this.addSql(`create index "entity_relationships_target_source_type_index" on "entity_relationships" ("target_id", "source_id", "type");`);
    this.addSql(`alter table "entity_relationships" add constraint "entity_relationships_valid_span_check" check (valid_to is null or valid_from is null or valid_to >= valid_from);`);

    this.addSql(`alter table "investigations" drop constraint "investigations_status_check";`);
    this.addSql(`alter table "investigations" add "project_id" uuid null, add "phase" varchar(128) null, add "last_progress_at" timestamptz null;`);
    this.addSql(`alter table "investigations" add constraint "investigations_project_id_foreign" foreign key ("project_id") references "projects" ("id") on delete set null;`);
    this.addSql(`alter table "investigations" alter column "status" set default 'open';`);
    this.addSql(`create index "investigations_project_id_index" on "investigations" ("project_id");`);
    this.addSql(`create index "investigations_running_index" on "investigations" ("last_progress_at") where "status" = 'running';`);
    // The lifecycle's first state is called open now (seed 000's investigations were pending).
    this.addSql(`update "investigations" set "status" = 'open' where "status" = 'pending';`);
    this.addSql(`alter table "investigations" add constraint "investigations_status_check" check ("status" in ('open', 'running', 'completed', 'failed', 'cancelled'));`);

    this.addSql(`alter table "investigation_sessions" add constraint "investigation_sessions_investigation_id_foreign" foreign key ("investigation_id") references "investigations" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "investigation_sessions" add constraint "investigation_sessions_session_id_foreign" foreign key ("session_id") references "chat_sessions" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "investigation_findings" add constraint "investigation_findings_investigation_id_foreign" foreign key ("investigation_id") references "investigations" ("id") on delete cascade;`);
    this.addSql(`alter table "investigation_findings" add constraint "investigation_findings_confidence_range_check" check (confidence >= 0 and confidence <= 1);`);

    this.addSql(`alter table "investigation_entities" add constraint "investigation_entities_investigation_id_foreign" foreign key ("investigation_id") references "investigations" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "investigation_entities" add constraint "investigation_entities_node_id_foreign" foreign key ("node_id") references "entity_nodes" ("id") on update cascade on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "investigation_sessions" cascade;`);
    this.addSql(`drop table if exists "investigation_findings" cascade;`);
    this.addSql(`drop table if exists "investigation_entities" cascade;`);

    this.addSql(`alter table "entity_nodes" drop constraint "entity_nodes_owner_id_foreign";`);
    this.addSql(`alter table "entity_nodes" drop constraint "entity_nodes_project_id_foreign";`);
    this.addSql(`alter table "entity_nodes" drop constraint "entity_nodes_merged_into_id_foreign";`);

    this.addSql(`alter table "investigations" drop constraint "investigations_project_id_foreign";`);

    this.addSql(`drop index "entity_nodes_project_id_index";`);
    this.addSql(`drop index "entity_nodes_merged_into_id_index";`);
    this.addSql(`drop index "entity_nodes_search_vector_index";`);
    this.addSql(`drop index "entity_nodes_identity_unique";`);
    this.addSql(`alter table "entity_nodes" drop constraint "entity_nodes_aliases_array_check";`);
    this.addSql(`alter table "entity_nodes" drop constraint "entity_nodes_not_merged_into_itself_check";`);
    this.addSql(`alter table "entity_nodes" drop column "owner_id", drop column "project_id", drop column "aliases", drop column "merged_into_id", drop column "search_vector";`);
    this.addSql(`alter table "entity_nodes" add constraint "entity_nodes_type_canonical_key_unique" unique ("type", "canonical_key");`);

    this.addSql(`drop index "entity_relationships_target_source_type_index";`);
    this.addSql(`alter table "entity_relationships" drop constraint "entity_relationships_valid_span_check";`);
    this.addSql(`alter table "entity_relationships" add "evidence_ref" varchar(1024) null;`);
    this.addSql(`update "entity_relationships" set "evidence_ref" = "evidence_urls"[1] where cardinality("evidence_urls") > 0;`);
    this.addSql(`alter table "entity_relationships" drop column "evidence_message_ids", drop column "evidence_investigation_ids", drop column "evidence_urls", drop column "valid_from", drop column "valid_to";`);
    this.addSql(`create index "entity_relationships_target_id_index" on "entity_relationships" ("target_id");`);

    this.addSql(`drop index "investigations_project_id_index";`);
    this.addSql(`drop index "investigations_running_index";`);
    this.addSql(`alter table "investigations" drop constraint "investigations_status_check";`);
    this.addSql(`alter table "investigations" drop column "project_id", drop column "phase", drop column "last_progress_at";`);
    this.addSql(`alter table "investigations" alter column "status" set default 'pending';`);
    this.addSql(`update "investigations" set "status" = 'pending' where "status" = 'open';`);
    this.addSql(`alter table "investigations" add constraint "investigations_status_check" check ("status" in ('pending', 'running', 'completed', 'failed', 'cancelled'));`);
  }

}
