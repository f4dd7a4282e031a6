import { AppError, ConfigModule, loadConfig } from '@app/common';
import { type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiKeyRepository,
  AuditRepository,
  DatabaseHealth,
  MessageRepository,
  ownerScope,
  PersistenceModule,
  SEARCH_CANDIDATES,
  SessionRepository,
  SNIPPET_CHARS,
  ThreadRepository,
  UsageRepository,
  UserRepository,
} from '../src';

export interface Repos {
  users: UserRepository;
  sessions: SessionRepository;
  threads: ThreadRepository;
  messages: MessageRepository;
  audit: AuditRepository;
  usage: UsageRepository;
  apiKeys: ApiKeyRepository;
  health: DatabaseHealth;
}

/** Boots the persistence module as the server does, on a fresh database (a temp dir, or a fresh Mongo database). */
export async function bootRepos(mongodbUri: string | null): Promise<{ repos: Repos; close: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'confab-contract-'));
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, JWT_SECRET: 'x'.repeat(32) });
  // Each boot gets a database of its own, so tests that need an empty one (the first admin) get it.
  const uri = mongodbUri ? withDatabase(mongodbUri, `confab-contract-${randomBytes(6).toString('hex')}`) : null;
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(config), PersistenceModule.forRoot({ mongodbUri: uri })],
  }).compile();
  const app: INestApplicationContext = await moduleRef.init();
  const repos: Repos = {
    users: app.get(UserRepository),
    sessions: app.get(SessionRepository),
    threads: app.get(ThreadRepository),
    messages: app.get(MessageRepository),
    audit: app.get(AuditRepository),
    usage: app.get(UsageRepository),
    apiKeys: app.get(ApiKeyRepository),
    health: app.get(DatabaseHealth),
  };
  return {
    repos,
    close: async () => {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function withDatabase(uri: string, name: string): string {
  const url = new URL(uri);
  url.pathname = `/${name}`;
  return url.toString();
}

let seq = 0;
const uniqueEmail = (prefix = 'user') => `${prefix}-${Date.now().toString(36)}-${(seq++).toString(36)}@Example.com`;
const newIdLike = () => randomBytes(8).toString('hex');
const tick = () => new Promise((r) => setTimeout(r, 2));

/**
 * The one contract every persistence adapter honours. Services rely on exactly what is asserted here.
 * `mongodbUri` gives the MongoDB to test, or null for the embedded SQLite adapter.
 */
export function repositoryContract(adapter: string, mongodbUri: () => string | null) {
  describe(`repository contract (${adapter})`, () => {
    let r: Repos;
    let close: () => Promise<void>;

    beforeAll(async () => {
      ({ repos: r, close } = await bootRepos(mongodbUri()));
    });
    afterAll(async () => {
      await close();
    });

    const newUser = (patch: { role?: 'admin' | 'user'; name?: string; email?: string } = {}) =>
      r.users.create({
        email: patch.email ?? uniqueEmail(),
        name: patch.name ?? 'Test User',
        passwordHash: 'hash',
        role: patch.role,
      });

    async function newThread(ownerId: string, title = 'A thread') {
      return r.threads.create(ownerScope(ownerId), { title, model: 'demo', systemPrompt: '' });
    }

    describe('health', () => {
      it('should name its kind and answer a ping', async () => {
        expect(r.health.kind).toBe(adapter);
        await expect(r.health.ping()).resolves.toBe(true);
      });
    });

    describe('users', () => {
      it('should create, read, update and delete a user', async () => {
        const email = uniqueEmail('crud');
        const user = await r.users.create({ email, name: 'Ann', passwordHash: 'h1' });
        expect(user).toMatchObject({ email, name: 'Ann', role: 'user', disabled: false, passwordHash: 'h1' });
        expect(user.id).toMatch(/^[0-9a-f]{24}$/);
        expect(user.createdAt).toBeInstanceOf(Date);
        await expect(r.users.findById(user.id)).resolves.toMatchObject({ id: user.id, email });
        const updated = await r.users.update(user.id, {
          name: 'Anne',
          role: 'admin',
          disabled: true,
          passwordHash: 'h2',
        });
        expect(updated).toMatchObject({ name: 'Anne', role: 'admin', disabled: true, passwordHash: 'h2' });
        const partial = await r.users.update(user.id, { disabled: false });
        expect(partial).toMatchObject({ name: 'Anne', role: 'admin', disabled: false });
        await expect(r.users.delete(user.id)).resolves.toBe(true);
        await expect(r.users.findById(user.id)).resolves.toBeNull();
        await expect(r.users.delete(user.id)).resolves.toBe(false);
        await expect(r.users.update(user.id, { name: 'x' })).resolves.toBeNull();
      });

      it('should find by email case-insensitively and refuse a duplicate in any case', async () => {
        const email = uniqueEmail('Case');
        const user = await r.users.create({ email, name: 'Case', passwordHash: 'h' });
        await expect(r.users.findByEmail(email.toUpperCase())).resolves.toMatchObject({ id: user.id });
        await expect(r.users.findByEmail(email.toLowerCase())).resolves.toMatchObject({ id: user.id });
        const dup = r.users.create({ email: email.toUpperCase(), name: 'Dup', passwordHash: 'h' });
        await expect(dup).rejects.toBeInstanceOf(AppError);
        await expect(dup).rejects.toMatchObject({ code: 'conflict' });
        await expect(r.users.findByEmail('nobody-' + email)).resolves.toBeNull();
      });

      it('should not treat operator-like strings as queries', async () => {
        await expect(r.users.findByEmail('{"$gt": ""}')).resolves.toBeNull();
        await expect(r.users.findById('{"$ne": null}')).resolves.toBeNull();
      });

      it('should list newest first with cursor paging, search and per-user stats', async () => {
        const tag = `lst${Date.now().toString(36)}`;
        const created = [];
        for (let i = 0; i < 5; i++) {
          created.push(await newUser({ name: `${tag} Person ${i}` }));
          await tick();
        }
        await newThread(created[4].id);
        await newThread(created[4].id);
        await r.usage.add(created[4].id, { promptTokens: 7, completionTokens: 3 }, new Date());
        const first = await r.users.list({ limit: 2, q: tag.toUpperCase() });
        expect(first.items.map((u) => u.id)).toEqual([created[4].id, created[3].id]);
        expect(first.items[0]).toMatchObject({ threadCount: 2, usage: { promptTokens: 7, completionTokens: 3 } });
        expect(first.items[1]).toMatchObject({ threadCount: 0, usage: { promptTokens: 0, completionTokens: 0 } });
        expect(first.nextCursor).toEqual(expect.any(String));
        const second = await r.users.list({ limit: 2, q: tag, cursor: first.nextCursor });
        expect(second.items.map((u) => u.id)).toEqual([created[2].id, created[1].id]);
        const third = await r.users.list({ limit: 2, q: tag, cursor: second.nextCursor });
        expect(third.items.map((u) => u.id)).toEqual([created[0].id]);
        expect(third.nextCursor).toBeNull();
        const byEmail = await r.users.list({ limit: 10, q: created[2].email.slice(0, 12).toUpperCase() });
        expect(byEmail.items.map((u) => u.id)).toContain(created[2].id);
        await expect(r.users.list({ limit: 10, q: '%' + tag })).resolves.toMatchObject({ items: [] });
        await expect(r.users.list({ limit: 10, cursor: 'not-a-cursor' })).rejects.toMatchObject({
          code: 'validation_failed',
        });
      });

      it('should report tokens today (UTC) and the last activity of sessions and API keys in the list', async () => {
        const tag = `act${Date.now().toString(36)}`;
        const idle = await newUser({ name: `${tag} idle` });
        const busy = await newUser({ name: `${tag} busy` });
        const now = new Date();
        await r.usage.add(busy.id, { promptTokens: 4, completionTokens: 1 }, now);
        await r.usage.add(
          busy.id,
          { promptTokens: 40, completionTokens: 10 },
          new Date(now.getTime() - 2 * 86_400_000),
        );
        const session = await r.sessions.create({
          userId: busy.id,
          tokenHash: `act-${busy.id}`,
          expiresAt: new Date(now.getTime() + 60_000),
        });
        const key = await r.apiKeys.create(
          { userId: busy.id, name: 'k', prefix: 'cfk_act', secretHash: `act-key-${busy.id}`, expiresAt: null },
          10,
        );
        const keyUse = new Date(session.lastUsedAt.getTime() + 5_000);
        await r.apiKeys.touch(key!.id, keyUse, keyUse);
        const page = await r.users.list({ limit: 10, q: tag, now });
        const byId = new Map(page.items.map((u) => [u.id, u]));
        expect(byId.get(busy.id)).toMatchObject({
          usage: { promptTokens: 44, completionTokens: 11 },
          usageToday: { promptTokens: 4, completionTokens: 1 },
          lastActiveAt: keyUse,
        });
        expect(byId.get(idle.id)).toMatchObject({
          usageToday: { promptTokens: 0, completionTokens: 0 },
          lastActiveAt: null,
        });
        const yesterday = await r.users.list({ limit: 10, q: tag, now: new Date(now.getTime() - 86_400_000) });
        expect(yesterday.items.find((u) => u.id === busy.id)?.usageToday).toEqual({
          promptTokens: 0,
          completionTokens: 0,
        });
      });

      it('should find several users by id at once, ignoring unknown ids', async () => {
        const a = await newUser();
        const b = await newUser();
        const found = await r.users.findByIds([a.id, b.id, newIdLike() + 'abcdefgh', '{"$ne": null}']);
        expect(found.map((u) => u.id).sort()).toEqual([a.id, b.id].sort());
        expect(found.find((u) => u.id === a.id)).toMatchObject({ email: a.email });
        await expect(r.users.findByIds([])).resolves.toEqual([]);
      });

      it('should count users and admins', async () => {
        const before = await r.users.count();
        const admins = await r.users.countAdmins();
        const enabledAdmins = await r.users.countAdmins({ enabledOnly: true });
        const admin = await newUser({ role: 'admin' });
        expect(await r.users.count()).toBe(before + 1);
        expect(await r.users.countAdmins()).toBe(admins + 1);
        await r.users.update(admin.id, { disabled: true });
        expect(await r.users.countAdmins({ enabledOnly: true })).toBe(enabledAdmins);
        expect(await r.users.countAdmins()).toBe(admins + 1);
      });

      it('should cascade a user delete to threads, messages, sessions and usage', async () => {
        const user = await newUser();
        const other = await newUser();
        const scope = ownerScope(user.id);
        const thread = await newThread(user.id);
        const otherThread = await newThread(other.id);
        const { message } = await r.messages.create(scope, {
          threadId: thread.id,
          parentId: null,
          role: 'user',
          content: 'hi',
          model: 'demo',
          status: 'complete',
        });
        const session = await r.sessions.create({
          userId: user.id,
          tokenHash: `cascade-${user.id}`,
          expiresAt: new Date(Date.now() + 60_000),
        });
        await r.usage.add(user.id, { promptTokens: 5, completionTokens: 5 }, new Date());
        await r.users.delete(user.id);
        await expect(r.threads.findById(scope, thread.id)).resolves.toBeNull();
        await expect(r.messages.findById(scope, message.id)).resolves.toBeNull();
        await expect(r.sessions.findById(session.id)).resolves.toBeNull();
        await expect(r.sessions.findByTokenHash(`cascade-${user.id}`)).resolves.toBeNull();
        await expect(r.usage.total(user.id)).resolves.toEqual({ promptTokens: 0, completionTokens: 0 });
        await expect(r.threads.findById(ownerScope(other.id), otherThread.id)).resolves.not.toBeNull();
      });
    });

    describe('first admin', () => {
      it('should make exactly one admin when first sign-ups race (on an empty database)', async () => {
        const fresh = await bootRepos(mongodbUri());
        try {
          const users = await Promise.all(
            Array.from({ length: 8 }, (_, i) =>
              fresh.repos.users.create({
                email: uniqueEmail(`race${i}`),
                name: 'R',
                passwordHash: 'h',
                firstUserIsAdmin: true,
              }),
            ),
          );
          expect(users.filter((u) => u.role === 'admin')).toHaveLength(1);
          const later = await fresh.repos.users.create({
            email: uniqueEmail('late'),
            name: 'L',
            passwordHash: 'h',
            firstUserIsAdmin: true,
          });
          expect(later.role).toBe('user');
        } finally {
          await fresh.close();
        }
      });
    });

    describe('sessions', () => {
      const next = (tokenHash: string, expiresAt = new Date(Date.now() + 60_000)) => ({
        tokenHash,
        expiresAt,
        sealed: `sealed:${tokenHash}`,
      });

      it('should rotate a refresh token once and report reuse of a spent one', async () => {
        const user = await newUser();
        const later = new Date(Date.now() + 60_000);
        const session = await r.sessions.create({
          userId: user.id,
          tokenHash: `t1-${user.id}`,
          expiresAt: later,
          userAgent: 'jest',
          ip: '127.0.0.1',
        });
        expect(session).toMatchObject({ userId: user.id, revokedAt: null, userAgent: 'jest', ip: '127.0.0.1' });
        await expect(r.sessions.findById(session.id)).resolves.toMatchObject({ id: session.id });
        await expect(r.sessions.findByTokenHash(`t1-${user.id}`)).resolves.toMatchObject({ id: session.id });
        const rotated = await r.sessions.rotate(`t1-${user.id}`, next(`t2-${user.id}`), new Date(), 0);
        expect(rotated).toMatchObject({ status: 'rotated', session: { id: session.id } });
        const reused = await r.sessions.rotate(`t1-${user.id}`, next(`t3-${user.id}`), new Date(), 0);
        expect(reused).toMatchObject({ status: 'reused', session: { id: session.id } });
        await expect(r.sessions.findByTokenHash(`t3-${user.id}`)).resolves.toBeNull();
        await expect(r.sessions.rotate('unknown', next('x'), new Date(), 0)).resolves.toEqual({ status: 'invalid' });
        await expect(r.sessions.rotate(`t2-${user.id}`, next(`t4-${user.id}`), new Date(), 0)).resolves.toMatchObject({
          status: 'rotated',
        });
      });

      it('should let only one of concurrent rotations of the same token win; the others get its successor', async () => {
        const user = await newUser();
        const later = new Date(Date.now() + 60_000);
        await r.sessions.create({ userId: user.id, tokenHash: `c1-${user.id}`, expiresAt: later });
        const results = await Promise.all(
          [1, 2, 3, 4].map((i) => r.sessions.rotate(`c1-${user.id}`, next(`c2-${i}-${user.id}`), new Date(), 10_000)),
        );
        const winners = results.filter((x) => x.status === 'rotated');
        expect(winners).toHaveLength(1);
        const graced = results.filter((x) => x.status === 'grace');
        expect(graced).toHaveLength(3);
        // Every loser is handed the winner's successor, not one of its own.
        const winner = results.findIndex((x) => x.status === 'rotated') + 1;
        for (const result of graced) {
          expect(result).toMatchObject({ successors: [`sealed:c2-${winner}-${user.id}`] });
        }
        // Without a grace the losers are replays.
        await r.sessions.create({ userId: user.id, tokenHash: `d1-${user.id}`, expiresAt: later });
        const strict = await Promise.all(
          [1, 2, 3].map((i) => r.sessions.rotate(`d1-${user.id}`, next(`d2-${i}-${user.id}`), new Date(), 0)),
        );
        expect(strict.map((x) => x.status).sort()).toEqual(['reused', 'reused', 'rotated']);
      });

      it('should answer a token spent within the grace with the seals to the live token, and reuse after it', async () => {
        const user = await newUser();
        const t0 = Date.now();
        const at = (ms: number) => new Date(t0 + ms);
        const session = await r.sessions.create({
          userId: user.id,
          tokenHash: `g0-${user.id}`,
          expiresAt: at(60_000),
        });
        const grace = 10_000;
        expect(await r.sessions.rotate(`g0-${user.id}`, next(`g1-${user.id}`), at(0), grace)).toMatchObject({
          status: 'rotated',
        });
        // A second tab, 3 s later: nothing rotates, it is told the way to g1.
        expect(await r.sessions.rotate(`g0-${user.id}`, next(`gx-${user.id}`), at(3000), grace)).toEqual({
          status: 'grace',
          session: expect.objectContaining({ id: session.id }),
          successors: [`sealed:g1-${user.id}`],
        });
        await expect(r.sessions.findByTokenHash(`gx-${user.id}`)).resolves.toBeNull();
        // g1 rotates on: g0, still within its grace, leads through g1 to g2.
        expect(await r.sessions.rotate(`g1-${user.id}`, next(`g2-${user.id}`), at(5000), grace)).toMatchObject({
          status: 'rotated',
        });
        expect(await r.sessions.rotate(`g0-${user.id}`, next(`gy-${user.id}`), at(9000), grace)).toMatchObject({
          status: 'grace',
          successors: [`sealed:g1-${user.id}`, `sealed:g2-${user.id}`],
        });
        // After the grace the same token is a replay.
        expect(await r.sessions.rotate(`g0-${user.id}`, next(`gz-${user.id}`), at(10_001), grace)).toMatchObject({
          status: 'reused',
          session: { id: session.id },
        });
        expect(await r.sessions.rotate(`g1-${user.id}`, next(`gz-${user.id}`), at(14_000), grace)).toMatchObject({
          status: 'grace',
          successors: [`sealed:g2-${user.id}`],
        });
        await r.sessions.revoke(session.id, at(14_500));
        await expect(r.sessions.rotate(`g1-${user.id}`, next(`gz-${user.id}`), at(15_000), grace)).resolves.toEqual({
          status: 'invalid',
        });
      });

      it('should erase seals older than the grace as the family rotates', async () => {
        const user = await newUser();
        const t0 = Date.now();
        const at = (ms: number) => new Date(t0 + ms);
        await r.sessions.create({ userId: user.id, tokenHash: `s0-${user.id}`, expiresAt: at(600_000) });
        await r.sessions.rotate(`s0-${user.id}`, next(`s1-${user.id}`, at(600_000)), at(0), 1000);
        await r.sessions.rotate(`s1-${user.id}`, next(`s2-${user.id}`, at(600_000)), at(5000), 1000);
        // s0's seal is gone: even a grace long enough to reach back to it finds nothing to hand out.
        expect(await r.sessions.rotate(`s0-${user.id}`, next(`sx-${user.id}`), at(5500), 60_000)).toMatchObject({
          status: 'reused',
        });
      });

      it('should refuse expired and revoked tokens', async () => {
        const user = await newUser();
        const expired = await r.sessions.create({
          userId: user.id,
          tokenHash: `e1-${user.id}`,
          expiresAt: new Date(Date.now() - 1000),
        });
        await expect(r.sessions.rotate(`e1-${user.id}`, next(`e2-${user.id}`), new Date(), 10_000)).resolves.toEqual({
          status: 'invalid',
        });
        expect(expired.revokedAt).toBeNull();
        const live = await r.sessions.create({
          userId: user.id,
          tokenHash: `r1-${user.id}`,
          expiresAt: new Date(Date.now() + 60_000),
        });
        await expect(r.sessions.revoke(live.id, new Date())).resolves.toBe(true);
        await expect(r.sessions.revoke(live.id, new Date())).resolves.toBe(false);
        await expect(r.sessions.findById(live.id)).resolves.toMatchObject({ revokedAt: expect.any(Date) });
        await expect(r.sessions.rotate(`r1-${user.id}`, next(`r2-${user.id}`), new Date(), 10_000)).resolves.toEqual({
          status: 'invalid',
        });
      });

      it('should revoke all of a user\u2019s sessions but one, and list the live ones', async () => {
        const user = await newUser();
        const other = await newUser();
        const later = new Date(Date.now() + 60_000);
        const a = await r.sessions.create({ userId: user.id, tokenHash: `a-${user.id}`, expiresAt: later });
        const b = await r.sessions.create({ userId: user.id, tokenHash: `b-${user.id}`, expiresAt: later });
        const c = await r.sessions.create({ userId: user.id, tokenHash: `c-${user.id}`, expiresAt: later });
        const o = await r.sessions.create({ userId: other.id, tokenHash: `o-${other.id}`, expiresAt: later });
        expect((await r.sessions.listActiveForUser(user.id, new Date())).map((s) => s.id).sort()).toEqual(
          [a.id, b.id, c.id].sort(),
        );
        const revoked = await r.sessions.revokeAllForUser(user.id, new Date(), b.id);
        expect(revoked.sort()).toEqual([a.id, c.id].sort());
        expect((await r.sessions.listActiveForUser(user.id, new Date())).map((s) => s.id)).toEqual([b.id]);
        expect(await r.sessions.revokeAllForUser(user.id, new Date())).toEqual([b.id]);
        expect(await r.sessions.listActiveForUser(user.id, new Date())).toEqual([]);
        expect((await r.sessions.findById(o.id))?.revokedAt).toBeNull();
      });
    });

    describe('threads', () => {
      it('should create, read, update and delete within the owner scope only', async () => {
        const alice = await newUser();
        const bob = await newUser();
        const a = ownerScope(alice.id);
        const b = ownerScope(bob.id);
        const thread = await r.threads.create(a, { title: 'Plans', model: 'gpt-x', systemPrompt: 'Be brief.' });
        expect(thread).toMatchObject({
          ownerId: alice.id,
          title: 'Plans',
          model: 'gpt-x',
          systemPrompt: 'Be brief.',
          activeLeafId: null,
        });
        await expect(r.threads.findById(a, thread.id)).resolves.toMatchObject({ id: thread.id });
        await expect(r.threads.findById(b, thread.id)).resolves.toBeNull();
        await expect(r.threads.update(b, thread.id, { title: 'stolen' })).resolves.toBeNull();
        await expect(r.threads.delete(b, thread.id)).resolves.toBe(false);
        await tick();
        const renamed = await r.threads.update(a, thread.id, { title: 'Trips', systemPrompt: '' });
        expect(renamed).toMatchObject({ title: 'Trips', model: 'gpt-x', systemPrompt: '' });
        expect(renamed!.updatedAt.getTime()).toBeGreaterThan(thread.updatedAt.getTime());
        const leaf = await r.threads.update(a, thread.id, { activeLeafId: 'aaaaaaaaaaaaaaaaaaaaaaaa' });
        expect(leaf?.activeLeafId).toBe('aaaaaaaaaaaaaaaaaaaaaaaa');
        expect((await r.threads.update(a, thread.id, { model: 'm2' }))?.activeLeafId).toBe('aaaaaaaaaaaaaaaaaaaaaaaa');
        expect((await r.threads.update(a, thread.id, { activeLeafId: null }))?.activeLeafId).toBeNull();
        expect(await r.threads.listAll(b)).toEqual([]);
        expect((await r.threads.listAll(a)).map((t) => t.id)).toEqual([thread.id]);
        await expect(r.threads.delete(a, thread.id)).resolves.toBe(true);
        await expect(r.threads.findById(a, thread.id)).resolves.toBeNull();
      });

      it("should keep a thread's reply settings, change one without the other and clear them", async () => {
        const user = await newUser();
        const s = ownerScope(user.id);
        const thread = await r.threads.create(s, { title: 'Tuned', model: 'gpt-x', systemPrompt: '' });
        expect(thread).toMatchObject({ temperature: null, maxTokens: null });
        const tuned = await r.threads.update(s, thread.id, { temperature: 0.3, maxTokens: 512 });
        expect(tuned).toMatchObject({ temperature: 0.3, maxTokens: 512 });
        expect(await r.threads.update(s, thread.id, { title: 'Renamed' })).toMatchObject({
          temperature: 0.3,
          maxTokens: 512,
        });
        expect(await r.threads.update(s, thread.id, { temperature: null })).toMatchObject({
          temperature: null,
          maxTokens: 512,
        });
        expect(await r.threads.findById(s, thread.id)).toMatchObject({ temperature: null, maxTokens: 512 });
        expect((await r.threads.list(s, { limit: 5, cursor: null })).items[0]).toMatchObject({ maxTokens: 512 });
      });

      it('should page most recently active first, stable under concurrent inserts', async () => {
        const user = await newUser();
        const s = ownerScope(user.id);
        const made = [];
        for (let i = 0; i < 7; i++) {
          made.push(await newThread(user.id, `T${i}`));
          await tick();
        }
        await r.threads.update(s, made[2].id, { title: 'T2 bumped' });
        const expected = [made[2], made[6], made[5], made[4], made[3], made[1], made[0]].map((t) => t.id);
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page = await r.threads.list(s, { limit: 3, cursor });
          seen.push(...page.items.map((t) => t.id));
          cursor = page.nextCursor;
          if (pages === 0) {
            // New threads arriving while paging land before the cursor and never shift later pages.
            await Promise.all([newThread(user.id, 'late 1'), newThread(user.id, 'late 2')]);
          }
          pages++;
        } while (cursor);
        expect(seen).toEqual(expected);
        expect(pages).toBe(3);
        const all = await r.threads.list(s, { limit: 100 });
        expect(all.items).toHaveLength(9);
        expect(all.nextCursor).toBeNull();
        await expect(r.threads.list(s, { limit: 3, cursor: 'bogus' })).rejects.toMatchObject({
          code: 'validation_failed',
        });
      });

      it('should search titles and message text case-insensitively, owner only', async () => {
        const alice = await newUser();
        const bob = await newUser();
        const a = ownerScope(alice.id);
        const t1 = await newThread(alice.id, 'Kubernetes Upgrade');
        const t2 = await newThread(alice.id, 'Dinner');
        const t3 = await newThread(alice.id, 'Unrelated');
        await r.messages.create(a, {
          threadId: t2.id,
          parentId: null,
          role: 'user',
          content: 'How do I cook RISOTTO?',
          model: 'm',
          status: 'complete',
        });
        await r.messages.create(a, {
          threadId: t3.id,
          parentId: null,
          role: 'user',
          content: 'nothing here',
          model: 'm',
          status: 'complete',
        });
        const bt = await newThread(bob.id, 'kubernetes for bob');
        expect((await r.threads.list(a, { limit: 10, q: 'kubernetes' })).items.map((t) => t.id)).toEqual([t1.id]);
        expect((await r.threads.list(a, { limit: 10, q: 'risotto' })).items.map((t) => t.id)).toEqual([t2.id]);
        expect((await r.threads.list(a, { limit: 10, q: 'RiSoTtO' })).items.map((t) => t.id)).toEqual([t2.id]);
        expect(
          (await r.threads.list(ownerScope(bob.id), { limit: 10, q: 'Kubernetes' })).items.map((t) => t.id),
        ).toEqual([bt.id]);
        expect((await r.threads.list(ownerScope(bob.id), { limit: 10, q: 'risotto' })).items).toEqual([]);
        expect((await r.threads.list(a, { limit: 10, q: 'zebra' })).items).toEqual([]);
        expect((await r.threads.list(a, { limit: 10, q: '" OR * NEAR(' })).items).toEqual([]);
        await r.threads.update(a, t3.id, { title: 'Risotto ideas' });
        expect((await r.threads.list(a, { limit: 10, q: 'risotto' })).items.map((t) => t.id)).toEqual([t3.id, t2.id]);
        const paged = await r.threads.list(a, { limit: 1, q: 'risotto' });
        expect(paged.items.map((t) => t.id)).toEqual([t3.id]);
        expect(
          (await r.threads.list(a, { limit: 1, q: 'risotto', cursor: paged.nextCursor })).items.map((t) => t.id),
        ).toEqual([t2.id]);
      });

      it('should tell why each thread matched: a bounded, highlighted snippet of its newest match, owner only', async () => {
        const alice = await newUser();
        const bob = await newUser();
        const a = ownerScope(alice.id);
        const base = { parentId: null, role: 'user' as const, model: 'm', status: 'complete' as const };
        const words = (word: string) => Array.from({ length: 40 }, (_, i) => `${word}${i}`).join(' ');
        const chat = await newThread(alice.id, 'Weekend');
        await r.messages.create(a, { ...base, threadId: chat.id, content: 'An older PELICAN note' });
        const { message: newest } = await r.messages.create(a, {
          ...base,
          threadId: chat.id,
          content: `${words('before')}\n\nthe   Pelican dives; a pelican eats. ${words('after')}`,
        });
        await r.messages.create(a, { ...base, threadId: chat.id, content: 'a newer message about nothing' });
        const titled = await newThread(alice.id, 'Pelican facts');
        const bobs = await newThread(bob.id, 'Birds');
        const { message: bobMessage } = await r.messages.create(ownerScope(bob.id), {
          ...base,
          threadId: bobs.id,
          content: 'the pelican of bob',
        });
        const marked = (snippet: { text: string; highlights: [number, number][] }) =>
          snippet.highlights.map(([start, end]) => snippet.text.slice(start, end));

        const found = await r.threads.list(a, { limit: 10, q: 'pelican' });
        expect(found.items.map((t) => t.id)).toEqual([titled.id, chat.id]);
        expect(found.items[0].match).toBeNull();
        expect(found.items[1].match?.messageId).toBe(newest.id);
        const snippet = found.items[1].match!.snippet;
        expect(snippet.text).toContain('before39 the Pelican dives; a pelican eats. after0');
        expect(snippet.text.length).toBeLessThanOrEqual(SNIPPET_CHARS + 2);
        expect(snippet.text).toMatch(/^….*…$/);
        expect(marked(snippet)).toEqual(['Pelican', 'pelican']);
        expect(await r.threads.list(a, { limit: 10 })).toMatchObject({
          items: [expect.not.objectContaining({ match: expect.anything() }), expect.anything()],
        });

        const theirs = await r.threads.list(ownerScope(bob.id), { limit: 10, q: 'PELICAN' });
        expect(theirs.items.map((t) => t.match?.messageId)).toEqual([bobMessage.id]);
        expect(marked(theirs.items[0].match!.snippet)).toEqual(['pelican']);
        expect(JSON.stringify(found)).not.toContain('bob');

        if (adapter === 'sqlite') {
          // Each word is a prefix in SQLite: the part of the word that matched is highlighted.
          const prefixed = await r.threads.list(a, { limit: 10, q: 'PELI div' });
          expect(prefixed.items.map((t) => t.match?.messageId)).toEqual([newest.id]);
          expect(marked(prefixed.items[0].match!.snippet)).toEqual(['Peli', 'div', 'peli']);
        }
      });

      it('should bound a search to the threads of the newest SEARCH_CANDIDATES matching messages', async () => {
        const user = await newUser();
        const s = ownerScope(user.id);
        const old = await newThread(user.id, 'Old');
        const busy = await newThread(user.id, 'Busy');
        const base = { parentId: null, role: 'user' as const, model: 'm', status: 'complete' as const };
        await r.messages.create(s, { ...base, threadId: old.id, content: 'an early marmot, alone' });
        for (let i = 0; i < SEARCH_CANDIDATES; i++) {
          await r.messages.create(s, { ...base, threadId: busy.id, content: `marmot sighting ${i}` });
        }
        // The old thread is now the most recently active, but its match is older than the newest cap's worth.
        await r.threads.update(s, old.id, { title: 'Old, renamed' });
        expect((await r.threads.list(s, { limit: 10, q: 'marmot' })).items.map((t) => t.id)).toEqual([busy.id]);
        // A narrower query finds it.
        expect((await r.threads.list(s, { limit: 10, q: 'marmot alone' })).items.map((t) => t.id)).toEqual([old.id]);
        expect((await r.threads.list(s, { limit: 10, q: 'renamed' })).items.map((t) => t.id)).toEqual([old.id]);
      }, 60_000);

      it('should find a reply by its text once it has ended', async () => {
        const user = await newUser();
        const s = ownerScope(user.id);
        const thread = await newThread(user.id, 'Plain title');
        const { message } = await r.messages.create(s, {
          threadId: thread.id,
          parentId: null,
          role: 'assistant',
          content: '',
          model: 'm',
          status: 'streaming',
        });
        await r.messages.update(s, message.id, { content: 'partial quokka' });
        await r.messages.update(s, message.id, { content: 'partial quokka and wombat', status: 'complete' });
        expect((await r.threads.list(s, { limit: 5, q: 'wombat' })).items.map((t) => t.id)).toEqual([thread.id]);
        expect((await r.threads.list(s, { limit: 5, q: 'quokka' })).items.map((t) => t.id)).toEqual([thread.id]);
        await r.messages.update(s, message.id, { content: 'edited to platypus' });
        expect((await r.threads.list(s, { limit: 5, q: 'wombat' })).items).toEqual([]);
        expect((await r.threads.list(s, { limit: 5, q: 'platypus' })).items.map((t) => t.id)).toEqual([thread.id]);
        await r.threads.delete(s, thread.id);
        expect((await r.threads.list(s, { limit: 5, q: 'platypus' })).items).toEqual([]);
      });

      it('should cascade a thread delete to its messages', async () => {
        const user = await newUser();
        const s = ownerScope(user.id);
        const thread = await newThread(user.id);
        const { message } = await r.messages.create(s, {
          threadId: thread.id,
          parentId: null,
          role: 'user',
          content: 'x',
          model: 'm',
          status: 'complete',
        });
        await r.threads.delete(s, thread.id);
        await expect(r.messages.findById(s, message.id)).resolves.toBeNull();
        await expect(r.messages.listTree(s, thread.id)).resolves.toEqual([]);
      });

      it('should grant the generation lease to one holder at a time, and again after expiry or release', async () => {
        const user = await newUser();
        const s = ownerScope(user.id);
        const thread = await newThread(user.id);
        const now = new Date();
        const soon = new Date(now.getTime() + 30_000);
        const results = await Promise.all(
          ['h1', 'h2', 'h3'].map((h) => r.threads.acquireGenerationLease(s, thread.id, h, soon, now)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = ['h1', 'h2', 'h3'][results.indexOf(true)];
        const loser = winner === 'h1' ? 'h2' : 'h1';
        await expect(r.threads.acquireGenerationLease(s, thread.id, loser, soon, now)).resolves.toBe(false);
        await expect(r.threads.renewGenerationLease(s, thread.id, loser, soon)).resolves.toBe(false);
        await expect(r.threads.renewGenerationLease(s, thread.id, winner, soon)).resolves.toBe(true);
        await expect(
          r.threads.acquireGenerationLease(s, thread.id, loser, soon, new Date(soon.getTime() + 1)),
        ).resolves.toBe(true);
        await r.threads.releaseGenerationLease(s, thread.id, loser);
        await expect(r.threads.acquireGenerationLease(s, thread.id, winner, soon, now)).resolves.toBe(true);
        const stranger = ownerScope((await newUser()).id);
        await r.threads.releaseGenerationLease(s, thread.id, winner);
        await expect(r.threads.acquireGenerationLease(stranger, thread.id, 'x', soon, now)).resolves.toBe(false);
      });

      it('should count threads, in total and since a time', async () => {
        const before = await r.threads.count();
        const since = new Date();
        await newThread((await newUser()).id);
        expect(await r.threads.count()).toBe(before + 1);
        expect(await r.threads.count(since)).toBeGreaterThanOrEqual(1);
        expect(await r.threads.count(new Date(Date.now() + 60_000))).toBe(0);
      });
    });

    describe('messages', () => {
      it('should store and update messages within the owner scope only', async () => {
        const alice = await newUser();
        const bob = await newUser();
        const a = ownerScope(alice.id);
        const b = ownerScope(bob.id);
        const thread = await newThread(alice.id);
        const { message, created } = await r.messages.create(a, {
          threadId: thread.id,
          parentId: null,
          role: 'assistant',
          content: '',
          model: 'demo',
          status: 'streaming',
        });
        expect(created).toBe(true);
        expect(message).toMatchObject({
          threadId: thread.id,
          ownerId: alice.id,
          parentId: null,
          role: 'assistant',
          status: 'streaming',
          usage: null,
          clientMessageId: null,
        });
        await expect(r.messages.findById(b, message.id)).resolves.toBeNull();
        await expect(r.messages.update(b, message.id, { content: 'x' })).resolves.toBeNull();
        await expect(
          r.messages.create(b, {
            threadId: thread.id,
            parentId: null,
            role: 'user',
            content: 'intrude',
            model: 'm',
            status: 'complete',
          }),
        ).rejects.toThrow();
        expect(message.reasoning).toBeNull();
        const partial = await r.messages.update(a, message.id, { content: 'Hel' });
        expect(partial).toMatchObject({ content: 'Hel', reasoning: null, status: 'streaming', usage: null });
        const thinking = await r.messages.update(a, message.id, { reasoning: 'The user greets; greet back.' });
        expect(thinking).toMatchObject({ content: 'Hel', reasoning: 'The user greets; greet back.' });
        const done = await r.messages.update(a, message.id, {
          content: 'Hello',
          status: 'complete',
          usage: { promptTokens: 3, completionTokens: 2 },
        });
        expect(done).toMatchObject({
          content: 'Hello',
          reasoning: 'The user greets; greet back.',
          status: 'complete',
          usage: { promptTokens: 3, completionTokens: 2 },
        });
        await expect(r.messages.findById(a, message.id)).resolves.toMatchObject({
          content: 'Hello',
          reasoning: 'The user greets; greet back.',
          status: 'complete',
        });
        const [listed] = await r.messages.listTree(a, thread.id);
        expect(listed.reasoning).toBe('The user greets; greet back.');
      });

      it('should save the progress of several streaming replies at once, only streaming rows of their owner', async () => {
        const alice = await newUser();
        const bob = await newUser();
        const a = ownerScope(alice.id);
        const thread = await newThread(alice.id);
        const reply = (status: 'streaming' | 'complete', content = '') =>
          r.messages.create(a, { threadId: thread.id, parentId: null, role: 'assistant', content, model: 'm', status });
        const [one, two, ended] = await Promise.all([
          reply('streaming'),
          reply('streaming'),
          reply('complete', 'Final'),
        ]);
        await r.messages.update(a, two.message.id, { reasoning: 'thinking so far' });

        await r.messages.saveProgress([
          { scope: a, id: one.message.id, content: 'Hel', reasoning: null },
          { scope: a, id: two.message.id, content: 'Wor', reasoning: 'thinking more' },
          { scope: a, id: ended.message.id, content: 'late flush', reasoning: null },
          { scope: ownerScope(bob.id), id: one.message.id, content: 'intruder', reasoning: null },
        ]);
        await r.messages.saveProgress([]);

        await expect(r.messages.findById(a, one.message.id)).resolves.toMatchObject({
          content: 'Hel',
          reasoning: null,
          status: 'streaming',
        });
        await expect(r.messages.findById(a, two.message.id)).resolves.toMatchObject({
          content: 'Wor',
          reasoning: 'thinking more',
        });
        // A reply that has ended keeps its final text: a flush arriving late never overwrites it.
        await expect(r.messages.findById(a, ended.message.id)).resolves.toMatchObject({
          content: 'Final',
          status: 'complete',
        });
        await r.messages.saveProgress([{ scope: a, id: two.message.id, content: 'World', reasoning: null }]);
        await expect(r.messages.findById(a, two.message.id)).resolves.toMatchObject({
          content: 'World',
          reasoning: 'thinking more',
        });
      });

      it('should round-trip unicode, emoji and very long content byte for byte', async () => {
        const user = await newUser();
        const s = ownerScope(user.id);
        const thread = await r.threads.create(s, {
          title: 'Ünïcødé 🧵 标题',
          model: 'm',
          systemPrompt: 'Réponds en français 🇫🇷',
        });
        const samples = [
          'emoji 👩‍👩‍👧‍👦🏳️‍🌈 and ZWJ, RTL עברית العربية, CJK 漢字かなカナ, combining é vs é',
          '\u0000 nul \t tabs \r\n crlf \u2028 line separator \uFFFD',
          'x'.repeat(1_000_000) + '🎉',
          '{"$gt": ""} \'; DROP TABLE messages; --',
        ];
        for (const content of samples) {
          const { message } = await r.messages.create(s, {
            threadId: thread.id,
            parentId: null,
            role: 'user',
            content,
            model: 'm',
            status: 'complete',
          });
          const back = await r.messages.findById(s, message.id);
          expect(Buffer.from(back!.content, 'utf8').equals(Buffer.from(content, 'utf8'))).toBe(true);
        }
        const t = await r.threads.findById(s, thread.id);
        expect(t).toMatchObject({ title: 'Ünïcødé 🧵 标题', systemPrompt: 'Réponds en français 🇫🇷' });
        expect((await r.threads.list(s, { limit: 5, q: 'ünïcødé' })).items.map((x) => x.id)).toEqual([thread.id]);
      });

      it('should keep one message per clientMessageId, even under concurrent inserts', async () => {
        const user = await newUser();
        const s = ownerScope(user.id);
        const thread = await newThread(user.id);
        const input = {
          threadId: thread.id,
          parentId: null,
          role: 'user' as const,
          content: 'once',
          model: 'm',
          status: 'complete' as const,
          clientMessageId: 'client-1',
        };
        const results = await Promise.all(Array.from({ length: 6 }, () => r.messages.create(s, input)));
        expect(results.filter((x) => x.created)).toHaveLength(1);
        expect(new Set(results.map((x) => x.message.id)).size).toBe(1);
        expect(await r.messages.listTree(s, thread.id)).toHaveLength(1);
        await expect(r.messages.findByClientMessageId(s, thread.id, 'client-1')).resolves.toMatchObject({
          id: results[0].message.id,
        });
        await expect(
          r.messages.findByClientMessageId(ownerScope((await newUser()).id), thread.id, 'client-1'),
        ).resolves.toBeNull();
        const other = await newThread(user.id);
        const again = await r.messages.create(s, { ...input, threadId: other.id });
        expect(again.created).toBe(true);
        const noKey = await Promise.all([1, 2].map(() => r.messages.create(s, { ...input, clientMessageId: null })));
        expect(noKey.every((x) => x.created)).toBe(true);
      });

      it('should read the active branch from root to leaf, paging older with before', async () => {
        const user = await newUser();
        const s = ownerScope(user.id);
        const thread = await newThread(user.id);
        const add = async (parentId: string | null, content: string, role: 'user' | 'assistant' = 'user') =>
          (await r.messages.create(s, { threadId: thread.id, parentId, role, content, model: 'm', status: 'complete' }))
            .message;
        // q1 -> a1 -> q2 -> a2 (main), and q2' edited from a1, with its answer a2'
        const q1 = await add(null, 'q1');
        const a1 = await add(q1.id, 'a1', 'assistant');
        const q2 = await add(a1.id, 'q2');
        const a2 = await add(q2.id, 'a2', 'assistant');
        const q2b = await add(a1.id, "q2'");
        const a2b = await add(q2b.id, "a2'", 'assistant');
        const full = await r.messages.branch(s, thread.id, a2.id, { limit: 50 });
        expect(full.items.map((m) => m.content)).toEqual(['q1', 'a1', 'q2', 'a2']);
        expect(full.nextBefore).toBeNull();
        expect(full.total).toBe(4);
        const other = await r.messages.branch(s, thread.id, a2b.id, { limit: 50 });
        expect(other.items.map((m) => m.content)).toEqual(['q1', 'a1', "q2'", "a2'"]);
        const newest = await r.messages.branch(s, thread.id, a2.id, { limit: 3 });
        expect(newest.items.map((m) => m.content)).toEqual(['a1', 'q2', 'a2']);
        expect(newest.nextBefore).toBe(a1.id);
        expect(newest.total).toBe(4);
        const older = await r.messages.branch(s, thread.id, a2.id, { limit: 3, before: newest.nextBefore });
        expect(older.items.map((m) => m.content)).toEqual(['q1']);
        expect(older.nextBefore).toBeNull();
        expect(older.total).toBe(4);
        await expect(r.messages.branch(s, thread.id, a2.id, { limit: 3, before: q1.id })).resolves.toEqual({
          items: [],
          nextBefore: null,
          total: 4,
        });
        const exact = await r.messages.branch(s, thread.id, a2.id, { limit: 2, before: q2.id });
        expect(exact.items.map((m) => m.content)).toEqual(['q1', 'a1']);
        expect(exact.nextBefore).toBeNull();
        // a `before` off the branch gives no messages; a foreign owner or an unknown leaf give no branch at all
        await expect(r.messages.branch(s, thread.id, a2.id, { limit: 5, before: a2b.id })).resolves.toEqual({
          items: [],
          nextBefore: null,
          total: 4,
        });
        await expect(
          r.messages.branch(ownerScope((await newUser()).id), thread.id, a2.id, { limit: 5 }),
        ).resolves.toEqual({ items: [], nextBefore: null, total: 0 });
        await expect(r.messages.branch(s, thread.id, 'ffffffffffffffffffffffff', { limit: 5 })).resolves.toEqual({
          items: [],
          nextBefore: null,
          total: 0,
        });
        const tree = await r.messages.listTree(s, thread.id);
        expect(tree.map((m) => m.content)).toEqual(['q1', 'a1', 'q2', 'a2', "q2'", "a2'"]);
        expect((await r.messages.children(s, thread.id, a1.id)).map((m) => m.content)).toEqual(['q2', "q2'"]);
        expect((await r.messages.children(s, thread.id, null)).map((m) => m.content)).toEqual(['q1']);
      });

      it('should fail messages left streaming by a dead process, and count messages', async () => {
        const user = await newUser();
        const s = ownerScope(user.id);
        const thread = await newThread(user.id);
        const before = await r.messages.count();
        const { message } = await r.messages.create(s, {
          threadId: thread.id,
          parentId: null,
          role: 'assistant',
          content: 'half',
          model: 'm',
          status: 'streaming',
        });
        expect(await r.messages.count()).toBe(before + 1);
        expect(await r.messages.count(new Date(Date.now() + 60_000))).toBe(0);
        await expect(r.messages.failStale(new Date(Date.now() - 60_000))).resolves.toBe(0);
        await tick();
        expect(await r.messages.failStale(new Date(Date.now() + 1))).toBeGreaterThanOrEqual(1);
        await expect(r.messages.findById(s, message.id)).resolves.toMatchObject({ status: 'error', content: 'half' });
      });

      it('should claim each interrupted reply once, even for sweepers racing each other', async () => {
        const user = await newUser();
        const s = ownerScope(user.id);
        const thread = await newThread(user.id);
        const streaming = (content: string) =>
          r.messages.create(s, {
            threadId: thread.id,
            parentId: null,
            role: 'assistant',
            content,
            model: 'm',
            status: 'streaming',
          });
        const stale = await Promise.all(['a', 'b', 'c'].map(streaming));
        await tick();
        const cutoff = new Date();
        await tick();
        const live = await streaming('live');
        await r.messages.update(s, stale[2].message.id, {}); // touched by its lease renewal: not interrupted

        const claims = await Promise.all([
          r.messages.claimInterrupted(cutoff, 10),
          r.messages.claimInterrupted(cutoff, 10),
          r.messages.claimInterrupted(cutoff, 10),
        ]);
        const claimed = claims.flat().filter((m) => m.threadId === thread.id);
        expect(claimed.map((m) => m.content).sort()).toEqual(['a', 'b']);
        expect(claimed.every((m) => m.status === 'error' && m.ownerId === user.id)).toBe(true);
        await expect(r.messages.findById(s, live.message.id)).resolves.toMatchObject({ status: 'streaming' });
        await expect(r.messages.findById(s, stale[2].message.id)).resolves.toMatchObject({ status: 'streaming' });
        expect((await r.messages.claimInterrupted(cutoff, 10)).filter((m) => m.threadId === thread.id)).toEqual([]);
      });
    });

    describe('api keys', () => {
      const newKey = (userId: string, name = 'script', secretHash = `h-${newIdLike()}`, max = 20) =>
        r.apiKeys.create({ userId, name, prefix: 'cfk_abcd1234', secretHash, expiresAt: null }, max);

      it('should store a key by its digest, find it by digest only and never hand the digest out', async () => {
        const user = await newUser();
        const expiresAt = new Date(Date.now() + 86_400_000);
        const key = await r.apiKeys.create(
          { userId: user.id, name: 'CI', prefix: 'cfk_AbCd1234', secretHash: `digest-${user.id}`, expiresAt },
          20,
        );
        expect(key).toEqual({
          id: expect.stringMatching(/^[0-9a-f]{24}$/),
          userId: user.id,
          name: 'CI',
          prefix: 'cfk_AbCd1234',
          createdAt: expect.any(Date),
          expiresAt,
          lastUsedAt: null,
        });
        await expect(r.apiKeys.findBySecretHash(`digest-${user.id}`)).resolves.toEqual(key);
        await expect(r.apiKeys.findBySecretHash('digest-unknown')).resolves.toBeNull();
        await expect(r.apiKeys.findBySecretHash('{"$ne": null}')).resolves.toBeNull();
        expect(JSON.stringify(await r.apiKeys.listForUser(user.id))).not.toContain('digest-');
      });

      it('should list a user\u2019s keys newest first and delete only the owner\u2019s', async () => {
        const alice = await newUser();
        const bob = await newUser();
        const first = (await newKey(alice.id, 'first'))!;
        await tick();
        const second = (await newKey(alice.id, 'second'))!;
        const bobs = (await newKey(bob.id, 'bob'))!;
        expect((await r.apiKeys.listForUser(alice.id)).map((k) => k.id)).toEqual([second.id, first.id]);
        await expect(r.apiKeys.delete(bob.id, first.id)).resolves.toBe(false);
        await expect(r.apiKeys.delete(alice.id, first.id)).resolves.toBe(true);
        await expect(r.apiKeys.delete(alice.id, first.id)).resolves.toBe(false);
        expect((await r.apiKeys.listForUser(alice.id)).map((k) => k.id)).toEqual([second.id]);
        expect((await r.apiKeys.listForUser(bob.id)).map((k) => k.id)).toEqual([bobs.id]);
      });

      it('should refuse a duplicate digest', async () => {
        const user = await newUser();
        await newKey(user.id, 'a', `dup-${user.id}`);
        await expect(newKey(user.id, 'b', `dup-${user.id}`)).rejects.toThrow();
        expect(await r.apiKeys.listForUser(user.id)).toHaveLength(1);
      });

      it('should keep a user at the key limit, even when creations race', async () => {
        const user = await newUser();
        for (let i = 0; i < 3; i++) {
          await expect(newKey(user.id, `k${i}`, undefined, 4)).resolves.not.toBeNull();
        }
        const racing = await Promise.all([1, 2, 3, 4].map((i) => newKey(user.id, `race${i}`, undefined, 4)));
        expect(racing.filter((k) => k !== null).length).toBeLessThanOrEqual(1);
        expect((await r.apiKeys.listForUser(user.id)).length).toBeLessThanOrEqual(4);
        await expect(newKey(user.id, 'over', undefined, 3)).resolves.toBeNull();
      });

      it('should write lastUsedAt only when it is unset or older than asked', async () => {
        const user = await newUser();
        const key = (await newKey(user.id))!;
        const t0 = new Date(Date.now() - 120_000);
        await expect(r.apiKeys.touch(key.id, t0, new Date(t0.getTime() - 60_000))).resolves.toBe(true);
        const t1 = new Date(t0.getTime() + 30_000);
        await expect(r.apiKeys.touch(key.id, t1, new Date(t1.getTime() - 60_000))).resolves.toBe(false);
        const t2 = new Date(t0.getTime() + 61_000);
        await expect(r.apiKeys.touch(key.id, t2, new Date(t2.getTime() - 60_000))).resolves.toBe(true);
        expect((await r.apiKeys.listForUser(user.id))[0].lastUsedAt?.getTime()).toBe(t2.getTime());
        await expect(r.apiKeys.touch('000000000000000000000000', t2, t2)).resolves.toBe(false);
      });

      it('should count keys in the admin users list and delete them with their user', async () => {
        const user = await newUser({ name: `keys-${newIdLike()}` });
        await newKey(user.id, 'a', `cnt-a-${user.id}`);
        await newKey(user.id, 'b', `cnt-b-${user.id}`);
        const page = await r.users.list({ limit: 5, q: user.name });
        expect(page.items.map((u) => [u.id, u.apiKeyCount])).toEqual([[user.id, 2]]);
        await r.users.delete(user.id);
        await expect(r.apiKeys.findBySecretHash(`cnt-a-${user.id}`)).resolves.toBeNull();
        expect(await r.apiKeys.listForUser(user.id)).toEqual([]);
      });
    });

    describe('audit', () => {
      it('should record entries and list them newest first, filtered and paged', async () => {
        const actor = await newUser();
        const target = await newUser();
        const entries = [];
        for (let i = 0; i < 4; i++) {
          entries.push(
            await r.audit.record({
              actorId: actor.id,
              action: i % 2 ? 'user.disable' : 'user.role',
              targetId: target.id,
              ip: '10.0.0.1',
              meta: { i, note: 'ü' },
            }),
          );
          await tick();
        }
        expect(entries[0]).toMatchObject({
          actorId: actor.id,
          action: 'user.role',
          targetId: target.id,
          ip: '10.0.0.1',
          meta: { i: 0, note: 'ü' },
        });
        const page1 = await r.audit.list({ limit: 3, actorId: actor.id });
        expect(page1.items.map((e) => e.id)).toEqual([entries[3].id, entries[2].id, entries[1].id]);
        const page2 = await r.audit.list({ limit: 3, actorId: actor.id, cursor: page1.nextCursor });
        expect(page2.items.map((e) => e.id)).toEqual([entries[0].id]);
        expect(page2.nextCursor).toBeNull();
        const filtered = await r.audit.list({ limit: 10, actorId: actor.id, action: 'user.disable' });
        expect(filtered.items.map((e) => e.id)).toEqual([entries[3].id, entries[1].id]);
        expect((await r.audit.list({ limit: 10, targetId: target.id })).items).toHaveLength(4);
        const anonymous = await r.audit.record({
          actorId: null,
          action: 'auth.login_failed',
          targetId: null,
          ip: null,
          meta: {},
        });
        expect((await r.audit.list({ limit: 1 })).items[0].id).toBe(anonymous.id);
      });

      it('should keep audit entries when the actor is deleted', async () => {
        const actor = await newUser();
        const entry = await r.audit.record({
          actorId: actor.id,
          action: 'user.delete',
          targetId: actor.id,
          ip: null,
          meta: {},
        });
        await r.users.delete(actor.id);
        expect((await r.audit.list({ limit: 5, actorId: actor.id })).items.map((e) => e.id)).toEqual([entry.id]);
      });
    });

    describe('usage', () => {
      it('should add up tokens per user per UTC day, in total and across users', async () => {
        const user = await newUser();
        const other = await newUser();
        const today = new Date();
        const yesterday = new Date(today.getTime() - 86_400_000);
        const allBefore = await r.usage.totalAll();
        const recentBefore = await r.usage.totalAll(new Date(today.getTime() - 1000));
        await r.usage.add(user.id, { promptTokens: 10, completionTokens: 5 }, today);
        await r.usage.add(user.id, { promptTokens: 1, completionTokens: 2 }, today);
        await r.usage.add(user.id, { promptTokens: 100, completionTokens: 50 }, yesterday);
        await r.usage.add(other.id, { promptTokens: 1000, completionTokens: 1000 }, today);
        await expect(r.usage.forDay(user.id, today)).resolves.toEqual({ promptTokens: 11, completionTokens: 7 });
        await expect(r.usage.forDay(user.id, yesterday)).resolves.toEqual({ promptTokens: 100, completionTokens: 50 });
        await expect(r.usage.total(user.id)).resolves.toEqual({ promptTokens: 111, completionTokens: 57 });
        const daily = await r.usage.daily(user.id, new Date(today.getTime() - 29 * 86_400_000), today);
        expect(daily).toEqual([
          { day: yesterday.toISOString().slice(0, 10), usage: { promptTokens: 100, completionTokens: 50 } },
          { day: today.toISOString().slice(0, 10), usage: { promptTokens: 11, completionTokens: 7 } },
        ]);
        await expect(r.usage.daily(user.id, today, today)).resolves.toEqual([daily[1]]);
        await expect(r.usage.daily(other.id, yesterday, yesterday)).resolves.toEqual([]);
        const all = await r.usage.totalAll();
        expect(all.promptTokens - allBefore.promptTokens).toBe(1111);
        const recent = await r.usage.totalAll(new Date(today.getTime() - 1000));
        expect(recent.completionTokens - recentBefore.completionTokens).toBe(1007);
      });

      it('should reserve quota atomically, never past the limit, and settle or release reservations', async () => {
        const user = await newUser();
        const at = new Date();
        const until = new Date(Date.now() + 60_000);
        await r.usage.add(user.id, { promptTokens: 10, completionTokens: 20 }, at);
        const ask = { wanted: 30, minimum: 5, limit: 100, at, until };
        const results = await Promise.all(Array.from({ length: 6 }, () => r.usage.reserve(user.id, ask)));
        const granted = results.filter((g): g is { id: string; tokens: number } => g !== null);
        expect(granted.map((g) => g.tokens).sort((a, b) => a - b)).toEqual([10, 30, 30]);
        // Reservations are not usage, and another user's quota is untouched.
        await expect(r.usage.forDay(user.id, at)).resolves.toEqual({ promptTokens: 10, completionTokens: 20 });
        const other = await newUser();
        await expect(r.usage.reserve(other.id, ask)).resolves.toMatchObject({ tokens: 30 });

        const [small] = granted.filter((g) => g.tokens === 10);
        const [big, released] = granted.filter((g) => g.tokens === 30);
        await r.usage.settle(small.id, { promptTokens: 3, completionTokens: 4 });
        await r.usage.release(released.id);
        await expect(r.usage.forDay(user.id, at)).resolves.toEqual({ promptTokens: 13, completionTokens: 24 });
        // Left: 100 - 37 spent - 30 still reserved.
        await expect(r.usage.reserve(user.id, { ...ask, wanted: 1000, minimum: 1 })).resolves.toMatchObject({
          tokens: 33,
        });
        await expect(r.usage.reserve(user.id, { ...ask, minimum: 1 })).resolves.toBeNull();
        await r.usage.settle(big.id, { promptTokens: 0, completionTokens: 0 });
        // An expired reservation (its instance crashed) no longer counts.
        const later = new Date(Date.now() + 1);
        const lapsed = await r.usage.reserve(other.id, { ...ask, wanted: 70, minimum: 1, until: later });
        expect(lapsed).toMatchObject({ tokens: 70 });
        await tick();
        await expect(r.usage.reserve(other.id, { ...ask, wanted: 70, minimum: 1 })).resolves.toMatchObject({
          tokens: 70,
        });
      });
    });
  });
}
