import { api } from '../../../lib/api-client';
import { session } from '../../../lib/session';
import type { AuthResult } from '../../../lib/types';

export async function signUp(input: { name: string; email: string; password: string }): Promise<void> {
  const result = await api<AuthResult>('/auth/signup', { method: 'POST', body: input, auth: false });
  session.set(result);
}

export async function signIn(input: { email: string; password: string }): Promise<void> {
  const result = await api<AuthResult>('/auth/login', { method: 'POST', body: input, auth: false });
  session.set(result);
}

export async function signOut(): Promise<void> {
  const current = session.get();
  session.end(null);
  if (current) {
    // Best effort: the local session is gone either way.
    await api('/auth/logout', { method: 'POST', body: { refreshToken: current.refreshToken }, auth: false }).catch(
      () => undefined,
    );
  }
}
