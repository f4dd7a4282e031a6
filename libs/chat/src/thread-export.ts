import type { MessageView, ThreadView } from './presenters';

/** The active branch from the root to the leaf, from a whole tree. */
export function activeBranch(messages: MessageView[], leafId: string | null): MessageView[] {
  const byId = new Map(messages.map((m) => [m.id, m]));
  const branch: MessageView[] = [];
  for (let m = leafId ? byId.get(leafId) : undefined; m; m = m.parentId ? byId.get(m.parentId) : undefined) {
    branch.push(m);
  }
  return branch.reverse();
}

/** A readable Markdown transcript of the active branch (other branches are in the JSON export). */
export function threadToMarkdown(thread: ThreadView, messages: MessageView[]): string {
  const lines = [`# ${thread.title}`, '', `- Model: ${thread.model}`, `- Created: ${thread.createdAt}`];
  if (thread.systemPrompt) {
    lines.push('', '> System prompt:', ...thread.systemPrompt.split('\n').map((l) => `> ${l}`));
  }
  for (const message of activeBranch(messages, thread.activeLeafId)) {
    const who = message.role === 'user' ? 'You' : `Assistant (${message.model})`;
    const note = message.status === 'complete' ? '' : ` _[${message.status}]_`;
    lines.push('', `## ${who}${note}`, '', message.content);
  }
  return `${lines.join('\n')}\n`;
}
