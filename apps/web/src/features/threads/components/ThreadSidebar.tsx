import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { useDebouncedValue } from '../../../lib/use-debounced-value';
import { useThreadList } from '../api/threads';
import { ThreadListItem } from './ThreadListItem';

const DAY = 24 * 60 * 60 * 1000;

/** The sidebar's date groups, as in the chat apps people know. */
function groupOf(updatedAt: string): string {
  const startOfToday = new Date().setHours(0, 0, 0, 0);
  const at = new Date(updatedAt).getTime();
  if (at >= startOfToday) {
    return 'Today';
  }
  if (at >= startOfToday - DAY) {
    return 'Yesterday';
  }
  if (at >= startOfToday - 7 * DAY) {
    return 'Previous 7 days';
  }
  if (at >= startOfToday - 30 * DAY) {
    return 'Previous 30 days';
  }
  return 'Older';
}

interface Props {
  activeThreadId: string | null;
  onNavigate: () => void;
  footer: React.ReactNode;
  /** Shown next to the brand: the drawer's close button on a phone. */
  closeButton?: React.ReactNode;
}

/** New chat, search as you type, and the threads most recent first, loading more as the list scrolls. */
export function ThreadSidebar({ activeThreadId, onNavigate, footer, closeButton }: Props) {
  const [query, setQuery] = useState('');
  const q = useDebouncedValue(query.trim(), 250);
  const list = useThreadList(q);
  const sentinel = useRef<HTMLLIElement>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;

  useEffect(() => {
    const el = sentinel.current;
    if (!el || !hasNextPage) {
      return;
    }
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !isFetchingNextPage) {
        void fetchNextPage();
      }
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const threads = list.data?.pages.flatMap((p) => p.items) ?? [];
  const searching = q.length > 0;

  return (
    <nav className="sidebar" aria-label="Threads">
      <div className="sidebar-top">
        <div className="brand-row">
          <Link to="/" className="brand-link" onClick={onNavigate}>
            <img src="/favicon.svg" alt="" width="24" height="24" />
            <span>confab</span>
          </Link>
          {closeButton}
        </div>
        <Link to="/" className="button new-chat" onClick={onNavigate}>
          <svg aria-hidden="true" viewBox="0 0 20 20" width="16" height="16">
            <path d="M10 4v12M4 10h12" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
          </svg>
          New chat
        </Link>
        <div className="search">
          <label htmlFor="thread-search" className="visually-hidden">
            Search chats
          </label>
          <input
            id="thread-search"
            type="search"
            placeholder="Search chats"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            autoComplete="off"
          />
        </div>
      </div>
      <div className="thread-list-wrap">
        {searching && (
          <p className="list-caption" role="status">
            {list.isFetching && !list.isFetchingNextPage
              ? 'Searching…'
              : `${threads.length}${hasNextPage ? '+' : ''} ${threads.length === 1 ? 'result' : 'results'}`}
          </p>
        )}
        {list.isError && (
          <p className="list-caption error" role="alert">
            Could not load your chats. <button onClick={() => void list.refetch()}>Retry</button>
          </p>
        )}
        <ul className="thread-list" aria-label={searching ? 'Search results' : 'Recent chats'}>
          {threads.map((t, i) => {
            const group = searching ? null : groupOf(t.updatedAt);
            const first = group !== null && (i === 0 || groupOf(threads[i - 1].updatedAt) !== group);
            return (
              <ThreadListItem
                key={t.id}
                thread={t}
                group={first ? group : null}
                active={t.id === activeThreadId}
                onNavigate={onNavigate}
              />
            );
          })}
          {hasNextPage && (
            <li ref={sentinel} className="list-caption">
              Loading more…
            </li>
          )}
        </ul>
        {!list.isPending && threads.length === 0 && !list.isError && (
          <p className="list-caption">{searching ? 'No chats match.' : 'No chats yet.'}</p>
        )}
      </div>
      <div className="sidebar-bottom">{footer}</div>
    </nav>
  );
}
