import { AppError } from '@app/common';
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';

/** The claims of an access token this server signed. */
export interface AccessClaims {
  /** The user id. */
  sub: string;
  /** The session (refresh-token family) the token was issued for: revoking it ends the token's life too. */
  sid: string;
  typ: 'access';
  iat: number;
  exp: number;
}

/** HS256 only, on signing and on verifying: a token that names another algorithm (`none`, RS256 ...) is refused. */
export const JWT_ALGORITHM = 'HS256';

/** Signs and verifies access JWTs (the secret and the lifetime come from `JwtModule`'s options, see `AuthModule`). */
@Injectable()
export class AccessTokens {
  constructor(private readonly jwt: JwtService) {}

  sign(userId: string, sessionId: string): Promise<string> {
    return this.jwt.signAsync({ sub: userId, sid: sessionId, typ: 'access' }, { algorithm: JWT_ALGORITHM });
  }

  /** The token's claims, or `unauthorized` for anything forged, expired, malformed or not an access token. */
  async verify(token: string): Promise<AccessClaims> {
    let payload: unknown;
    try {
      payload = await this.jwt.verifyAsync(token, { algorithms: [JWT_ALGORITHM] });
    } catch (err) {
      const expired = (err as { name?: string }).name === 'TokenExpiredError';
      throw new AppError('unauthorized', expired ? 'Access token expired' : 'Invalid access token');
    }
    if (!isAccessClaims(payload)) {
      throw new AppError('unauthorized', 'Invalid access token');
    }
    return payload;
  }
}

function isAccessClaims(payload: unknown): payload is AccessClaims {
  const claims = payload as Partial<AccessClaims> | null;
  return (
    typeof claims === 'object' &&
    claims !== null &&
    claims.typ === 'access' &&
    typeof claims.sub === 'string' &&
    typeof claims.sid === 'string' &&
    typeof claims.exp === 'number' &&
    typeof claims.iat === 'number'
  );
}
