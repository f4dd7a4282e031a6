import { useEffect, useId, useRef, useState } from 'react';
/** A thread's reply settings, stored on the thread; null: the provider's default. */
export interface GenerationSettings {
  temperature: number | null;
  maxTokens: number | null;
}

interface Props {
  open: boolean;
  systemPrompt: string;
  settings: GenerationSettings;
  onClose: () => void;
  onSave: (systemPrompt: string, settings: GenerationSettings) => void;
}

export function ChatSettingsDialog({ open, systemPrompt, settings, onClose, onSave }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  const [prompt, setPrompt] = useState(systemPrompt);
  const [temperature, setTemperature] = useState<number | null>(settings.temperature);
  const [maxTokens, setMaxTokens] = useState<string>(settings.maxTokens?.toString() ?? '');

  useEffect(() => {
    const dialog = ref.current;
    if (open && dialog && !dialog.open) {
      setPrompt(systemPrompt);
      setTemperature(settings.temperature);
      setMaxTokens(settings.maxTokens?.toString() ?? '');
      dialog.showModal();
    } else if (!open && dialog?.open) {
      dialog.close();
    }
  }, [open, systemPrompt, settings]);

  return (
    <dialog
      ref={ref}
      className="dialog settings-dialog"
      aria-labelledby={`${id}-title`}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const budget = Number(maxTokens);
          onSave(prompt, {
            temperature,
            maxTokens: maxTokens.trim() && Number.isInteger(budget) && budget > 0 ? Math.min(budget, 32_768) : null,
          });
        }}
      >
        <h2 id={`${id}-title`}>Chat settings</h2>
        <div className="field">
          <label htmlFor={`${id}-prompt`}>System prompt</label>
          <textarea
            id={`${id}-prompt`}
            rows={5}
            maxLength={20_000}
            value={prompt}
            placeholder="How the assistant should behave in this chat"
            onChange={(e) => setPrompt(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-temp`}>
            Temperature{' '}
            <output htmlFor={`${id}-temp`}>{temperature === null ? 'default' : temperature.toFixed(1)}</output>
          </label>
          <input
            id={`${id}-temp`}
            type="range"
            min={0}
            max={2}
            step={0.1}
            value={temperature ?? 1}
            onChange={(e) => setTemperature(Number(e.target.value))}
          />
          <div className="range-ends" aria-hidden="true">
            <span>Precise</span>
            <button type="button" className="link-button" onClick={() => setTemperature(null)}>
              Reset
            </button>
            <span>Creative</span>
          </div>
        </div>
        <div className="field">
          <label htmlFor={`${id}-max`}>Longest reply (tokens)</label>
          <input
            id={`${id}-max`}
            type="number"
            min={1}
            max={32768}
            inputMode="numeric"
            placeholder="Model default"
            value={maxTokens}
            onChange={(e) => setMaxTokens(e.target.value)}
          />
        </div>
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary">
            Save
          </button>
        </div>
      </form>
    </dialog>
  );
}
