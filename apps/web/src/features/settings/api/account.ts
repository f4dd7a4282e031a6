import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../../lib/api-client';
import { queryKeys } from '../../../lib/query-keys';
import { session } from '../../../lib/session';
import { socketClient } from '../../../lib/socket';
import type { Profile, TokenUsage, User } from '../../../lib/types';

export interface DailyUsage extends TokenUsage {
  date: string;
}

export interface UsageHistory {
  today: TokenUsage;
  total: TokenUsage;
  dailyLimit: number | null;
  remainingToday: number | null;
  days: DailyUsage[];
}

export interface SignedInSession {
  id: string;
  userAgent: string | null;
  ip: string | null;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  current: boolean;
}

export function useProfile() {
  return useQuery({ queryKey: queryKeys.me, queryFn: ({ signal }) => api<Profile>('/auth/me', { signal }) });
}

export function useUsageHistory() {
  return useQuery({
    queryKey: queryKeys.usage,
    queryFn: ({ signal }) => api<UsageHistory>('/auth/me/usage', { signal }),
  });
}

export function useSessions() {
  return useQuery({
    queryKey: queryKeys.sessions,
    queryFn: ({ signal }) => api<{ items: SignedInSession[] }>('/auth/me/sessions', { signal }),
    select: (data) => data.items,
  });
}

export function useRename() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api<User>('/auth/me', { method: 'PATCH', body: { name } }),
    onSuccess: (user) => {
      session.updateUser(user);
      void client.invalidateQueries({ queryKey: queryKeys.me, exact: true });
    },
  });
}

export function useChangePassword() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: { currentPassword: string; newPassword: string }) =>
      api<void>('/auth/password', { method: 'POST', body: input }),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.sessions }),
  });
}

export function useRevokeSession() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<void>(`/auth/me/sessions/${id}`, { method: 'DELETE' }),
    onSettled: () => client.invalidateQueries({ queryKey: queryKeys.sessions }),
  });
}

export function useRevokeOtherSessions() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api<{ revoked: number }>('/auth/me/sessions/revoke-others', { method: 'POST' }),
    onSettled: () => client.invalidateQueries({ queryKey: queryKeys.sessions }),
  });
}

/** Downloads GET /auth/me/export as a JSON file named for the day. */
export async function downloadExport(): Promise<void> {
  const data = await api<unknown>('/auth/me/export');
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = `confab-export-${new Date().toISOString().slice(0, 10)}.json`;
  document.body.append(link);
  link.click();
  link.remove();
  // Give the browser the time to start the download before the URL goes.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Deletes the account. The socket goes first: the server ends every session as it deletes, and a socket told so
 * would otherwise race this page to the sign-in screen. A refused password reconnects it.
 */
export async function deleteAccount(password: string): Promise<void> {
  socketClient.disconnect();
  try {
    await api<void>('/auth/me', { method: 'DELETE', body: { password } });
  } catch (err) {
    socketClient.connect();
    throw err;
  }
}
