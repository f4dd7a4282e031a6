import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { queryKeys } from '../../../lib/query-keys';
import type { Message, ModelList, Thread } from '../../../lib/types';

export interface MessageTree {
  items: Message[];
}

export function useThread(id: string) {
  return useQuery({
    queryKey: queryKeys.thread(id),
    queryFn: ({ signal }) => api<Thread>(`/threads/${id}`, { signal }),
  });
}

/** Every message of the thread's tree: branches are switched and counted on the client. */
export function useMessageTree(id: string) {
  return useQuery({
    queryKey: queryKeys.messages(id),
    queryFn: ({ signal }) => api<MessageTree>(`/threads/${id}/messages?branch=all`, { signal }),
  });
}

export function useModels() {
  return useQuery({
    queryKey: queryKeys.models,
    queryFn: ({ signal }) => api<ModelList>('/models', { signal }),
    staleTime: 5 * 60_000,
  });
}

export type ThreadPatch = Partial<
  Pick<Thread, 'title' | 'model' | 'systemPrompt' | 'activeLeafId' | 'temperature' | 'maxTokens'>
>;

export function useUpdateThread(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (patch: ThreadPatch) => api<Thread>(`/threads/${id}`, { method: 'PATCH', body: patch }),
    onMutate: (patch) => {
      client.setQueryData<Thread>(queryKeys.thread(id), (t) => (t ? { ...t, ...patch } : t));
    },
    onSuccess: (thread) => client.setQueryData(queryKeys.thread(id), thread),
    onError: () => client.invalidateQueries({ queryKey: queryKeys.thread(id) }),
    onSettled: () => client.invalidateQueries({ queryKey: queryKeys.threadLists }),
  });
}

export function createThread(input: { model?: string }): Promise<Thread> {
  return api<Thread>('/threads', { method: 'POST', body: input });
}
