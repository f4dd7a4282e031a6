/** Plain entities handed out by every adapter: no ORM documents, no SQL rows. */

export type Role = 'user' | 'admin';

export interface UserEntity {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: boolean;
  passwordHash: string;
  createdAt: Date;
  updatedAt: Date;
}

/** A sign-in: the family of refresh tokens that rotate from it. */
export interface SessionEntity {
  id: string;
  userId: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  userAgent: string | null;
  ip: string | null;
}

/** A personal API key. Only a digest of its secret is stored; `prefix` is the part shown to tell keys apart. */
export interface ApiKeyEntity {
  id: string;
  userId: string;
  name: string;
  prefix: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
}

export interface ThreadEntity {
  id: string;
  ownerId: string;
  title: string;
  model: string;
  systemPrompt: string;
  /** Reply settings used when a request names none; null: the provider's default. */
  temperature: number | null;
  maxTokens: number | null;
  activeLeafId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** An excerpt of a message, plain text, with the `[start, end)` UTF-16 ranges of the searched words in it. */
export interface Snippet {
  text: string;
  highlights: [number, number][];
}

/** Why a thread is in a search's results: its newest matching message (among the bounded candidates). */
export interface ThreadMatch {
  messageId: string;
  snippet: Snippet;
}

/** A thread as a listing returns it; a search adds `match` (null when only the title matched). */
export interface ListedThread extends ThreadEntity {
  match?: ThreadMatch | null;
}

export type MessageRole = 'user' | 'assistant';
export type MessageStatus = 'complete' | 'streaming' | 'stopped' | 'error';

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface MessageEntity {
  id: string;
  threadId: string;
  ownerId: string;
  parentId: string | null;
  role: MessageRole;
  content: string;
  /** A reply's thinking text, when the provider streams it apart from the answer; never sent back to a model. */
  reasoning: string | null;
  model: string;
  status: MessageStatus;
  usage: TokenUsage | null;
  clientMessageId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface AuditEntry {
  id: string;
  actorId: string | null;
  action: string;
  targetId: string | null;
  ip: string | null;
  meta: Record<string, unknown>;
  createdAt: Date;
}
