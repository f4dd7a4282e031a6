/** Every TanStack Query key of the app, named once so that features can share cache entries without importing each other. */
export const queryKeys = {
  me: ['me'] as const,
  models: ['models'] as const,
  threadLists: ['threads', 'list'] as const,
  threadList: (q: string) => ['threads', 'list', q] as const,
  thread: (id: string) => ['threads', 'detail', id] as const,
  messages: (threadId: string) => ['threads', 'messages', threadId] as const,
};
