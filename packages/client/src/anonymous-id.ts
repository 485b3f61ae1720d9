/** The part of the Web Storage API the anonymous id needs (`localStorage` has it). */
export type AnonymousIdStorage = Pick<Storage, 'getItem' | 'setItem'>;

export const ANONYMOUS_ID_STORAGE_KEY = 'threadstore.anonymousId';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * This browser's anonymous id: the one kept in `storage`, or a new random UUID stored there, so
 * a visitor keeps their conversations across reloads until they sign in and claim them. A stored
 * value the API would refuse (edited by hand, say) is replaced rather than sent.
 */
export function rememberedAnonymousId(storage: AnonymousIdStorage, key = ANONYMOUS_ID_STORAGE_KEY): string {
  const stored = storage.getItem(key);
  if (stored !== null && UUID.test(stored)) return stored;
  const created = crypto.randomUUID();
  storage.setItem(key, created);
  return created;
}
