import { Migration } from '@mikro-orm/migrations';

export class Migration20261207015453_academy_api extends Migration {

  override name = 'Migration20261207015453_academy_api';

  override up(): void | Promise<void> {
    this.addSql(`create table "academy_weekly_xp" ("week" date not null, "user_id" uuid not null, "xp" bigint not null default '0', primary key ("week", "user_id"));`);
    this.addSql(`create index "academy_weekly_xp_week_xp_user_id_index" on "academy_weekly_xp" ("week", "xp", "user_id");`);

    this.addSql(`alter table "academy_badges" add "retired_at" timestamptz null;`);

    this.addSql(`alter table "academy_missions" add "retired_at" timestamptz null;`);

    this.addSql(`alter table "api_keys" drop constraint "api_keys_scopes_check";`);
    this.addSql(`alter table "api_keys" add constraint "api_keys_scopes_check" check (cardinality(scopes) > 0 and scopes <@ array['read', 'write', 'academy.award']::text[]);`);

    this.addSql(`alter table "academy_users" add "display_name" varchar(80) null;`);
    this.addSql(`create index "academy_users_total_xp_user_id_index" on "academy_users" ("total_xp", "user_id");`);

    this.addSql(`alter table "academy_conversations" add "persona" varchar(128) null, add "mission_id" uuid null, add "completed_at" timestamptz null;`);
    this.addSql(`alter table "academy_conversations" add constraint "academy_conversations_mission_id_foreign" foreign key ("mission_id") references "academy_missions" ("id") on delete restrict;`);
    this.addSql(`create index "academy_conversations_mission_id_index" on "academy_conversations" ("mission_id");`);

    this.addSql(`alter table "academy_weekly_xp" add constraint "academy_weekly_xp_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade;`);

    // Weekly XP for the ledger rows the rollup has already folded (the rollup folds the rest, in
    // the same transactions as the totals): below the watermark, or, while a rebuild is under way,
    // the learners it has rebuilt so far below its horizon (it recomputes the others itself).
    this.addSql(`insert into "academy_weekly_xp" ("week", "user_id", "xp")
      select date_trunc('week', t.created_at at time zone 'UTC')::date, t.user_id, sum(t.amount)
        from "academy_xp_transactions" t cross join "academy_xp_rollup_state" s
       where s.id = 1
         and ((s.rebuild_horizon is null and (t.tx_id, t.id) <= (s.folded_tx_id, s.folded_id))
           or (s.rebuild_horizon is not null and t.user_id <= s.rebuild_after_user and t.tx_id < s.rebuild_horizon))
       group by 1, 2;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "academy_weekly_xp" cascade;`);

    this.addSql(`alter table "academy_conversations" drop constraint "academy_conversations_mission_id_foreign";`);

    this.addSql(`alter table "academy_badges" drop column "retired_at";`);

    this.addSql(`drop index "academy_conversations_mission_id_index";`);
    this.addSql(`alter table "academy_conversations" drop column "persona", drop column "mission_id", drop column "completed_at";`);

    this.addSql(`alter table "academy_missions" drop column "retired_at";`);

    this.addSql(`drop index "academy_users_total_xp_user_id_index";`);
    this.addSql(`alter table "academy_users" drop column "display_name";`);

    this.addSql(`alter table "api_keys" drop constraint "api_keys_scopes_check";`);
    this.addSql(`alter table "api_keys" add constraint "api_keys_scopes_check" check (cardinality(scopes) > 0 and scopes <@ array['read', 'write']::text[]);`);
  }

}
