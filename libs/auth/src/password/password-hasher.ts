import { APP_CONFIG, type AppConfig } from '@app/common';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import bcrypt from 'bcrypt';
import { createHash, randomBytes } from 'node:crypto';

/**
 * bcrypt reads only the first 72 bytes of its input, so two long passwords sharing a prefix would be the same
 * password. Hashing the whole password with SHA-256 first (base64: 44 ASCII bytes, no NUL) makes every character
 * count; bcrypt still supplies the salt and the work factor.
 */
export function bcryptInput(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('base64');
}

/** Password hashing on bcrypt's async API, which runs on libuv's thread pool and never blocks the event loop. */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  private dummyHash?: Promise<string>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Makes the dummy hash in the background at start, so that the first unknown email is not slower than the rest. */
  onModuleInit(): void {
    this.dummy().catch(() => {
      this.dummyHash = undefined;
    });
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(bcryptInput(password), this.config.bcryptCost);
  }

  verify(password: string, hash: string): Promise<boolean> {
    return bcrypt.compare(bcryptInput(password), hash);
  }

  /**
   * Spends the same work as `verify` against a hash of nothing, so that an unknown email takes as long to refuse
   * as a wrong password. Always false.
   */
  async verifyNothing(password: string): Promise<false> {
    await bcrypt.compare(bcryptInput(password), await this.dummy());
    return false;
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= bcrypt.hash(randomBytes(32).toString('base64'), this.config.bcryptCost);
    return this.dummyHash;
  }
}
