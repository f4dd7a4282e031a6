import { randomUUID } from 'node:crypto';
import { httpClient, type JsonResponse, startApp, type TestApp } from '../support/app-harness';

export type Request = ReturnType<typeof httpClient>;

/** The contract's User fields, sorted: a response that shows a user shows exactly these. */
export const USER_KEYS = ['createdAt', 'disabled', 'email', 'id', 'name', 'role'];

export interface TestAccount {
  id: string;
  email: string;
  password: string;
  name: string;
  role: 'user' | 'admin';
  accessToken: string;
  refreshToken: string;
}

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomUUID()}@example.com`;
}

/** Account factories over real HTTP: each test makes the users it needs. */
export function accountsOf(request: Request) {
  async function signUp(
    input: { email?: string; password?: string; name?: string } = {},
    headers?: Record<string, string>,
  ): Promise<TestAccount> {
    const email = input.email ?? uniqueEmail();
    const password = input.password ?? `pw-${randomUUID()}`;
    const name = input.name ?? 'Test User';
    const res = await request('POST', '/auth/signup', { body: { email, password, name }, headers });
    if (res.status !== 201) {
      throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return { id: res.body.user.id, email, password, name, role: res.body.user.role, ...tokensOf(res) };
  }

  async function login(account: Pick<TestAccount, 'email' | 'password'>, headers?: Record<string, string>) {
    return request('POST', '/auth/login', { body: { email: account.email, password: account.password }, headers });
  }

  return { signUp, login };
}

export function tokensOf(res: JsonResponse): { accessToken: string; refreshToken: string } {
  return { accessToken: res.body.accessToken, refreshToken: res.body.refreshToken };
}

/** A started app with its client and account factories; the first account signed up on it is the admin. */
export async function startAuthApp(env: Record<string, string> = {}) {
  const app: TestApp = await startApp({ SIGNUP_RATE_LIMIT: '10000/h', LOGIN_RATE_LIMIT: '1000/15m', ...env });
  const request = httpClient(app.url);
  return { ...app, request, ...accountsOf(request) };
}

/** A JWT with the given header and payload and an empty signature. */
export function unsignedJwt(header: object, payload: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part(header)}.${part(payload)}.`;
}
