import { ChevronLeft, ChevronRight } from '../../../components/icons';

interface Props {
  index: number;
  count: number;
  onSwitch: (index: number) => void;
}

/** `< 2/3 >`: moves between the versions of a message (edits of a question, regenerations of an answer). */
export function BranchSwitcher({ index, count, onSwitch }: Props) {
  if (count < 2) {
    return null;
  }
  return (
    <div className="branch-switcher" role="group" aria-label="Versions">
      <button
        type="button"
        className="icon-button"
        aria-label="Previous version"
        disabled={index === 0}
        onClick={() => onSwitch(index - 1)}
      >
        <ChevronLeft />
      </button>
      <span aria-live="polite">
        {index + 1} / {count}
      </span>
      <button
        type="button"
        className="icon-button"
        aria-label="Next version"
        disabled={index === count - 1}
        onClick={() => onSwitch(index + 1)}
      >
        <ChevronRight />
      </button>
    </div>
  );
}
