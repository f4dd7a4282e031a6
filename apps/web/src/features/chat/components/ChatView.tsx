import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { SlidersIcon } from '../../../components/icons';
import { ApiError, errorMessage } from '../../../lib/api-error';
import { socketClient } from '../../../lib/socket';
import type { Message } from '../../../lib/types';
import { regenerate, sendMessage, stopGeneration } from '../api/chat-actions';
import { useMessageTree, useModels, useThread, useUpdateThread } from '../api/chat-queries';
import { useThreadLive } from '../hooks/use-live-reply';
import { MessageIndex } from '../message-tree';
import { applyJoin } from '../stream/thread-sync';
import { ChatSettingsDialog } from './ChatSettingsDialog';
import { Composer } from './Composer';
import { ContextGauge } from './ContextGauge';
import { MessageList } from './MessageList';
import { ModelSelect } from './ModelSelect';
import { ThreadNotFound } from './ThreadNotFound';

/** One thread: its active branch, the live answer, the composer and the thread's settings. */
export function ChatView({ threadId, header }: { threadId: string; header: React.ReactNode }) {
  const client = useQueryClient();
  const thread = useThread(threadId);
  const tree = useMessageTree(threadId);
  const models = useModels();
  const live = useThreadLive(threadId);
  const update = useUpdateThread(threadId);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const temperature = thread.data?.temperature ?? null;
  const maxTokens = thread.data?.maxTokens ?? null;
  const settings = useMemo(() => ({ temperature, maxTokens }), [temperature, maxTokens]);

  useEffect(() => socketClient.join(threadId, (ack) => applyJoin(client, threadId, ack)), [client, threadId]);
  useEffect(() => setNotice(null), [threadId]);
  useEffect(() => {
    if (thread.data) {
      document.title = `${thread.data.title} · confab`;
    }
  }, [thread.data]);

  const index = useMemo(() => new MessageIndex(tree.data?.items ?? []), [tree.data]);
  const branch = useMemo(() => index.branch(thread.data?.activeLeafId ?? null), [index, thread.data?.activeLeafId]);
  const generating = live.reply !== null;

  const report = useCallback((err: unknown) => {
    setNotice(
      err instanceof ApiError && err.code === 'quota_exceeded'
        ? `You have reached your daily token limit. ${err.message}`
        : errorMessage(err),
    );
  }, []);

  const send = useCallback(
    async (content: string, parentId?: string | null) => {
      setNotice(null);
      try {
        await sendMessage(client, threadId, content, {
          clientMessageId: crypto.randomUUID(),
          ...(parentId === undefined ? {} : { parentId }),
        });
        return true;
      } catch (err) {
        report(err);
        return false;
      }
    },
    [client, threadId, report],
  );

  const onEdit = useCallback((m: Message, content: string) => send(content, m.parentId), [send]);
  const onRegenerate = useCallback(
    (m: Message) => {
      setNotice(null);
      regenerate(client, threadId, m.id, {}).catch(report);
    },
    [client, threadId, report],
  );
  const onSwitch = useCallback(
    (m: Message, i: number) => {
      const target = index.siblings(m)[i];
      if (target) {
        update.mutate({ activeLeafId: index.newestLeaf(target.id) });
      }
    },
    [index, update],
  );

  if (thread.error instanceof ApiError && thread.error.status === 404) {
    return <ThreadNotFound />;
  }
  const modelList = models.data?.models ?? [];
  const model = modelList.find((m) => m.id === thread.data?.model);

  return (
    <>
      <div className="chat-header">
        {header}
        <h1 className="chat-title">{thread.data?.title ?? ' '}</h1>
        <div className="chat-tools">
          <ContextGauge branch={branch} contextWindow={model?.contextWindow ?? null} />
          {thread.data && (
            <ModelSelect models={modelList} value={thread.data.model} onChange={(id) => update.mutate({ model: id })} />
          )}
          <button
            type="button"
            className="icon-button"
            aria-label="Chat settings"
            onClick={() => setSettingsOpen(true)}
          >
            <SlidersIcon />
          </button>
        </div>
      </div>
      {thread.isError && !(thread.error instanceof ApiError && thread.error.status === 404) ? (
        <div className="center-note" role="alert">
          <p>{errorMessage(thread.error)}</p>
          <button type="button" className="button" onClick={() => void thread.refetch()}>
            Retry
          </button>
        </div>
      ) : (
        <MessageList
          branch={branch}
          index={index}
          live={live}
          models={modelList}
          onSwitch={onSwitch}
          onEdit={onEdit}
          onRegenerate={onRegenerate}
        />
      )}
      <div className="composer-wrap">
        {notice && (
          <div className="alert" role="alert">
            {notice}
          </div>
        )}
        <Composer
          generating={generating}
          autoFocusKey={threadId}
          onSend={(content) => send(content)}
          onStop={() => void stopGeneration(threadId).catch(() => undefined)}
        />
      </div>
      <ChatSettingsDialog
        open={settingsOpen}
        systemPrompt={thread.data?.systemPrompt ?? ''}
        settings={settings}
        onClose={() => setSettingsOpen(false)}
        onSave={(systemPrompt, next) => {
          update.mutate({ systemPrompt, ...next });
          setSettingsOpen(false);
        }}
      />
    </>
  );
}
