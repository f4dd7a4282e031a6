/** Every TanStack Query key of the app, named once so that features can share cache entries without importing each other. */
export const queryKeys = {
  me: ['me'] as const,
  usage: ['me', 'usage'] as const,
  sessions: ['me', 'sessions'] as const,
  apiKeys: ['me', 'keys'] as const,
  adminUsersAll: ['admin', 'users'] as const,
  adminUsers: (q: string, cursor: string | null) => ['admin', 'users', q, cursor] as const,
  adminAudit: (filter: { actor: string; target: string }, cursor: string | null) =>
    ['admin', 'audit', filter.actor, filter.target, cursor] as const,
  adminStats: ['admin', 'stats'] as const,
  models: ['models'] as const,
  threadLists: ['threads', 'list'] as const,
  threadList: (q: string) => ['threads', 'list', q] as const,
  thread: (id: string) => ['threads', 'detail', id] as const,
  messages: (threadId: string) => ['threads', 'messages', threadId] as const,
};
