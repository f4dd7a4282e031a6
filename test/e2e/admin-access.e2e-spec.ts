import { ADMIN_ONLY } from '@app/auth';
import { RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer, Reflector } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { type TestAccount, startAuthApp, tokensOf } from './auth.fixtures';

type Ctx = Awaited<ReturnType<typeof startAuthApp>>;

interface Route {
  method: string;
  path: string;
}

/** Every route of every controller of the running app whose handler or controller is marked @AdminOnly(). */
function adminRoutes(app: NestExpressApplication): { admin: Route[]; all: Route[] } {
  const reflector = app.get(Reflector);
  const all: Route[] = [];
  const admin: Route[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type | null;
      if (!controller) {
        continue;
      }
      const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[name];
        if (typeof handler !== 'function') {
          continue;
        }
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) {
          continue;
        }
        const sub = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
        const path = `/${[base, sub]
          .map((p) => p.replace(/^\/|\/$/g, ''))
          .filter(Boolean)
          .join('/')}`;
        const route = { method: RequestMethod[method], path };
        all.push(route);
        if (reflector.getAllAndOverride<boolean | undefined>(ADMIN_ONLY, [handler, controller])) {
          admin.push(route);
        }
      }
    }
  }
  return { admin, all };
}

describe('admin-only routes', () => {
  let ctx: Ctx;
  let admin: TestAccount;

  beforeAll(async () => {
    ctx = await startAuthApp();
    admin = await ctx.signUp({ name: 'Root' });
    expect(admin.role).toBe('admin');
  });
  afterAll(async () => {
    await ctx.close();
  });

  describe('access', () => {
    it('should answer 403 to a plain user and 401 to nobody on every route marked admin-only', async () => {
      const { admin: routes, all } = adminRoutes(ctx.app);
      // Every route under /admin is marked, and the marked ones are the ones the contract lists (at least).
      const names = (list: Route[]) => list.map((r) => `${r.method} ${r.path}`).sort();
      expect(names(all.filter((r) => r.path.startsWith('/admin')))).toEqual(names(routes));
      expect(names(routes)).toEqual(
        expect.arrayContaining([
          'GET /admin/users',
          'PATCH /admin/users/:id',
          'DELETE /admin/users/:id',
          'GET /admin/audit',
          'GET /admin/stats',
        ]),
      );
      const user = await ctx.signUp();
      for (const route of routes) {
        const path = route.path.replace(/:\w+/g, user.id);
        const body = route.method === 'GET' || route.method === 'HEAD' ? undefined : {};
        const asUser = await ctx.request(route.method, path, { token: user.accessToken, body });
        expect({ route, status: asUser.status, error: asUser.body?.error }).toEqual({
          route,
          status: 403,
          error: 'forbidden',
        });
        const anonymous = await ctx.request(route.method, path, { body });
        expect({ route, status: anonymous.status }).toEqual({ route, status: 401 });
        if (route.method === 'GET') {
          // The control: the same route answers an admin.
          const asAdmin = await ctx.request(route.method, path, { token: admin.accessToken });
          expect({ route, status: asAdmin.status }).toEqual({ route, status: 200 });
        }
      }
      // Nothing happened to the user whose id was used above.
      expect((await ctx.request('GET', '/auth/me', { token: user.accessToken })).body.role).toBe('user');
    });

    it('should mark the admin-only operations in the OpenAPI document', async () => {
      const doc = (await (await fetch(`${ctx.url}/api/docs-json`)).json()) as {
        paths: Record<string, Record<string, { 'x-admin-only'?: boolean }>>;
      };
      const marked = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.entries(ops)
          .filter(([, op]) => op['x-admin-only'])
          .map(([method]) => `${method.toUpperCase()} ${path}`),
      );
      const { admin: routes } = adminRoutes(ctx.app);
      expect(marked.sort()).toEqual(routes.map((r) => `${r.method} /api${r.path.replace(/:(\w+)/g, '{$1}')}`).sort());
    });
  });
});

describe('the last admin', () => {
  let ctx: Ctx;
  let root: TestAccount;
  let user: TestAccount;

  beforeAll(async () => {
    ctx = await startAuthApp();
    root = await ctx.signUp({ name: 'Root' });
    user = await ctx.signUp();
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('should not be demoted, disabled or deleted (409), by the admin API or by deleting the account', async () => {
    const cases = [
      ctx.request('PATCH', `/admin/users/${root.id}`, { token: root.accessToken, body: { role: 'user' } }),
      ctx.request('PATCH', `/admin/users/${root.id}`, { token: root.accessToken, body: { disabled: true } }),
      ctx.request('DELETE', `/admin/users/${root.id}`, { token: root.accessToken }),
      ctx.request('DELETE', '/auth/me', { token: root.accessToken, body: { password: root.password } }),
    ];
    for (const res of await Promise.all(cases)) {
      expect(res.status).toBe(409);
      expect(res.body.error).toBe('conflict');
    }
    expect((await ctx.request('GET', '/auth/me', { token: root.accessToken })).body).toMatchObject({
      role: 'admin',
      disabled: false,
    });
  });

  it('should count only enabled admins, and allow the change once another enabled admin exists', async () => {
    const second = await ctx.signUp();
    const promote = (body: object) =>
      ctx.request('PATCH', `/admin/users/${second.id}`, { token: root.accessToken, body });
    // A disabled admin administers nothing: it does not count.
    expect((await promote({ role: 'admin', disabled: true })).status).toBe(200);
    expect(
      (await ctx.request('PATCH', `/admin/users/${root.id}`, { token: root.accessToken, body: { role: 'user' } }))
        .status,
    ).toBe(409);
    expect((await promote({ disabled: false })).status).toBe(200);
    const secondTokens = tokensOf(await ctx.login(second));

    const demote = await ctx.request('PATCH', `/admin/users/${root.id}`, {
      token: secondTokens.accessToken,
      body: { role: 'user' },
    });
    expect(demote.status).toBe(200);
    // Now `second` is the last admin, and `root` cannot touch it any more.
    expect((await ctx.request('GET', '/admin/stats', { token: root.accessToken })).status).toBe(403);
    const selfDemote = await ctx.request('PATCH', `/admin/users/${second.id}`, {
      token: secondTokens.accessToken,
      body: { role: 'user' },
    });
    expect(selfDemote.status).toBe(409);
    expect(user.role).toBe('user');
  });
});
