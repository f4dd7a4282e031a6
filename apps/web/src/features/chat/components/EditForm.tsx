import { useEffect, useRef, useState } from 'react';

interface Props {
  initial: string;
  onSave: (content: string) => Promise<boolean>;
  onCancel: () => void;
}

/** Editing a question sends it again as a new branch; the old branch stays one arrow away. */
export function EditForm({ initial, onSave, onCancel }: Props) {
  const [text, setText] = useState(initial);
  const [busy, setBusy] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    const el = box.current;
    if (el) {
      el.focus();
      el.setSelectionRange(el.value.length, el.value.length);
    }
  }, []);

  return (
    <form
      className="edit-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!text.trim() || busy) {
          return;
        }
        setBusy(true);
        void onSave(text).finally(() => setBusy(false));
      }}
    >
      <textarea
        ref={box}
        aria-label="Edit message"
        value={text}
        rows={Math.min(10, Math.max(2, text.split('\n').length))}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            onCancel();
          }
        }}
      />
      <div className="edit-actions">
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button primary" disabled={busy || !text.trim()}>
          Save and send
        </button>
      </div>
    </form>
  );
}
