import { io } from 'socket.io-client';
import { type ChatApp, startChatApp } from '../support/chat-fixtures';

/** Resolves 'connected' or the connect_error message for a handshake sent with this Origin header. */
async function handshake(url: string, token: string, origin?: string): Promise<string> {
  const socket = io(url, {
    path: '/socket.io',
    transports: ['websocket'],
    auth: { token },
    extraHeaders: origin ? { origin } : {},
    reconnection: false,
    timeout: 5000,
  });
  try {
    return await new Promise<string>((resolve) => {
      socket.once('connect', () => resolve('connected'));
      socket.once('connect_error', (err: Error) => resolve(err.message));
    });
  } finally {
    socket.close();
  }
}

describe('Socket.IO handshake origin (CORS_ORIGINS)', () => {
  let sameOrigin: ChatApp;
  let listed: ChatApp;

  beforeAll(async () => {
    sameOrigin = await startChatApp();
    listed = await startChatApp({ CORS_ORIGINS: 'https://chat.example.com' });
  });
  afterAll(async () => {
    await sameOrigin.close();
    await listed.close();
  });

  it('should accept same-origin and origin-less clients and refuse other origins when CORS_ORIGINS is unset', async () => {
    const user = await sameOrigin.signUp();
    expect(await handshake(sameOrigin.url, user.accessToken)).toBe('connected');
    expect(await handshake(sameOrigin.url, user.accessToken, sameOrigin.url)).toBe('connected');
    expect(await handshake(sameOrigin.url, user.accessToken, 'https://evil.example.net')).not.toBe('connected');
  });

  it('should accept exactly the listed origins', async () => {
    const user = await listed.signUp();
    expect(await handshake(listed.url, user.accessToken, 'https://chat.example.com')).toBe('connected');
    expect(await handshake(listed.url, user.accessToken, 'https://other.example.com')).not.toBe('connected');
  });
});
