import type { AppConfig } from '@app/common';
import { bcryptInput, PasswordHasher } from './password-hasher';

describe(PasswordHasher.name, () => {
  const hasher = new PasswordHasher({ bcryptCost: 4 } as AppConfig);

  it('should accept the password it hashed and refuse another', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$2[aby]\$04\$/);
    await expect(hasher.verify('correct horse battery staple', hash)).resolves.toBe(true);
    await expect(hasher.verify('correct horse battery stapl', hash)).resolves.toBe(false);
  });

  it('should count every character of a password longer than 72 bytes', async () => {
    const prefix = 'x'.repeat(99);
    const hash = await hasher.hash(`${prefix}a`);
    await expect(hasher.verify(`${prefix}b`, hash)).resolves.toBe(false);
    await expect(hasher.verify(`${prefix}a`, hash)).resolves.toBe(true);
  });

  it('should feed bcrypt a short ASCII digest of the whole password', () => {
    const input = bcryptInput('é'.repeat(128));
    expect(Buffer.byteLength(input)).toBeLessThanOrEqual(72);
    expect(input).not.toContain('\0');
    expect(bcryptInput('a'.repeat(100))).not.toBe(bcryptInput(`${'a'.repeat(99)}b`));
  });

  it('should refuse any password against the dummy hash', async () => {
    await expect(hasher.verifyNothing('anything at all')).resolves.toBe(false);
  });
});
