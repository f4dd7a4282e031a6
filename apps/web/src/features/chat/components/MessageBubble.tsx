import { memo, useState } from 'react';
import { CopyButton } from '../../../components/CopyButton';
import { PencilIcon, RefreshIcon } from '../../../components/icons';
import { Markdown } from '../../../lib/markdown/Markdown';
import type { Message } from '../../../lib/types';
import { BranchSwitcher } from './BranchSwitcher';
import { EditForm } from './EditForm';

export interface BubbleProps {
  message: Message;
  /** The text to show: the live text while it streams. */
  content: string;
  /** The model's thinking text, shown folded above the answer. */
  reasoning: string | null;
  streaming: boolean;
  modelName: string;
  siblingIndex: number;
  siblingCount: number;
  error: string | null;
  busy: boolean;
  onSwitch: (message: Message, index: number) => void;
  onEdit: (message: Message, content: string) => Promise<boolean>;
  onRegenerate: (message: Message) => void;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function Typing() {
  return (
    <div className="typing" role="status" aria-label="Assistant is typing">
      <span />
      <span />
      <span />
    </div>
  );
}

export const MessageBubble = memo(function MessageBubble(props: BubbleProps) {
  const { message, content, reasoning, streaming, modelName, siblingIndex, siblingCount, error, busy } = props;
  const [editing, setEditing] = useState(false);
  const user = message.role === 'user';
  const created = new Date(message.createdAt);
  const waiting = streaming && content.length === 0 && !reasoning;

  return (
    <article className={`message ${message.role}`} aria-label={user ? 'You said' : `${modelName} replied`}>
      <header className="message-meta">
        <span className="author">{user ? 'You' : modelName}</span>
        <time dateTime={message.createdAt} title={dateFormat.format(created)}>
          {timeFormat.format(created)}
        </time>
        {message.status === 'stopped' && <span className="badge">stopped</span>}
      </header>
      {editing ? (
        <EditForm
          initial={message.content}
          onCancel={() => setEditing(false)}
          onSave={async (text) => {
            const ok = await props.onEdit(message, text);
            if (ok) {
              setEditing(false);
            }
            return ok;
          }}
        />
      ) : user ? (
        <div className="bubble user-text">{content}</div>
      ) : (
        <div className="bubble" aria-live={streaming ? 'polite' : undefined} aria-busy={streaming || undefined}>
          {reasoning && (
            <details className="reasoning">
              <summary>{streaming && content.length === 0 ? 'Thinking…' : 'Thoughts'}</summary>
              <div className="reasoning-text">{reasoning}</div>
            </details>
          )}
          {waiting ? <Typing /> : <Markdown text={content} streaming={streaming} />}
        </div>
      )}
      {(message.status === 'error' || error) && !streaming && (
        <div className="reply-error" role="alert">
          <span>{error ?? 'The answer could not be completed.'}</span>
          <button type="button" className="button small" disabled={busy} onClick={() => props.onRegenerate(message)}>
            Retry
          </button>
        </div>
      )}
      {!editing && !waiting && (
        <footer className="message-actions">
          <BranchSwitcher index={siblingIndex} count={siblingCount} onSwitch={(i) => props.onSwitch(message, i)} />
          {!streaming && <CopyButton text={content} label="Copy message" />}
          {user && !busy && (
            <button type="button" className="icon-button" aria-label="Edit message" onClick={() => setEditing(true)}>
              <PencilIcon />
            </button>
          )}
          {!user && !streaming && !busy && (
            <button
              type="button"
              className="icon-button"
              aria-label="Regenerate answer"
              onClick={() => props.onRegenerate(message)}
            >
              <RefreshIcon />
            </button>
          )}
        </footer>
      )}
    </article>
  );
});
