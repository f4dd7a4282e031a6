import { AccountEvents, TokenVerifier, type VerifiedAccess } from '@app/auth';
import { AppError } from '@app/common';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';

/** Checks of one credential before giving up: each retry means a revocation of that user arrived during the last. */
export const MAX_CREDENTIAL_CHECKS = 3;

/** The longest access token a socket may present (a JWT of ours is about 250 characters). */
export const MAX_TOKEN_LENGTH = 4096;

/**
 * The one place where a socket's credential becomes a caller: the handshake (`auth.token`) and `auth:refresh` both
 * come here, with the same checks as HTTP (`TokenVerifier`). A check that overlaps a revocation of the same user is
 * repeated, because its answer may predate the revocation and the socket is not yet where the revocation would
 * disconnect it; after `MAX_CREDENTIAL_CHECKS` such overlaps the credential is refused rather than checked forever.
 */
@Injectable()
export class SocketAuthenticator implements OnModuleDestroy {
  /** Per check in progress: the users revoked meanwhile. */
  private readonly checks = new Set<Set<string>>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly verifier: TokenVerifier,
    events: AccountEvents,
  ) {
    this.unsubscribe = events.on((event) => {
      if (event.type === 'revoked') {
        for (const revoked of this.checks) {
          revoked.add(event.userId);
        }
      }
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }

  /** The caller a handshake's `auth` stands for, and until when. */
  async handshake(auth: unknown): Promise<VerifiedAccess> {
    const token: unknown = (auth as Record<string, unknown> | undefined)?.token;
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw new AppError('unauthorized', 'Authentication required');
    }
    return this.verify(token);
  }

  /** The caller an access token stands for, and until when; `unauthorized` when it stands for none. */
  async verify(token: string): Promise<VerifiedAccess> {
    for (let check = 0; check < MAX_CREDENTIAL_CHECKS; check++) {
      const revoked = new Set<string>();
      this.checks.add(revoked);
      try {
        const access = await this.verifier.verify(token);
        if (!revoked.has(access.user.userId)) {
          return access;
        }
      } finally {
        this.checks.delete(revoked);
      }
    }
    throw new AppError('unauthorized', 'The session changed while it was being checked: try again');
  }
}
