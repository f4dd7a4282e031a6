import { useLayoutEffect, useRef } from 'react';
import type { Message, ModelInfo } from '../../../lib/types';
import type { MessageIndex } from '../message-tree';
import type { ThreadLive } from '../stream/live-replies';
import { MessageBubble } from './MessageBubble';

interface Props {
  branch: Message[];
  index: MessageIndex;
  live: ThreadLive;
  models: ModelInfo[];
  onSwitch: (message: Message, index: number) => void;
  onEdit: (message: Message, content: string) => Promise<boolean>;
  onRegenerate: (message: Message) => void;
}

/** The active branch, kept scrolled to the end while an answer grows unless the reader scrolled up. */
export function MessageList({ branch, index, live, models, onSwitch, onEdit, onRegenerate }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  const busy = live.reply !== null;
  const liveText = live.reply?.content;

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && pinned.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [branch.length, liveText]);

  const nameOf = (id: string) => models.find((m) => m.id === id)?.name ?? (id || 'Assistant');

  return (
    <div
      className="message-scroller"
      ref={scroller}
      onScroll={(e) => {
        const el = e.currentTarget;
        pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
      }}
    >
      <div className="message-column">
        {branch.map((m) => {
          const streaming = live.reply?.messageId === m.id;
          const siblings = index.siblings(m);
          return (
            <MessageBubble
              key={m.id}
              message={m}
              content={streaming ? live.reply!.content || m.content : m.content}
              reasoning={(streaming ? live.reply!.reasoning : undefined) ?? m.reasoning ?? null}
              streaming={streaming}
              modelName={nameOf(m.model)}
              siblingIndex={siblings.findIndex((s) => s.id === m.id)}
              siblingCount={siblings.length}
              error={live.errors[m.id]?.message ?? null}
              busy={busy}
              onSwitch={onSwitch}
              onEdit={onEdit}
              onRegenerate={onRegenerate}
            />
          );
        })}
      </div>
    </div>
  );
}
