import { AppError, newId, type Page, utcDayBounds } from '@app/common';
import type { Model } from 'mongoose';
import type { Role, TokenUsage, UserEntity } from '../ports/entities';
import { type PageQuery, UserRepository, type UserWithStats } from '../ports/repositories';
import { isDuplicateKey } from './mongo-errors';
import { escapeRegExp, op } from './mongo-filter';
import type { MongoModels } from './mongo-models';
import { keysetAfter, readCursor, toPage } from './mongo-paging';
import type { UserDoc } from './user.schema';

export function toUser(doc: UserDoc): UserEntity {
  return {
    id: doc._id,
    email: doc.email,
    name: doc.name,
    role: doc.role,
    disabled: doc.disabled,
    passwordHash: doc.passwordHash,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

export class MongoUserRepository extends UserRepository {
  private readonly users: Model<UserDoc>;

  constructor(private readonly m: MongoModels) {
    super();
    this.users = m.users;
  }

  async create(input: {
    email: string;
    name: string;
    passwordHash: string;
    role?: Role;
    firstUserIsAdmin?: boolean;
  }): Promise<UserEntity> {
    const now = new Date();
    const doc: UserDoc = {
      _id: newId(),
      email: input.email,
      emailLower: input.email.toLowerCase(),
      name: input.name,
      role: input.role ?? 'user',
      disabled: false,
      passwordHash: input.passwordHash,
      createdAt: now,
      updatedAt: now,
    };
    // Racing first sign-ups all see an empty collection; the unique index on `firstAdmin` lets exactly one of
    // them be stored as the admin, and the others are stored with the role they asked for.
    if (input.firstUserIsAdmin && (await this.users.exists({})) === null) {
      try {
        return await this.insert({ ...doc, role: 'admin', firstAdmin: true });
      } catch (err) {
        if (!isDuplicateKey(err, 'firstAdmin')) {
          throw err;
        }
      }
    }
    return this.insert(doc);
  }

  private async insert(doc: UserDoc): Promise<UserEntity> {
    try {
      await this.users.create(doc);
    } catch (err) {
      if (isDuplicateKey(err, 'emailLower')) {
        throw new AppError('conflict', 'An account with this email already exists');
      }
      throw err;
    }
    return toUser(doc);
  }

  async findById(id: string): Promise<UserEntity | null> {
    const doc = await this.users.findOne({ _id: id }).lean<UserDoc>();
    return doc ? toUser(doc) : null;
  }

  async findByEmail(email: string): Promise<UserEntity | null> {
    const doc = await this.users.findOne({ emailLower: email.toLowerCase() }).lean<UserDoc>();
    return doc ? toUser(doc) : null;
  }

  async update(
    id: string,
    patch: Partial<Pick<UserEntity, 'name' | 'role' | 'disabled' | 'passwordHash'>>,
  ): Promise<UserEntity | null> {
    const set: Partial<UserDoc> = { updatedAt: new Date() };
    if (patch.name !== undefined && patch.name !== null) {
      set.name = patch.name;
    }
    if (patch.role !== undefined && patch.role !== null) {
      set.role = patch.role;
    }
    if (patch.disabled !== undefined && patch.disabled !== null) {
      set.disabled = patch.disabled;
    }
    if (patch.passwordHash !== undefined && patch.passwordHash !== null) {
      set.passwordHash = patch.passwordHash;
    }
    const doc = await this.users
      .findOneAndUpdate({ _id: id }, { $set: set }, { returnDocument: 'after' })
      .lean<UserDoc>();
    return doc ? toUser(doc) : null;
  }

  async delete(id: string): Promise<boolean> {
    // What the SQLite foreign keys cascade to, removed before the user: if this stops half-way, the user is still
    // there and deleting again finishes the job. Audit entries stay.
    const sessionIds = (await this.m.sessions.find({ userId: id }, { _id: 1 }).lean<{ _id: string }[]>()).map(
      (s) => s._id,
    );
    if (sessionIds.length > 0) {
      await this.m.refreshTokens.deleteMany({ sessionId: op({ $in: sessionIds }) });
    }
    await this.m.sessions.deleteMany({ userId: id });
    await this.m.apiKeys.deleteMany({ userId: id });
    await this.m.messages.deleteMany({ ownerId: id });
    await this.m.threads.deleteMany({ ownerId: id });
    await this.m.tokenUsage.deleteMany({ userId: id });
    return (await this.users.deleteOne({ _id: id })).deletedCount === 1;
  }

  async findByIds(ids: string[]): Promise<UserEntity[]> {
    if (ids.length === 0) {
      return [];
    }
    const docs = await this.users.find({ _id: { $in: ids.map(String) } }).lean<UserDoc[]>();
    return docs.map(toUser);
  }

  async list(query: PageQuery & { q?: string; now?: Date }): Promise<Page<UserWithStats>> {
    const cursor = readCursor(query.cursor);
    const conditions: Record<string, unknown>[] = [];
    const q = query.q?.trim();
    if (q) {
      const pattern = new RegExp(escapeRegExp(q), 'i');
      conditions.push({ $or: [{ emailLower: pattern }, { name: pattern }] });
    }
    if (cursor) {
      conditions.push(keysetAfter('createdAt', cursor));
    }
    const docs = await this.users
      .find(conditions.length > 0 ? { $and: conditions } : {})
      .sort({ createdAt: -1, _id: -1 })
      .limit(query.limit + 1)
      .lean<UserDoc[]>();
    const page = toPage(docs, query.limit, (d) => d.createdAt, toUser);
    const ids = page.items.map((u) => u.id);
    const [todayFrom, todayTo] = utcDayBounds(query.now ?? new Date());
    const [threadCounts, apiKeyCounts, usage, usageToday, sessionUse, keyUse] = await Promise.all([
      this.countsBy(this.m.threads, 'ownerId', ids),
      this.countsBy(this.m.apiKeys, 'userId', ids),
      this.usageTotals(ids),
      this.usageTotals(ids, { $gte: new Date(todayFrom), $lt: new Date(todayTo) }),
      this.latestBy(this.m.sessions, ids),
      this.latestBy(this.m.apiKeys, ids),
    ]);
    return {
      items: page.items.map((u) => ({
        ...u,
        threadCount: threadCounts.get(u.id) ?? 0,
        apiKeyCount: apiKeyCounts.get(u.id) ?? 0,
        usage: usage.get(u.id) ?? { promptTokens: 0, completionTokens: 0 },
        usageToday: usageToday.get(u.id) ?? { promptTokens: 0, completionTokens: 0 },
        lastActiveAt: latest(sessionUse.get(u.id), keyUse.get(u.id)),
      })),
      nextCursor: page.nextCursor,
    };
  }

  /** How many documents of `model` each user owns (by `field`). */
  private async countsBy(
    model: Pick<Model<unknown>, 'aggregate'>,
    field: string,
    userIds: string[],
  ): Promise<Map<string, number>> {
    if (userIds.length === 0) {
      return new Map();
    }
    const rows = await model.aggregate<{ _id: string; n: number }>([
      { $match: { [field]: { $in: userIds } } },
      { $group: { _id: `$${field}`, n: { $sum: 1 } } },
    ]);
    return new Map(rows.map((r) => [r._id, r.n]));
  }

  /** The latest `lastUsedAt` of each user's documents of `model` (sessions, API keys). */
  private async latestBy(model: Pick<Model<unknown>, 'aggregate'>, userIds: string[]): Promise<Map<string, Date>> {
    if (userIds.length === 0) {
      return new Map();
    }
    const rows = await model.aggregate<{ _id: string; at: Date | null }>([
      { $match: { userId: { $in: userIds } } },
      { $group: { _id: '$userId', at: { $max: '$lastUsedAt' } } },
    ]);
    return new Map(rows.filter((r) => r.at).map((r) => [r._id, r.at as Date]));
  }

  private async usageTotals(userIds: string[], at?: { $gte: Date; $lt: Date }): Promise<Map<string, TokenUsage>> {
    if (userIds.length === 0) {
      return new Map();
    }
    const rows = await this.m.tokenUsage.aggregate<{ _id: string; p: number; c: number }>([
      { $match: at ? { userId: { $in: userIds }, at } : { userId: { $in: userIds } } },
      { $group: { _id: '$userId', p: { $sum: '$promptTokens' }, c: { $sum: '$completionTokens' } } },
    ]);
    return new Map(rows.map((r) => [r._id, { promptTokens: r.p, completionTokens: r.c }]));
  }

  async count(): Promise<number> {
    return this.users.countDocuments({});
  }

  async countAdmins(options: { enabledOnly?: boolean } = {}): Promise<number> {
    return this.users.countDocuments(options.enabledOnly ? { role: 'admin', disabled: false } : { role: 'admin' });
  }
}

function latest(a: Date | undefined, b: Date | undefined): Date | null {
  if (!a || !b) {
    return a ?? b ?? null;
  }
  return a.getTime() >= b.getTime() ? a : b;
}
