import { apiKeySessionId, hashApiKey, isWellFormedApiKey, looksLikeApiKey, newApiKey } from './api-key-secret';

describe('API key secrets', () => {
  it('should be cfk_ and 32 random bytes in base64url, never repeated', () => {
    const keys = new Set(Array.from({ length: 500 }, () => newApiKey().key));
    expect(keys.size).toBe(500);
    for (const key of keys) {
      expect(key).toMatch(/^cfk_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(key.slice(4), 'base64url')).toHaveLength(32);
      expect(isWellFormedApiKey(key)).toBe(true);
      expect(looksLikeApiKey(key)).toBe(true);
    }
  });

  it('should show a prefix too short to use and store only a digest that does not contain the key', () => {
    const { key, prefix, secretHash } = newApiKey();
    expect(prefix).toBe(key.slice(0, 12));
    expect(secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(secretHash).not.toContain(key.slice(4));
    expect(hashApiKey(key)).toBe(secretHash);
    expect(hashApiKey(newApiKey().key)).not.toBe(secretHash);
  });

  it('should tell keys from JWTs and refuse malformed keys', () => {
    expect(looksLikeApiKey('eyJhbGciOiJIUzI1NiJ9.e30.x')).toBe(false);
    expect(isWellFormedApiKey('cfk_short')).toBe(false);
    expect(isWellFormedApiKey(`cfk_${'a'.repeat(42)}!`)).toBe(false);
    expect(apiKeySessionId('abc')).toBe('apikey:abc');
  });
});
