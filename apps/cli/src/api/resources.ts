/** The contract's resources, as far as the CLI reads them (shared/API.md). */
export interface User {
  id: string;
  email: string;
  name: string;
  role: 'user' | 'admin';
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface Me extends User {
  usage?: { today: TokenUsage; total: TokenUsage };
}

export interface Thread {
  id: string;
  title: string;
  model: string;
  systemPrompt: string;
  activeLeafId: string | null;
  createdAt: string;
  updatedAt: string;
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
  usage: TokenUsage | null;
  createdAt: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ModelList {
  models: Array<{ id: string; name: string; contextWindow: number }>;
  defaultModel: string;
}

export interface Session {
  user: User;
  accessToken: string;
  refreshToken: string;
}
