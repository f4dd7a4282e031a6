import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { queryKeys } from '../../../lib/query-keys';
import type { Page, TokenUsage, User } from '../../../lib/types';

export const ADMIN_PAGE_SIZE = 20;

export interface AdminUser extends User {
  threadCount: number;
  apiKeyCount: number;
  usage: TokenUsage;
  usageToday: TokenUsage;
  lastActiveAt: string | null;
}

export interface AuditEntry {
  id: string;
  actorId: string | null;
  actorEmail: string | null;
  action: string;
  targetId: string | null;
  targetEmail: string | null;
  ip: string | null;
  meta: Record<string, unknown>;
  createdAt: string;
}

export interface AuditFilter {
  actor: string;
  target: string;
}

export interface Stats {
  users: number;
  threads: number;
  messages: number;
  tokens: { total: TokenUsage; last24h: TokenUsage };
  last24h: { threads: number; messages: number };
}

function pageQuery(cursor: string | null, extra: Record<string, string>): string {
  const params = new URLSearchParams({ limit: String(ADMIN_PAGE_SIZE) });
  for (const [key, value] of Object.entries(extra)) {
    if (value) {
      params.set(key, value);
    }
  }
  if (cursor) {
    params.set('cursor', cursor);
  }
  return params.toString();
}

export function useAdminUsers(q: string, cursor: string | null) {
  return useQuery({
    queryKey: queryKeys.adminUsers(q, cursor),
    queryFn: ({ signal }) => api<Page<AdminUser>>(`/admin/users?${pageQuery(cursor, { q })}`, { signal }),
    placeholderData: keepPreviousData,
  });
}

export function useAuditLog(filter: AuditFilter, cursor: string | null) {
  return useQuery({
    queryKey: queryKeys.adminAudit(filter, cursor),
    queryFn: ({ signal }) =>
      api<Page<AuditEntry>>(`/admin/audit?${pageQuery(cursor, { actor: filter.actor, target: filter.target })}`, {
        signal,
      }),
    placeholderData: keepPreviousData,
  });
}

export function useStats() {
  return useQuery({ queryKey: queryKeys.adminStats, queryFn: ({ signal }) => api<Stats>('/admin/stats', { signal }) });
}

export type UserChange = { role: 'user' | 'admin' } | { disabled: boolean };

export function updateUser(id: string, change: UserChange): Promise<User> {
  return api<User>(`/admin/users/${id}`, { method: 'PATCH', body: change });
}

export function useUpdateUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, change }: { id: string; change: UserChange }) => updateUser(id, change),
    onSettled: () => client.invalidateQueries({ queryKey: queryKeys.adminUsersAll }),
  });
}

/** Applies one change to several users in turn (the API changes one user a request); reports each failure. */
export function useBulkUpdate() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ users, change }: { users: AdminUser[]; change: UserChange }) => {
      const failures: { user: AdminUser; error: unknown }[] = [];
      let done = 0;
      for (const user of users) {
        try {
          await updateUser(user.id, change);
          done += 1;
        } catch (error) {
          failures.push({ user, error });
        }
      }
      return { done, failures };
    },
    onSettled: () => client.invalidateQueries({ queryKey: queryKeys.adminUsersAll }),
  });
}

export function useDeleteUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>(`/admin/users/${id}`, { method: 'DELETE' }),
    onSettled: () => {
      void client.invalidateQueries({ queryKey: queryKeys.adminUsersAll });
      void client.invalidateQueries({ queryKey: queryKeys.adminStats });
    },
  });
}
