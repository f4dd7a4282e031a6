import { type InfiniteData, useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { queryKeys } from '../../../lib/query-keys';
import type { ListedThread, Page, Thread } from '../../../lib/types';

const PAGE_SIZE = 30;

export function useThreadList(q: string) {
  return useInfiniteQuery({
    queryKey: queryKeys.threadList(q),
    queryFn: ({ pageParam, signal }) => {
      const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (q) {
        params.set('q', q);
      }
      if (pageParam) {
        params.set('cursor', pageParam);
      }
      return api<Page<ListedThread>>(`/threads?${params.toString()}`, { signal });
    },
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    placeholderData: (previous) => previous,
  });
}

type ThreadPages = InfiniteData<Page<ListedThread>, string | null>;

/** Applies a change to the thread in every cached list (a rename shows at once, before the server answers). */
function patchLists(client: ReturnType<typeof useQueryClient>, fn: (items: ListedThread[]) => ListedThread[]): void {
  client.setQueriesData<ThreadPages>({ queryKey: queryKeys.threadLists }, (data) =>
    data ? { ...data, pages: data.pages.map((p) => ({ ...p, items: fn(p.items) })) } : data,
  );
}

export function useRenameThread() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, title }: { id: string; title: string }) =>
      api<Thread>(`/threads/${id}`, { method: 'PATCH', body: { title } }),
    onMutate: ({ id, title }) => patchLists(client, (items) => items.map((t) => (t.id === id ? { ...t, title } : t))),
    onSuccess: (thread) => client.setQueryData(queryKeys.thread(thread.id), thread),
    onSettled: () => client.invalidateQueries({ queryKey: queryKeys.threadLists }),
  });
}

export function useDeleteThread() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>(`/threads/${id}`, { method: 'DELETE' }),
    onSuccess: (_void, id) => {
      patchLists(client, (items) => items.filter((t) => t.id !== id));
      client.removeQueries({ queryKey: queryKeys.thread(id) });
      client.removeQueries({ queryKey: queryKeys.messages(id) });
    },
  });
}
