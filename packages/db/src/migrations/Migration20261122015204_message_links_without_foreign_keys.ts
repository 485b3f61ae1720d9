import { Migration } from '@mikro-orm/migrations';

export class Migration20261122015204_message_links_without_foreign_keys extends Migration {
  override name = 'Migration20261122015204_message_links_without_foreign_keys';

  override up(): void | Promise<void> {
    this.addSql(`alter table "chat_messages" drop constraint "chat_messages_parent_id_foreign";`);

    this.addSql(`alter table "memories" drop constraint "memories_source_message_id_foreign";`);

    this.addSql(`drop index "chat_messages_parent_id_index";`);
  }

  override down(): void | Promise<void> {
    this.addSql(
      `alter table "chat_messages" add constraint "chat_messages_parent_id_foreign" foreign key ("parent_id") references "chat_messages" ("id") on delete set null;`,
    );
    this.addSql(`create index "chat_messages_parent_id_index" on "chat_messages" ("parent_id");`);

    this.addSql(
      `alter table "memories" add constraint "memories_source_message_id_foreign" foreign key ("source_message_id") references "chat_messages" ("id") on delete set null;`,
    );
  }
}
