import { accountsOf } from '../e2e/auth.fixtures';
import { httpClient, startApp } from './app-harness';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream';

/**
 * The whole server in-process, its model provider pointed at a fake OpenAI-compatible upstream (a real HTTP
 * server speaking the streaming wire format) through the real `openai` SDK.
 */
export async function startChatApp(env: Record<string, string> = {}) {
  const upstream: FakeUpstream = await startFakeUpstream();
  const app = await startApp({
    OPENAI_API_KEY: 'sk-test-secret-key-0123456789',
    OPENAI_BASE_URL: upstream.baseUrl,
    OPENAI_MAX_RETRIES: '0',
    MODELS: 'gpt-test:16000,gpt-small:600',
    DEFAULT_MODEL: 'gpt-test',
    SIGNUP_RATE_LIMIT: '10000/h',
    LOGIN_RATE_LIMIT: '1000/15m',
    ...env,
  });
  const request = httpClient(app.url);
  return {
    ...app,
    upstream,
    request,
    ...accountsOf(request),
    close: async () => {
      await app.close();
      await upstream.close();
    },
  };
}

export type ChatApp = Awaited<ReturnType<typeof startChatApp>>;
