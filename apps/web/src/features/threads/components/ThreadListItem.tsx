import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { ConfirmDialog } from '../../../components/ConfirmDialog';
import { PencilIcon, TrashIcon } from '../../../components/icons';
import type { ListedThread } from '../../../lib/types';
import { useDeleteThread, useRenameThread } from '../api/threads';
import { SearchSnippet } from './SearchSnippet';

interface Props {
  /** With `match` (a search result), its snippet shows under the title. */
  thread: ListedThread;
  active: boolean;
  /** The date group this item opens ("Today", ...), shown above it. */
  group: string | null;
  onNavigate: () => void;
}

export function ThreadListItem({ thread, active, group, onNavigate }: Props) {
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const rename = useRenameThread();
  const remove = useDeleteThread();
  const navigate = useNavigate();
  const input = useRef<HTMLInputElement>(null);
  const renameButton = useRef<HTMLButtonElement>(null);
  const snippet = thread.match?.snippet;

  useEffect(() => {
    if (editing) {
      input.current?.select();
    }
  }, [editing]);

  function finish(save: boolean) {
    const title = input.current?.value.trim() ?? '';
    setEditing(false);
    if (save && title && title !== thread.title) {
      rename.mutate({ id: thread.id, title });
    }
    requestAnimationFrame(() => renameButton.current?.focus());
  }

  return (
    <li className={`thread-item${active ? ' active' : ''}`}>
      {group && <div className="list-group">{group}</div>}
      <div className="thread-row">
        {editing ? (
          <input
            ref={input}
            className="rename-input"
            aria-label="Chat title"
            defaultValue={thread.title}
            maxLength={200}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                finish(true);
              } else if (e.key === 'Escape') {
                e.preventDefault();
                finish(false);
              }
            }}
            onBlur={() => finish(true)}
          />
        ) : (
          <Link
            to={`/t/${thread.id}`}
            aria-current={active ? 'page' : undefined}
            onClick={onNavigate}
            title={thread.title}
            className={snippet ? 'with-snippet' : undefined}
          >
            {snippet ? (
              // Both are the link's name (what it shows is what it is called): the title, then why it matched.
              <>
                <span className="thread-title">{thread.title}</span>
                <SearchSnippet snippet={snippet} />
              </>
            ) : (
              thread.title
            )}
          </Link>
        )}
        {!editing && (
          <span className="thread-actions">
            <button
              ref={renameButton}
              type="button"
              className="icon-button"
              aria-label={`Rename chat ${thread.title}`}
              onClick={() => setEditing(true)}
            >
              <PencilIcon />
            </button>
            <button
              type="button"
              className="icon-button"
              aria-label={`Delete chat ${thread.title}`}
              onClick={() => setConfirming(true)}
            >
              <TrashIcon />
            </button>
          </span>
        )}
      </div>
      <ConfirmDialog
        open={confirming}
        title="Delete chat?"
        body={<p>“{thread.title}” and all its messages will be deleted. This cannot be undone.</p>}
        confirmLabel="Delete"
        onCancel={() => setConfirming(false)}
        onConfirm={() => {
          setConfirming(false);
          remove.mutate(thread.id, {
            onSuccess: () => {
              if (active) {
                void navigate('/', { replace: true });
              }
            },
          });
        }}
      />
    </li>
  );
}
