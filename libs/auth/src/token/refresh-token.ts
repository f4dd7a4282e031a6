import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/** A new opaque refresh token: 32 random bytes, base64url. Only its hash is ever stored. */
export function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the session store keeps of a refresh token: a SHA-256 digest (hex). A fast hash suffices for 256 random bits. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const SEAL_INFO = 'confab refresh-token successor';

function sealingKey(spent: string): Buffer {
  // HKDF, not the stored SHA-256 digest: the database holds the hash, which must not open the seal.
  return Buffer.from(hkdfSync('sha256', Buffer.from(spent, 'utf8'), Buffer.alloc(0), SEAL_INFO, 32));
}

/**
 * The successor of a refresh token, encrypted (AES-256-GCM) with a key only the spent token yields. It is stored
 * next to the spent token for the reuse grace, so that a second tab presenting the same token in that window gets
 * the same successor back; the database alone (hashes and seals) never yields a usable token.
 */
export function sealSuccessor(successor: string, spent: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(spent), iv);
  const sealed = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()]);
  return [iv, sealed, cipher.getAuthTag()].map((part) => part.toString('base64url')).join('.');
}

/** The successor sealed by `sealSuccessor` with this spent token, or null when the seal does not open with it. */
export function unsealSuccessor(sealed: string, spent: string): string | null {
  const [iv, data, tag] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'));
  if (!iv || !data || !tag || iv.length !== 12 || tag.length !== 16) {
    return null;
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealingKey(spent), iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
