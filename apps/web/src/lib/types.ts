/** The contract's resources (../shared/API.md), as the web app reads them. */
export interface User {
  id: string;
  email: string;
  name: string;
  role: 'user' | 'admin';
  disabled: boolean;
  createdAt: string;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/** GET /auth/me: the user with their token usage. */
export interface Profile extends User {
  usage: { today: TokenUsage; total: TokenUsage };
}

export interface Thread {
  id: string;
  title: string;
  model: string;
  systemPrompt: string;
  activeLeafId: string | null;
  /** Reply settings used when a message names none; null: the provider's default. */
  temperature: number | null;
  maxTokens: number | null;
  createdAt: string;
  updatedAt: string;
}

/** An excerpt of a message: plain text, with the [start, end) ranges of the searched words in it. */
export interface Snippet {
  text: string;
  highlights: [number, number][];
}

/** A thread in GET /threads; with q, why it matched (null when only its title did). */
export interface ListedThread extends Thread {
  match?: { messageId: string; snippet: Snippet } | null;
}

export type MessageStatus = 'complete' | 'streaming' | 'stopped' | 'error';

export interface Message {
  id: string;
  threadId: string;
  parentId: string | null;
  role: 'user' | 'assistant';
  content: string;
  model: string;
  status: MessageStatus;
  usage: { promptTokens: number; completionTokens: number } | null;
  /** The model's thinking text, kept apart from the answer (reasoning models only). */
  reasoning?: string | null;
  createdAt: string;
  contextOmitted?: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ModelInfo {
  id: string;
  name: string;
  contextWindow: number;
}

export interface ModelList {
  models: ModelInfo[];
  defaultModel: string;
  demo: boolean;
}

export interface AuthResult {
  user: User;
  accessToken: string;
  refreshToken: string;
}
