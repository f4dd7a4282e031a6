import { contextWindowOf, isChatModelId, knownContextWindow } from './known-models';

describe(knownContextWindow.name, () => {
  it('should match the longest known prefix', () => {
    expect(knownContextWindow('gpt-4')).toBe(8_192);
    expect(knownContextWindow('gpt-4o-mini-2024-07-18')).toBe(128_000);
    expect(knownContextWindow('gpt-4.1-nano')).toBe(1_047_576);
    expect(knownContextWindow('llama3.1')).toBe(131_072);
    expect(knownContextWindow('llama3')).toBe(8_192);
  });

  it('should ignore a vendor prefix and a tag', () => {
    expect(knownContextWindow('openai/gpt-4o')).toBe(128_000);
    expect(knownContextWindow('llama3.1:70b-instruct')).toBe(131_072);
  });

  it('should not know made-up models', () => {
    expect(knownContextWindow('house-model')).toBeUndefined();
    expect(contextWindowOf('house-model')).toBe(8_192);
    expect(contextWindowOf('gpt-4o', 1_000)).toBe(1_000);
  });
});

describe(isChatModelId.name, () => {
  it('should tell chat models from embedding, audio and image models', () => {
    expect(['gpt-4o', 'o3-mini', 'llama3.1:8b', 'mistral-large'].every(isChatModelId)).toBe(true);
    expect(
      ['text-embedding-3-small', 'whisper-1', 'tts-1', 'dall-e-3', 'omni-moderation-latest'].some(isChatModelId),
    ).toBe(false);
  });
});
