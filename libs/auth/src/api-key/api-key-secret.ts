import { createHash, randomBytes } from 'node:crypto';

/** Every personal API key starts with this, so it is recognisable in a config file and by secret scanners. */
export const API_KEY_PREFIX = 'cfk_';
/** How much of the key the list shows to tell keys apart: `cfk_` and 8 of its 43 random characters. */
const SHOWN_LENGTH = API_KEY_PREFIX.length + 8;
const API_KEY_SHAPE = /^cfk_[A-Za-z0-9_-]{43}$/;

/** A new key: `cfk_` + 32 random bytes in base64url (256 bits, so a fast digest is enough to store it). */
export function newApiKey(): { key: string; prefix: string; secretHash: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, prefix: key.slice(0, SHOWN_LENGTH), secretHash: hashApiKey(key) };
}

/** What the database keeps of a key: its SHA-256 digest (hex), the index it is looked up by. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** True for a bearer token that claims to be an API key (JWTs never start with `cfk_`). */
export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}

/** True for a string of exactly the shape `newApiKey` makes. */
export function isWellFormedApiKey(token: string): boolean {
  return API_KEY_SHAPE.test(token);
}

/** The `AuthUser.sessionId` of a caller authenticated by this key: revocation events name keys this way. */
export function apiKeySessionId(keyId: string): string {
  return `apikey:${keyId}`;
}
