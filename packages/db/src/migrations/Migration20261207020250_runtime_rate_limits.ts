import { Migration } from '@mikro-orm/migrations';

export class Migration20261207020250_runtime_rate_limits extends Migration {

  override name = 'Migration20261207020250_runtime_rate_limits';

  override up(): void | Promise<void> {
    this.addSql(`create table "rate_limits" ("key" varchar(255) not null, "points" int not null default 0, "expire" bigint null, primary key ("key"));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "rate_limits" cascade;`);
  }

}
