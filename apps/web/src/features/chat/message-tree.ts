import type { Message } from '../../lib/types';

/** The message tree of a thread, indexed once per change: parents to children in creation order. */
export class MessageIndex {
  private readonly byId = new Map<string, Message>();
  private readonly children = new Map<string | null, Message[]>();

  constructor(items: readonly Message[]) {
    const sorted = [...items].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    for (const m of sorted) {
      this.byId.set(m.id, m);
      const list = this.children.get(m.parentId) ?? [];
      list.push(m);
      this.children.set(m.parentId, list);
    }
  }

  get(id: string): Message | undefined {
    return this.byId.get(id);
  }

  /** The message and the other answers to the same parent (itself included), oldest first. */
  siblings(message: Message): Message[] {
    return this.children.get(message.parentId) ?? [message];
  }

  /** The newest leaf below a message: where switching to that branch lands. */
  newestLeaf(id: string): string {
    let current = id;
    for (;;) {
      const kids = this.children.get(current);
      if (!kids || kids.length === 0) {
        return current;
      }
      current = kids[kids.length - 1].id;
    }
  }

  /** Root to leaf along the active branch; an unknown leaf (cache behind the server) falls back to the newest one. */
  branch(leafId: string | null): Message[] {
    let leaf = leafId ? this.byId.get(leafId) : undefined;
    if (!leaf) {
      const roots = this.children.get(null);
      if (!roots || roots.length === 0) {
        return [];
      }
      leaf = this.byId.get(this.newestLeaf(roots[roots.length - 1].id));
    }
    const path: Message[] = [];
    for (let m = leaf; m; m = m.parentId ? this.byId.get(m.parentId) : undefined) {
      path.push(m);
    }
    return path.reverse();
  }
}
