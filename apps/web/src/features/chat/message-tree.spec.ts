import type { Message } from '../../lib/types';
import { MessageIndex } from './message-tree';

let clock = 0;
function msg(id: string, parentId: string | null, role: Message['role'] = 'user'): Message {
  clock += 1;
  return {
    id,
    threadId: 't',
    parentId,
    role,
    content: id,
    model: 'm',
    status: 'complete',
    usage: null,
    createdAt: new Date(1_700_000_000_000 + clock * 1000).toISOString(),
  };
}

describe(MessageIndex.name, () => {
  // q1 -> a1 ; q1 -> a2 (regenerated) -> q2 -> a3 ; q1' (edited root) -> a4
  const items = [
    msg('q1', null),
    msg('a1', 'q1', 'assistant'),
    msg('a2', 'q1', 'assistant'),
    msg('q2', 'a2'),
    msg('a3', 'q2', 'assistant'),
    msg('q1b', null),
    msg('a4', 'q1b', 'assistant'),
  ];
  const index = new MessageIndex([...items].reverse());

  it('should walk the active branch from root to leaf', () => {
    expect(index.branch('a3').map((m) => m.id)).toEqual(['q1', 'a2', 'q2', 'a3']);
    expect(index.branch('a1').map((m) => m.id)).toEqual(['q1', 'a1']);
  });

  it('should fall back to the newest leaf when the leaf is unknown or unset', () => {
    expect(index.branch(null).map((m) => m.id)).toEqual(['q1b', 'a4']);
    expect(index.branch('nope').map((m) => m.id)).toEqual(['q1b', 'a4']);
    expect(new MessageIndex([]).branch(null)).toEqual([]);
  });

  it('should list siblings oldest first, roots included', () => {
    expect(index.siblings(index.get('a2')!).map((m) => m.id)).toEqual(['a1', 'a2']);
    expect(index.siblings(index.get('q1b')!).map((m) => m.id)).toEqual(['q1', 'q1b']);
  });

  it('should land on the newest leaf below a switched-to message', () => {
    expect(index.newestLeaf('q1')).toBe('a3');
    expect(index.newestLeaf('a1')).toBe('a1');
  });
});
