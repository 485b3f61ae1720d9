import { Migration } from '@mikro-orm/migrations';

export class Migration20261207015116_account_erasures extends Migration {
  override name = 'Migration20261207015116_account_erasures';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "account_erasures" ("id" uuid not null default gen_random_uuid(), "user_id" uuid null, "anonymous_ids" text[] not null default '{}', "api_key_ids" text[] not null default '{}', "status" text not null default 'running', "counts" jsonb not null default '{}', "batches" int not null default 0, "heartbeat_at" timestamptz not null default now(), "started_at" timestamptz not null default now(), "finished_at" timestamptz null, primary key ("id"));`,
    );
    this.addSql(
      `create index "account_erasures_running_index" on "account_erasures" ("heartbeat_at") where "status" = 'running';`,
    );
    this.addSql(
      `create unique index "account_erasures_running_user_unique" on "account_erasures" ("user_id") where "status" = 'running';`,
    );

    this.addSql(
      `alter table "account_erasures" add constraint "account_erasures_receipt_anonymous_check" check (status = 'running' or (user_id is null and anonymous_ids = '{}' and api_key_ids = '{}' and finished_at is not null));`,
    );
    this.addSql(
      `alter table "account_erasures" add constraint "account_erasures_running_has_subject_check" check (status <> 'running' or user_id is not null);`,
    );
    this.addSql(
      `alter table "account_erasures" add constraint "account_erasures_status_check" check ("status" in ('running', 'completed'));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "account_erasures" cascade;`);
  }
}
