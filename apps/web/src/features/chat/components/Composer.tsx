import { useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { SendIcon, StopIcon } from '../../../components/icons';

export const CONTENT_MAX = 100_000;

interface Props {
  generating: boolean;
  disabled?: boolean;
  onSend: (content: string) => Promise<boolean>;
  onStop: () => void;
  autoFocusKey?: string;
  placeholder?: string;
}

/** The message box: grows with its text; Enter sends, Shift+Enter is a new line, IME composition never sends. */
export function Composer({ generating, disabled = false, onSend, onStop, autoFocusKey, placeholder }: Props) {
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);
  const id = useId();

  useLayoutEffect(() => {
    const el = box.current;
    if (el) {
      el.style.height = 'auto';
      el.style.height = `${Math.min(el.scrollHeight, 240)}px`;
    }
  }, [text]);

  useEffect(() => {
    box.current?.focus();
  }, [autoFocusKey]);

  const canSend = text.trim().length > 0 && text.length <= CONTENT_MAX && !generating && !sending && !disabled;

  async function submit() {
    if (!canSend) {
      return;
    }
    setSending(true);
    const sent = await onSend(text);
    setSending(false);
    if (sent) {
      setText('');
    }
    box.current?.focus();
  }

  const near = text.length > CONTENT_MAX * 0.9;
  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <label htmlFor={`${id}-box`} className="visually-hidden">
        Message
      </label>
      <textarea
        id={`${id}-box`}
        ref={box}
        rows={1}
        value={text}
        placeholder={placeholder ?? 'Message confab'}
        aria-describedby={`${id}-count`}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          // keyCode 229: the key went to an input method (Safari ends composition before keydown).
          if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing && e.keyCode !== 229) {
            e.preventDefault();
            void submit();
          }
        }}
      />
      <div className="composer-bar">
        <span id={`${id}-count`} className={`counter${near ? ' warn' : ''}`}>
          {text.length > 0 ? `${text.length.toLocaleString()} / ${CONTENT_MAX.toLocaleString()} characters` : ''}
        </span>
        {generating ? (
          <button type="button" className="send-button" aria-label="Stop generating" onClick={onStop}>
            <StopIcon />
          </button>
        ) : (
          <button type="submit" className="send-button" aria-label="Send message" disabled={!canSend}>
            <SendIcon />
          </button>
        )}
      </div>
    </form>
  );
}
