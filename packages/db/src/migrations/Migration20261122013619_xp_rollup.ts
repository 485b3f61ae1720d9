import { Migration } from '@mikro-orm/migrations';

export class Migration20261122013619_xp_rollup extends Migration {
  override name = 'Migration20261122013619_xp_rollup';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "academy_xp_rollup_state" ("id" smallint not null, "folded_tx_id" xid8 not null default '0', "folded_id" bigint not null default '0', "rebuild_horizon" xid8 null, "rebuild_after_user" uuid null, "missions_expired_until" timestamptz null, "updated_at" timestamptz not null default now(), primary key ("id"));`,
    );

    this.addSql(`alter table "academy_xp_transactions" add "tx_id" xid8 not null default pg_current_xact_id();`);
    this.addSql(`create index "academy_xp_transactions_tx_id_id_index" on "academy_xp_transactions" ("tx_id", "id");`);

    this.addSql(
      `alter table "academy_users" add "earned_xp" bigint not null default '0', add "corrected_xp" bigint not null default '0';`,
    );
    // Totals written before the ledger was split into earned and corrected XP count as earned, so the
    // check below holds for them; the xp-rollup's first run rebuilds both from the ledger.
    this.addSql(`update "academy_users" set "earned_xp" = "total_xp";`);
    this.addSql(
      `alter table "academy_users" add constraint "academy_users_xp_parts_non_negative_check" check (earned_xp >= 0 and corrected_xp >= 0);`,
    );

    this.addSql(
      `alter table "academy_xp_rollup_state" add constraint "academy_xp_rollup_state_single_row_check" check (id = 1);`,
    );
    this.addSql(
      `create or replace function "academy_xp_rollup_state_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "touch_updated_at" BEFORE UPDATE on "academy_xp_rollup_state" for each ROW execute function "academy_xp_rollup_state_touch_updated_at_fn"();`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger if exists "touch_updated_at" on "academy_xp_rollup_state";`);
    this.addSql(`drop function if exists "academy_xp_rollup_state_touch_updated_at_fn"();`);
    this.addSql(`drop table if exists "academy_xp_rollup_state" cascade;`);

    this.addSql(`alter table "academy_users" drop constraint "academy_users_xp_parts_non_negative_check";`);
    this.addSql(`alter table "academy_users" drop column "earned_xp", drop column "corrected_xp";`);

    this.addSql(`drop index "academy_xp_transactions_tx_id_id_index";`);
    this.addSql(`alter table "academy_xp_transactions" drop column "tx_id";`);
  }
}
