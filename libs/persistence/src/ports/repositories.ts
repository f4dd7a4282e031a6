import type { Page } from '@app/common';
import type {
  ApiKeyEntity,
  AuditEntry,
  ListedThread,
  MessageEntity,
  MessageRole,
  MessageStatus,
  Role,
  SessionEntity,
  ThreadEntity,
  TokenUsage,
  UserEntity,
} from './entities';
import type { OwnerScope } from './owner-scope';

export interface PageQuery {
  limit: number;
  cursor?: string | null;
}

export interface UserWithStats extends UserEntity {
  threadCount: number;
  apiKeyCount: number;
  usage: TokenUsage;
  /** Tokens spent since midnight UTC of `now` (the list's `now`, default the current time). */
  usageToday: TokenUsage;
  /** The latest use of any of the user's sessions (a sign-in or refresh) or API keys; null when never. */
  lastActiveAt: Date | null;
}

export abstract class UserRepository {
  /**
   * Creates a user. When `firstUserIsAdmin`, the role is `admin` if and only if no user exists yet, decided
   * atomically, so racing sign-ups yield exactly one admin. Throws `conflict` on a duplicate email (any case).
   */
  abstract create(input: {
    email: string;
    name: string;
    passwordHash: string;
    role?: Role;
    firstUserIsAdmin?: boolean;
  }): Promise<UserEntity>;
  abstract findById(id: string): Promise<UserEntity | null>;
  /** Case-insensitive. */
  abstract findByEmail(email: string): Promise<UserEntity | null>;
  abstract update(
    id: string,
    patch: Partial<Pick<UserEntity, 'name' | 'role' | 'disabled' | 'passwordHash'>>,
  ): Promise<UserEntity | null>;
  /** Deletes the user with their threads, messages, sessions, API keys and usage. Returns false when there was none. */
  abstract delete(id: string): Promise<boolean>;
  /** The users with these ids that exist, in no particular order. */
  abstract findByIds(ids: string[]): Promise<UserEntity[]>;
  /** Newest first; `q` matches email or name, case-insensitive. */
  abstract list(query: PageQuery & { q?: string; now?: Date }): Promise<Page<UserWithStats>>;
  abstract count(): Promise<number>;
  abstract countAdmins(options?: { enabledOnly?: boolean }): Promise<number>;
}

/** The refresh token that replaces a spent one. */
export interface NextRefreshToken {
  tokenHash: string;
  expiresAt: Date;
  /** The new token sealed with the one it replaces (opaque here): kept with the spent token for the grace. */
  sealed: string;
}

export type RotateResult =
  | { status: 'rotated'; session: SessionEntity }
  /**
   * The token was spent less than the grace ago: `successors` are the seals from it to the family's live token,
   * oldest first (each opens with the token before it), so the caller can hand out that live token again.
   */
  | { status: 'grace'; session: SessionEntity; successors: string[] }
  | { status: 'reused'; session: SessionEntity }
  | { status: 'invalid' };

/** How many rotations a token spent within the grace may be behind the live one (a longer chain counts as reuse). */
export const MAX_GRACE_CHAIN = 8;

export abstract class SessionRepository {
  /** Starts a family with its first refresh token (stored only as a hash). */
  abstract create(input: {
    userId: string;
    tokenHash: string;
    expiresAt: Date;
    userAgent?: string | null;
    ip?: string | null;
  }): Promise<SessionEntity>;
  abstract findById(id: string): Promise<SessionEntity | null>;
  /**
   * Atomically spends a live refresh token and adds `next` to the family (`rotated`). A token spent at most
   * `graceMs` ago reports `grace` with the seals leading to the family's live token, and nothing changes; one spent
   * longer ago reports `reused` (the caller revokes the family); unknown, expired or revoked ones `invalid`.
   * Seals older than the grace are erased as the family rotates.
   */
  abstract rotate(tokenHash: string, next: NextRefreshToken, now: Date, graceMs: number): Promise<RotateResult>;
  /** The session a (live or spent) token belongs to, or null. */
  abstract findByTokenHash(tokenHash: string): Promise<SessionEntity | null>;
  abstract revoke(id: string, now: Date): Promise<boolean>;
  /** Revokes every live session of the user except `exceptId`; returns the revoked ids. */
  abstract revokeAllForUser(userId: string, now: Date, exceptId?: string): Promise<string[]>;
  abstract listActiveForUser(userId: string, now: Date): Promise<SessionEntity[]>;
}

export abstract class ApiKeyRepository {
  /**
   * Stores a key by the digest of its secret (unique). Returns null, storing nothing, when the user already holds
   * `maxPerUser` keys; concurrent creations never leave more than that.
   */
  abstract create(
    input: { userId: string; name: string; prefix: string; secretHash: string; expiresAt: Date | null },
    maxPerUser: number,
  ): Promise<ApiKeyEntity | null>;
  /** The key whose secret has this digest (an index lookup, never a scan), or null. */
  abstract findBySecretHash(secretHash: string): Promise<ApiKeyEntity | null>;
  /** The user's keys, newest first. */
  abstract listForUser(userId: string): Promise<ApiKeyEntity[]>;
  /** Deletes one of the user's keys; false when the user has no key with this id. */
  abstract delete(userId: string, id: string): Promise<boolean>;
  /** Sets `lastUsedAt` to `at` when it is unset or older than `olderThan` (one conditional write): true when it wrote. */
  abstract touch(id: string, at: Date, olderThan: Date): Promise<boolean>;
}

export interface ThreadPatch {
  title?: string;
  model?: string;
  systemPrompt?: string;
  /** null clears it (back to the provider's default); undefined leaves it. */
  temperature?: number | null;
  maxTokens?: number | null;
  activeLeafId?: string | null;
}

/**
 * How many of the newest matching messages (and, apart, of the newest matching titles) a thread search considers,
 * in every adapter: a word found in most of a user's million messages costs what a rare one costs. Older matches
 * past the cap are not found; a longer query narrows.
 */
export const SEARCH_CANDIDATES = 1000;

export abstract class ThreadRepository {
  abstract create(
    scope: OwnerScope,
    input: { title: string; model: string; systemPrompt: string },
  ): Promise<ThreadEntity>;
  abstract findById(scope: OwnerScope, id: string): Promise<ThreadEntity | null>;
  /**
   * Most recently active first. `q` matches titles and message text, case-insensitive, each word as a prefix
   * (SQLite) or a whole word (MongoDB); a search is bounded to the threads of the newest SEARCH_CANDIDATES
   * matching messages and titles. With `q`, each thread carries `match`: its newest matching message among those
   * candidates with a snippet (`buildSnippet`), or null when only its title matched.
   */
  abstract list(scope: OwnerScope, query: PageQuery & { q?: string }): Promise<Page<ListedThread>>;
  /** Applies the patch and bumps `updatedAt` (activity). */
  abstract update(scope: OwnerScope, id: string, patch: ThreadPatch): Promise<ThreadEntity | null>;
  /** Deletes the thread and its messages. */
  abstract delete(scope: OwnerScope, id: string): Promise<boolean>;
  /** Every thread of the owner, oldest first (exports). */
  abstract listAll(scope: OwnerScope): Promise<ThreadEntity[]>;
  abstract count(since?: Date): Promise<number>;
  /**
   * Takes the thread's generation lease when it is free or expired: one generation per thread at a time, across
   * processes. Returns false when another holder's lease is live.
   */
  abstract acquireGenerationLease(
    scope: OwnerScope,
    id: string,
    holder: string,
    until: Date,
    now: Date,
  ): Promise<boolean>;
  abstract renewGenerationLease(scope: OwnerScope, id: string, holder: string, until: Date): Promise<boolean>;
  abstract releaseGenerationLease(scope: OwnerScope, id: string, holder: string): Promise<void>;
}

export interface NewMessage {
  threadId: string;
  parentId: string | null;
  role: MessageRole;
  content: string;
  model: string;
  status: MessageStatus;
  usage?: TokenUsage | null;
  clientMessageId?: string | null;
}

export interface BranchPage {
  /** Oldest first. */
  items: MessageEntity[];
  /** Pass as `before` for the next older page; null at the root. */
  nextBefore: string | null;
  /** How many messages the whole branch holds, root to leaf (0 when the leaf is unknown to this owner). */
  total: number;
}

/** The text so far of one reply being generated (see `MessageRepository.saveProgress`). */
export interface ReplyProgress {
  scope: OwnerScope;
  id: string;
  content: string;
  reasoning: string | null;
}

export abstract class MessageRepository {
  /**
   * Stores a message. With a `clientMessageId`, at most one message per thread carries it: a repeat returns the
   * stored one with `created: false`, even when the two inserts race.
   */
  abstract create(scope: OwnerScope, input: NewMessage): Promise<{ message: MessageEntity; created: boolean }>;
  abstract findById(scope: OwnerScope, id: string): Promise<MessageEntity | null>;
  abstract findByClientMessageId(
    scope: OwnerScope,
    threadId: string,
    clientMessageId: string,
  ): Promise<MessageEntity | null>;
  abstract update(
    scope: OwnerScope,
    id: string,
    patch: Partial<Pick<MessageEntity, 'content' | 'reasoning' | 'status' | 'usage'>>,
  ): Promise<MessageEntity | null>;
  /**
   * Writes the text so far of replies being generated, all in one go (one transaction where the database has them):
   * the periodic flush of every streaming reply of this process. Only rows still `streaming` and owned by the
   * item's owner change; `reasoning` null leaves the stored reasoning as it is.
   */
  abstract saveProgress(items: readonly ReplyProgress[]): Promise<void>;
  /**
   * The branch from the root to `leafId`, newest `limit` messages older than `before` (a message id on that
   * branch), returned oldest first.
   */
  abstract branch(
    scope: OwnerScope,
    threadId: string,
    leafId: string,
    query: { limit: number; before?: string | null },
  ): Promise<BranchPage>;
  /** Every message of the thread (the whole tree), oldest first. */
  abstract listTree(scope: OwnerScope, threadId: string): Promise<MessageEntity[]>;
  abstract children(scope: OwnerScope, threadId: string, parentId: string | null): Promise<MessageEntity[]>;
  /** Messages left `streaming` by a process that died: marks those last updated before `olderThan` as `error`. */
  abstract failStale(olderThan: Date): Promise<number>;
  /**
   * Marks at most `limit` replies still `streaming` but last updated (written or touched by their generation's
   * lease renewal) before `olderThan` as `error`, and returns them. Each reply is claimed by exactly one caller, even
   * when several processes sweep at once, so that exactly one publishes its end.
   */
  abstract claimInterrupted(olderThan: Date, limit: number): Promise<MessageEntity[]>;
  abstract count(since?: Date): Promise<number>;
}

export abstract class AuditRepository {
  abstract record(entry: Omit<AuditEntry, 'id' | 'createdAt'> & { createdAt?: Date }): Promise<AuditEntry>;
  /** Newest first. */
  abstract list(query: PageQuery & { action?: string; actorId?: string; targetId?: string }): Promise<Page<AuditEntry>>;
}

export interface DailyUsage {
  day: string;
  usage: TokenUsage;
}

export abstract class UsageRepository {
  /** Records tokens spent by the user at `at` (one entry per reply). */
  abstract add(userId: string, usage: TokenUsage, at: Date): Promise<void>;
  abstract forDay(userId: string, at: Date): Promise<TokenUsage>;
  abstract total(userId: string): Promise<TokenUsage>;
  /**
   * The user's tokens per UTC day from the day containing `from` to the day containing `to`, oldest first; days
   * without usage are left out. `day` is `YYYY-MM-DD`.
   */
  abstract daily(userId: string, from: Date, to: Date): Promise<DailyUsage[]>;
  /** Tokens of all users; with `since`, only those spent at or after it. */
  abstract totalAll(since?: Date): Promise<TokenUsage>;
  /**
   * Reserves up to `wanted` tokens, and at least `minimum`, of what is left of the user's daily `limit` on the UTC day
   * of `at` (the tokens spent that day and the live reservations, those whose `until` has not passed). Returns the
   * reservation, or null when less than `minimum` is left. Atomic: reservations racing in any number of processes
   * never exceed the limit together. A reservation counts as no usage (sums above) until settled.
   */
  abstract reserve(
    userId: string,
    request: { wanted: number; minimum: number; limit: number; at: Date; until: Date },
  ): Promise<{ id: string; tokens: number } | null>;
  /** Replaces a reservation by the tokens actually spent, counted on the reservation's day. */
  abstract settle(reservationId: string, usage: TokenUsage): Promise<void>;
  /** Gives a reservation back unspent. */
  abstract release(reservationId: string): Promise<void>;
}

/** Liveness and identity of the database behind the repositories. */
export abstract class DatabaseHealth {
  abstract readonly kind: 'sqlite' | 'mongodb';
  abstract ping(): Promise<boolean>;
}
