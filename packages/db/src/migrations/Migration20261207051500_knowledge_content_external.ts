import { Migration } from '@mikro-orm/migrations';

/**
 * Knowledge bodies are stored out of line without compression (STORAGE EXTERNAL). A search hit's
 * snippet reads one slice of its body (`substr`), and PostgreSQL can fetch just that slice of an
 * uncompressed value; a compressed 5 MB body had to be decompressed up to the slice for every hit
 * (about 200 ms each, bench/results/knowledge-2026-12-07.md). Bodies cost more disk (text
 * compresses 2–3×): the price of snippets that cost the same near the end of a long document as
 * at its start. A catalog change only: bodies written from now on are stored this way, existing
 * ones when they are next updated, so it is instant on any table size.
 */
export class Migration20261207051500_knowledge_content_external extends Migration {
  override name = 'Migration20261207051500_knowledge_content_external';

  override up(): void | Promise<void> {
    this.addSql(`alter table "knowledge_entries" alter column "content" set storage external;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "knowledge_entries" alter column "content" set storage extended;`);
  }
}
