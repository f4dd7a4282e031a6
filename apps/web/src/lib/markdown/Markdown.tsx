import { memo, useMemo, useRef, useSyncExternalStore } from 'react';
import { BlockSplitter, closeOpenSyntax } from './blocks';
import { highlightVersion } from './highlight';
import { renderMarkdown } from './render';

const Block = memo(function Block({ markdown, version }: { markdown: string; version: number }) {
  // `version` changes when a highlight language arrives: the block renders once more, now highlighted.
  const html = useMemo(() => renderMarkdown(markdown), [markdown, version]);
  return <div className="md-block" dangerouslySetInnerHTML={{ __html: html }} />;
});

/** The finished blocks: their list only changes when another block is done, so a frame skips them entirely. */
const FinishedBlocks = memo(function FinishedBlocks({
  blocks,
  version,
}: {
  blocks: readonly string[];
  version: number;
}) {
  return blocks.map((block, i) => <Block key={i} markdown={block} version={version} />);
});

async function copyCode(event: React.MouseEvent<HTMLDivElement>) {
  const button = (event.target as HTMLElement).closest<HTMLButtonElement>('[data-copy-code]');
  const code = button?.closest('.code-block')?.querySelector('code')?.textContent;
  if (!button || code === undefined || code === null) {
    return;
  }
  try {
    await navigator.clipboard.writeText(code);
    button.textContent = 'Copied';
  } catch {
    button.textContent = 'Copy failed';
  }
  setTimeout(() => (button.textContent = 'Copy'), 1500);
}

/**
 * An answer rendered as Markdown. While it streams, finished blocks are parsed and sanitized once (memoized by
 * their text) and only the growing last block renders again, with its open syntax closed for display.
 */
export function Markdown({ text, streaming = false }: { text: string; streaming?: boolean }) {
  const splitter = useRef<BlockSplitter | null>(null);
  splitter.current ??= new BlockSplitter();
  const version = useSyncExternalStore(highlightVersion.subscribe, highlightVersion.get);
  const { finished, tail } = useMemo(() => splitter.current!.update(text), [text]);
  return (
    <div className="markdown" onClick={(e) => void copyCode(e)}>
      <FinishedBlocks blocks={finished} version={version} />
      {tail.trim() && <Block markdown={streaming ? closeOpenSyntax(tail) : tail} version={version} />}
    </div>
  );
}
