import { randomBytes } from 'node:crypto';

const PROCESS_UNIQUE = randomBytes(5);
let counter = randomBytes(3).readUIntBE(0, 3);

/**
 * A new opaque id: 24 lowercase hex characters (4 bytes of seconds, 5 random bytes fixed per process, a 3-byte
 * counter), the same shape as a MongoDB ObjectId so both adapters hand out ids of one shape, roughly time-ordered.
 */
export function newId(): string {
  const buf = Buffer.alloc(12);
  buf.writeUInt32BE(Math.floor(Date.now() / 1000), 0);
  PROCESS_UNIQUE.copy(buf, 4);
  counter = (counter + 1) % 0xffffff;
  buf.writeUIntBE(counter, 9, 3);
  return buf.toString('hex');
}

export const ID_PATTERN = /^[0-9a-f]{24}$/;

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}
