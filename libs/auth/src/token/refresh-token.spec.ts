import { hashRefreshToken, newRefreshToken, sealSuccessor, unsealSuccessor } from './refresh-token';

describe('refresh tokens', () => {
  it('should be 32 random bytes in base64url, never repeated', () => {
    const tokens = new Set(Array.from({ length: 1000 }, newRefreshToken));
    expect(tokens.size).toBe(1000);
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    }
  });

  it('should be stored as a SHA-256 digest that does not contain the token', () => {
    const token = newRefreshToken();
    const hash = hashRefreshToken(token);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(token);
    expect(hashRefreshToken(token)).toBe(hash);
    expect(hashRefreshToken(newRefreshToken())).not.toBe(hash);
  });
});

describe('refresh-token successor seals', () => {
  it('should open only with the spent token it was sealed with', () => {
    const spent = newRefreshToken();
    const successor = newRefreshToken();
    const sealed = sealSuccessor(successor, spent);
    expect(sealed).not.toContain(successor);
    expect(unsealSuccessor(sealed, spent)).toBe(successor);
    expect(unsealSuccessor(sealed, newRefreshToken())).toBeNull();
    expect(unsealSuccessor(sealed, hashRefreshToken(spent))).toBeNull();
    const [iv, , tag] = sealed.split('.');
    const otherData = sealSuccessor(successor, spent).split('.')[1];
    expect(unsealSuccessor([iv, otherData, tag].join('.'), spent)).toBeNull();
    expect(unsealSuccessor('garbage', spent)).toBeNull();
  });
});
