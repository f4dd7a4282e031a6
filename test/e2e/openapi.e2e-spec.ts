import { startApp, type TestApp } from '../support/app-harness';

interface Operation {
  responses: Record<string, { description: string; content?: Record<string, { schema?: { $ref?: string } }> }>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
}

describe('OpenAPI document', () => {
  let app: TestApp;
  let doc: OpenApiDocument;

  beforeAll(async () => {
    app = await startApp();
    doc = (await (await fetch(`${app.url}/api/docs-json`)).json()) as OpenApiDocument;
  });
  afterAll(async () => {
    await app.close();
  });

  it('should document the body of every successful chat response (threads, messages, models)', () => {
    const undocumented: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      if (!/^\/api\/(threads|models)/.test(path)) {
        continue;
      }
      for (const [method, operation] of Object.entries(operations)) {
        const [status, success] = Object.entries(operation.responses).find(([code]) => code.startsWith('2')) ?? [];
        const documented = status === '204' || Boolean(success?.content?.['application/json']?.schema?.$ref);
        if (!documented) {
          undocumented.push(`${method.toUpperCase()} ${path}`);
        }
      }
    }
    expect(undocumented).toEqual([]);
  });

  it('should describe the Message and Thread resources field by field', () => {
    expect(Object.keys(doc.components.schemas.MessageView.properties ?? {})).toEqual(
      expect.arrayContaining(['id', 'threadId', 'parentId', 'role', 'content', 'reasoning', 'status', 'usage']),
    );
    expect(Object.keys(doc.components.schemas.ThreadView.properties ?? {})).toEqual(
      expect.arrayContaining(['id', 'title', 'model', 'systemPrompt', 'temperature', 'maxTokens', 'activeLeafId']),
    );
    // A search result says why it matched: plain text and ranges, never markup.
    expect(Object.keys(doc.components.schemas.ListedThreadView.properties ?? {})).toEqual(
      expect.arrayContaining(['id', 'title', 'match']),
    );
    expect(Object.keys(doc.components.schemas.ThreadMatchView.properties ?? {})).toEqual(['messageId', 'snippet']);
    expect(Object.keys(doc.components.schemas.SnippetView.properties ?? {})).toEqual(['text', 'highlights']);
  });
});
