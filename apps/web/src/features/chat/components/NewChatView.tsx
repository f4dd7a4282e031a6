import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { errorMessage } from '../../../lib/api-error';
import { queryKeys } from '../../../lib/query-keys';
import { sendMessage } from '../api/chat-actions';
import { createThread, useModels } from '../api/chat-queries';
import { Composer } from './Composer';
import { ModelSelect } from './ModelSelect';

/** The empty state: pick a model, ask; the thread is created with the first message. */
export function NewChatView({ header }: { header: React.ReactNode }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const models = useModels();
  const [model, setModel] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const chosen = model ?? models.data?.defaultModel ?? '';

  async function start(content: string): Promise<boolean> {
    setNotice(null);
    try {
      const thread = await createThread(chosen ? { model: chosen } : {});
      client.setQueryData(queryKeys.thread(thread.id), thread);
      client.setQueryData(queryKeys.messages(thread.id), { items: [] });
      await sendMessage(client, thread.id, content, { clientMessageId: crypto.randomUUID() });
      void client.invalidateQueries({ queryKey: queryKeys.threadLists });
      await navigate(`/t/${thread.id}`);
      return true;
    } catch (err) {
      setNotice(errorMessage(err));
      return false;
    }
  }

  return (
    <>
      <div className="chat-header">
        {header}
        <h1 className="chat-title">New chat</h1>
        <div className="chat-tools">
          {models.data && <ModelSelect models={models.data.models} value={chosen} onChange={setModel} />}
        </div>
      </div>
      <div className="empty-state">
        <h2>How can I help?</h2>
      </div>
      <div className="composer-wrap">
        {notice && (
          <div className="alert" role="alert">
            {notice}
          </div>
        )}
        <Composer generating={false} onSend={start} onStop={() => undefined} autoFocusKey="new" />
      </div>
    </>
  );
}
