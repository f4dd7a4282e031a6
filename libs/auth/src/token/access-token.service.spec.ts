import { jest } from '@jest/globals';
import { JwtService } from '@nestjs/jwt';
import { AccessTokens } from './access-token.service';

const SECRET = 'unit-test-secret-of-sufficient-length-0123456789';

describe('AccessTokens', () => {
  let jwt: JwtService;
  let tokens: AccessTokens;

  beforeEach(() => {
    jwt = new JwtService({ secret: SECRET, signOptions: { expiresIn: 60 } });
    tokens = new AccessTokens(jwt);
  });

  afterEach(() => jest.restoreAllMocks());

  it('should check the signature once and answer again from the verified tokens', async () => {
    const token = await tokens.sign('user-1', 'session-1');
    const verify = jest.spyOn(jwt, 'verifyAsync');

    const first = await tokens.verify(token);
    const second = await tokens.verify(token);

    expect(first).toMatchObject({ sub: 'user-1', sid: 'session-1', typ: 'access' });
    expect(second).toEqual(first);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('should refuse a remembered token once it has expired', async () => {
    const clock = jest.spyOn(Date, 'now').mockReturnValue(Date.parse('2026-12-02T10:00:00Z'));
    const token = await tokens.sign('user-1', 'session-1');
    await tokens.verify(token);

    clock.mockReturnValue(Date.parse('2026-12-02T10:01:00Z')); // exactly the expiry (60 s)

    await expect(tokens.verify(token)).rejects.toMatchObject({ code: 'unauthorized', message: 'Access token expired' });
  });

  it('should still refuse a token that differs from a verified one by a byte', async () => {
    const token = await tokens.sign('user-1', 'session-1');
    await tokens.verify(token);
    const [header, payload, signature] = token.split('.');
    const forged = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;

    await expect(tokens.verify(forged)).rejects.toMatchObject({
      code: 'unauthorized',
      message: 'Invalid access token',
    });
  });

  it('should refuse a token signed with another secret', async () => {
    const other = new AccessTokens(new JwtService({ secret: `${SECRET}-other`, signOptions: { expiresIn: 60 } }));
    const token = await other.sign('user-1', 'session-1');

    await expect(tokens.verify(token)).rejects.toMatchObject({ code: 'unauthorized' });
  });
});
