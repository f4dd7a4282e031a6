interface Props {
  label: string;
  page: number;
  hasPrevious: boolean;
  nextCursor: string | null;
  onPrevious: () => void;
  onNext: (cursor: string) => void;
}

export function Pager({ label, page, hasPrevious, nextCursor, onPrevious, onNext }: Props) {
  if (!hasPrevious && !nextCursor) {
    return null;
  }
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" className="button small" disabled={!hasPrevious} onClick={onPrevious}>
        Previous
      </button>
      <span className="muted small">Page {page}</span>
      <button
        type="button"
        className="button small"
        disabled={!nextCursor}
        onClick={() => nextCursor && onNext(nextCursor)}
      >
        Next
      </button>
    </nav>
  );
}
