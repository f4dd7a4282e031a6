import { REDACTED, redactedRequest, redactQuery, redactUrl } from './log-redaction';

describe(redactUrl.name, () => {
  it('should replace the values of credential-like query parameters and keep everything else', () => {
    expect(redactUrl('/api/threads?token=abc.def&q=hello')).toBe(`/api/threads?token=${REDACTED}&q=hello`);
    expect(redactUrl('/x?api_key=cfk_1&access_token=t&refresh-token=r&apiKey=k&password=p')).toBe(
      `/x?api_key=${REDACTED}&access_token=${REDACTED}&refresh-token=${REDACTED}&apiKey=${REDACTED}&password=${REDACTED}`,
    );
    expect(redactUrl('/x?%74oken=abc')).toBe(`/x?%74oken=${REDACTED}`);
    expect(redactUrl('/x?TOKEN=a&token&tokenizer=gpt')).toBe(`/x?TOKEN=${REDACTED}&token&tokenizer=gpt`);
    expect(redactUrl('/x?%E0%A4%A=1')).toBe('/x?%E0%A4%A=1');
    expect(redactUrl('/api/health')).toBe('/api/health');
  });
});

describe(redactQuery.name, () => {
  it('should replace credential-like keys of a parsed query, of any value shape', () => {
    expect(redactQuery({ token: ['a', 'b'], q: 'x', key: { nested: 1 } })).toEqual({
      token: REDACTED,
      q: 'x',
      key: REDACTED,
    });
    expect(redactQuery(undefined)).toBeUndefined();
  });

  it('should serve as the request serializer', () => {
    const req = redactedRequest({ url: '/a?token=t', query: { token: 't' }, method: 'GET' });
    expect(req).toEqual({ url: `/a?token=${REDACTED}`, query: { token: REDACTED }, method: 'GET' });
  });
});
