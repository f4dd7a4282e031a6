declare const OWNER_SCOPE: unique symbol;

/**
 * The proof that a query is scoped to one owner. Thread and message repository methods take it as their first
 * argument, so a lookup without the owner's id does not compile; only `ownerScope()` makes one.
 */
export interface OwnerScope {
  readonly ownerId: string;
  readonly [OWNER_SCOPE]: true;
}

export function ownerScope(ownerId: string): OwnerScope {
  return { ownerId } as OwnerScope;
}
