import { useCallback, useState } from 'react';

/** The reply settings of a thread that the server takes per message (temperature, reply budget). */
export interface GenerationSettings {
  temperature: number | null;
  maxTokens: number | null;
}

const key = (threadId: string) => `confab.generation.${threadId}`;
const DEFAULTS: GenerationSettings = { temperature: null, maxTokens: null };

export function readGenerationSettings(threadId: string): GenerationSettings {
  try {
    return { ...DEFAULTS, ...(JSON.parse(localStorage.getItem(key(threadId)) ?? '{}') as Partial<GenerationSettings>) };
  } catch {
    return DEFAULTS;
  }
}

export function useGenerationSettings(threadId: string) {
  const [settings, setSettings] = useState(() => readGenerationSettings(threadId));
  const save = useCallback(
    (next: GenerationSettings) => {
      localStorage.setItem(key(threadId), JSON.stringify(next));
      setSettings(next);
    },
    [threadId],
  );
  return [settings, save] as const;
}

export function toOptions(settings: GenerationSettings): { temperature?: number; maxTokens?: number } {
  return {
    ...(settings.temperature === null ? {} : { temperature: settings.temperature }),
    ...(settings.maxTokens === null ? {} : { maxTokens: settings.maxTokens }),
  };
}
