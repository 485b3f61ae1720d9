import { Migration } from '@mikro-orm/migrations';

/**
 * Marks the mission rewards an incremental xp-rollup batch pays and folds into the totals in the
 * same transaction, so the batches after it skip them instead of folding them again (they used to
 * take a second batch per run, bench/results/xp-2026-12-07.md). Adding a column with a constant
 * default is a catalog change: instant on a ledger of any size, no rewrite.
 */
export class Migration20261207113057_academy_xp_folded_on_insert extends Migration {
  override name = 'Migration20261207113057_academy_xp_folded_on_insert';

  override up(): void | Promise<void> {
    this.addSql(`alter table "academy_xp_transactions" add "folded_on_insert" boolean not null default false;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "academy_xp_transactions" drop column "folded_on_insert";`);
  }
}
