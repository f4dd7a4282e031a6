import type { AuthUser } from '../auth-user';
import { type LiveSession, SessionCache } from './session-cache';

const user = (sessionId: string, userId = 'u1', sessionExpiresAt = Number.MAX_SAFE_INTEGER): LiveSession => ({
  user: { userId, role: 'user', sessionId } satisfies AuthUser,
  sessionExpiresAt,
});

describe(SessionCache.name, () => {
  it('should answer from the cache until the entry is older than its lifetime', () => {
    const cache = new SessionCache(2000);
    cache.set(user('s1'), 1000, cache.begin());
    expect(cache.get('s1', 2999)).toEqual(user('s1'));
    expect(cache.get('s1', 3000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('should never answer for a session past its own expiry', () => {
    const cache = new SessionCache(2000);
    cache.set(user('s1', 'u1', 1500), 1000, cache.begin());
    expect(cache.get('s1', 1499)).toBeDefined();
    expect(cache.get('s1', 1500)).toBeUndefined();
  });

  it('should forget what an account event names: some sessions, all of them, or the user after a change', () => {
    const cache = new SessionCache(60_000);
    const fill = () => ['s1', 's2'].forEach((id) => cache.set(user(id), 0, cache.begin()));
    fill();
    cache.forget({ type: 'revoked', userId: 'u1', sessionIds: ['s1'] });
    expect([cache.get('s1', 1), cache.get('s2', 1)]).toEqual([undefined, user('s2')]);
    cache.forget({ type: 'revoked', userId: 'u1', sessionIds: 'all' });
    expect(cache.size).toBe(0);
    fill();
    cache.forget({ type: 'changed', userId: 'u1' });
    expect(cache.size).toBe(0);
  });

  it('should drop named sessions and every session of a user at once', () => {
    const cache = new SessionCache(2000);
    cache.set(user('s1'), 0, cache.begin());
    cache.set(user('s2'), 0, cache.begin());
    cache.set(user('s3', 'u2'), 0, cache.begin());
    cache.dropSessions(['s1']);
    expect(cache.get('s1', 1)).toBeUndefined();
    expect(cache.get('s2', 1)).toBeDefined();
    cache.dropUser('u1');
    expect(cache.get('s2', 1)).toBeUndefined();
    expect(cache.get('s3', 1)).toBeDefined();
  });

  it('should not store a lookup that started before a revocation', () => {
    const cache = new SessionCache(2000);
    const started = cache.begin();
    cache.dropUser('u1');
    cache.set(user('s1'), 0, started);
    expect(cache.get('s1', 1)).toBeUndefined();
  });

  it('should stay within its size bound by evicting the oldest entry', () => {
    const cache = new SessionCache(2000, 2);
    cache.set(user('s1'), 0, cache.begin());
    cache.set(user('s2'), 0, cache.begin());
    cache.set(user('s3'), 0, cache.begin());
    expect(cache.size).toBe(2);
    expect(cache.get('s1', 1)).toBeUndefined();
    expect(cache.get('s3', 1)).toBeDefined();
  });
});
