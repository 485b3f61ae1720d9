import type { TRetentionChange } from '@threadstore/contract';
import { previewStatements } from '@threadstore/domain';
import type { PoolClient } from 'pg';

/**
 * Opens a transaction on `client` and makes the previewed policy changes in it with the same
 * statements an administrator's change runs; the dry run then reads them like real policies, and
 * the caller rolls the transaction back. A dry run's counting never opens transactions of its
 * own, so everything it reads sees the changes.
 */
export async function applyPreview(client: PoolClient, changes: readonly TRetentionChange[]): Promise<void> {
  await client.query('begin');
  for (const { text, values } of previewStatements(changes)) await client.query(text, values);
}
