import { newId } from '@app/common';
import type { SessionEntity } from '../ports/entities';
import { MAX_GRACE_CHAIN, type NextRefreshToken, type RotateResult, SessionRepository } from '../ports/repositories';
import { op } from './mongo-filter';
import type { MongoModels } from './mongo-models';
import type { RefreshTokenDoc } from './refresh-token.schema';
import type { SessionDoc } from './session.schema';

function toSession(doc: SessionDoc): SessionEntity {
  return {
    id: doc._id,
    userId: doc.userId,
    createdAt: doc.createdAt,
    lastUsedAt: doc.lastUsedAt,
    expiresAt: doc.expiresAt,
    revokedAt: doc.revokedAt ?? null,
    userAgent: doc.userAgent ?? null,
    ip: doc.ip ?? null,
  };
}

export class MongoSessionRepository extends SessionRepository {
  constructor(private readonly m: MongoModels) {
    super();
  }

  async create(input: {
    userId: string;
    tokenHash: string;
    expiresAt: Date;
    userAgent?: string | null;
    ip?: string | null;
  }): Promise<SessionEntity> {
    const now = new Date();
    const session: SessionDoc = {
      _id: newId(),
      userId: input.userId,
      createdAt: now,
      lastUsedAt: now,
      expiresAt: input.expiresAt,
      revokedAt: null,
      userAgent: input.userAgent ?? null,
      ip: input.ip ?? null,
    };
    await this.m.sessions.create(session);
    try {
      await this.insertToken(input.tokenHash, session._id, input.expiresAt);
    } catch (err) {
      // No transactions on a standalone server: undo the session so no family exists without its first token.
      await this.m.sessions.deleteOne({ _id: session._id });
      throw err;
    }
    return toSession(session);
  }

  private async insertToken(tokenHash: string, sessionId: string, expiresAt: Date): Promise<void> {
    const token: RefreshTokenDoc = { _id: newId(), tokenHash, sessionId, expiresAt, usedAt: null };
    await this.m.refreshTokens.create(token);
  }

  async findById(id: string): Promise<SessionEntity | null> {
    const doc = await this.m.sessions.findOne({ _id: id }).lean<SessionDoc>();
    return doc ? toSession(doc) : null;
  }

  async findByTokenHash(tokenHash: string): Promise<SessionEntity | null> {
    const token = await this.m.refreshTokens.findOne({ tokenHash }).lean<RefreshTokenDoc>();
    return token ? this.findById(token.sessionId) : null;
  }

  async rotate(tokenHash: string, next: NextRefreshToken, now: Date, graceMs: number): Promise<RotateResult> {
    const token = await this.m.refreshTokens.findOne({ tokenHash }).lean<RefreshTokenDoc>();
    const session = token ? await this.m.sessions.findOne({ _id: token.sessionId }).lean<SessionDoc>() : null;
    if (
      !token ||
      !session ||
      session.revokedAt ||
      token.expiresAt.getTime() <= now.getTime() ||
      session.expiresAt.getTime() <= now.getTime()
    ) {
      return { status: 'invalid' };
    }
    if (token.usedAt) {
      return this.spentResult(token, session, now, graceMs);
    }
    // The spend itself is one conditional update, successor included: of concurrent rotations of a live token
    // exactly one matches `usedAt: null`; the others find it spent with its successor, as a second tab would.
    const spent = await this.m.refreshTokens.updateOne(
      { tokenHash, usedAt: null },
      { $set: { usedAt: now, successorHash: next.tokenHash, successorSealed: next.sealed } },
    );
    if (spent.modifiedCount !== 1) {
      const winner = await this.m.refreshTokens.findOne({ tokenHash }).lean<RefreshTokenDoc>();
      return winner?.usedAt ? this.spentResult(winner, session, now, graceMs) : { status: 'invalid' };
    }
    await this.insertToken(next.tokenHash, session._id, next.expiresAt);
    // Seals are needed only within the grace: erase the family's older ones.
    await this.m.refreshTokens.updateMany(
      {
        sessionId: session._id,
        successorSealed: op({ $type: 'string' as const }),
        usedAt: op({ $lt: new Date(now.getTime() - graceMs) }),
      },
      { $set: { successorSealed: null } },
    );
    const updated = await this.m.sessions
      .findOneAndUpdate(
        { _id: session._id },
        { $set: { lastUsedAt: now, expiresAt: next.expiresAt } },
        { returnDocument: 'after' },
      )
      .lean<SessionDoc>();
    return {
      status: 'rotated',
      session: toSession(updated ?? { ...session, lastUsedAt: now, expiresAt: next.expiresAt }),
    };
  }

  /** `grace` with the seals from a spent token to the family's live one, or `reused`. */
  private async spentResult(
    spent: RefreshTokenDoc,
    session: SessionDoc,
    now: Date,
    graceMs: number,
  ): Promise<RotateResult> {
    if (spent.usedAt && now.getTime() - spent.usedAt.getTime() < graceMs) {
      const seals: string[] = [];
      let link: RefreshTokenDoc | null = spent;
      while (link?.usedAt) {
        if (!link.successorSealed || !link.successorHash || seals.length >= MAX_GRACE_CHAIN) {
          return { status: 'reused', session: toSession(session) };
        }
        seals.push(link.successorSealed);
        // A successor not found yet is being inserted by the rotation that just spent its predecessor: it is live.
        link = await this.m.refreshTokens.findOne({ tokenHash: link.successorHash }).lean<RefreshTokenDoc>();
      }
      return { status: 'grace', session: toSession(session), successors: seals };
    }
    return { status: 'reused', session: toSession(session) };
  }

  async revoke(id: string, now: Date): Promise<boolean> {
    const result = await this.m.sessions.updateOne({ _id: id, revokedAt: null }, { $set: { revokedAt: now } });
    return result.matchedCount === 1;
  }

  async revokeAllForUser(userId: string, now: Date, exceptId?: string): Promise<string[]> {
    const live = await this.m.sessions
      .find(
        exceptId === undefined ? { userId, revokedAt: null } : { userId, revokedAt: null, _id: op({ $ne: exceptId }) },
        { _id: 1 },
      )
      .lean<{ _id: string }[]>();
    // One conditional update each, so only the sessions this call revoked are reported.
    const revoked = await Promise.all(live.map(async (s) => ((await this.revoke(s._id, now)) ? s._id : null)));
    return revoked.filter((id): id is string => id !== null);
  }

  async listActiveForUser(userId: string, now: Date): Promise<SessionEntity[]> {
    const docs = await this.m.sessions
      .find({ userId, revokedAt: null, expiresAt: op({ $gt: now }) })
      .sort({ createdAt: -1, _id: -1 })
      .lean<SessionDoc[]>();
    return docs.map(toSession);
  }
}
