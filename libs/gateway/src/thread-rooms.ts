import { deltaBody, type InFlightReply, ReplyFeed, ThreadEventBus, type ThreadEvent } from '@app/chat';
import { Injectable } from '@nestjs/common';
import type { ServerToClientEvents } from './socket-events';
import {
  type ChatServer,
  type ChatSocket,
  THREAD_ROOM_PREFIX,
  threadRoom,
  USER_ROOM_PREFIX,
  userRoom,
} from './socket-types';

/** Anything that emits the server's events with their typed payloads: a socket, or a room of this instance. */
interface ThreadEventTarget {
  emit<E extends keyof ServerToClientEvents>(event: E, ...args: Parameters<ServerToClientEvents[E]>): unknown;
}

/**
 * One room per thread on this instance, fed from the ordered thread event bus (`server.local`: every instance relays
 * to its own sockets). A join resumes through a `ReplyFeed`: the socket gets the thread's events from the in-flight
 * snapshot on, straight from the feed, until the feed has passed the snapshot; then the room takes over.
 */
@Injectable()
export class ThreadRooms {
  private server!: ChatServer;
  /**
   * Each thread room here follows its thread on the bus, and each user room its user's threads' updates (so that
   * events generated on other instances reach this one), while it exists.
   */
  private readonly roomFollows = new Map<string, () => void>();
  /**
   * The name of each thread room here, by thread id: the very string the adapter keys the room by, so that relaying
   * an event builds, flattens and hashes no new name, and the adapter's lookup compares the same string.
   */
  private readonly threadRooms = new Map<string, string>();
  /** Joins still on their feed, per socket and thread. */
  private readonly feeds = new Map<ChatSocket, Map<string, ReplyFeed>>();

  constructor(private readonly bus: ThreadEventBus) {}

  /**
   * Relays every thread event to `server`'s rooms, and has each thread room here follow its thread on the bus (so
   * that events generated on other instances reach this one); returns the unsubscribe.
   */
  serve(server: ChatServer): () => void {
    this.server = server;
    const rooms = server.sockets.adapter;
    const onRoomCreated = (room: string) => {
      if (this.roomFollows.has(room)) {
        return;
      }
      if (room.startsWith(THREAD_ROOM_PREFIX)) {
        const threadId = room.slice(THREAD_ROOM_PREFIX.length);
        this.threadRooms.set(threadId, room);
        this.roomFollows.set(room, this.bus.follow(threadId));
      } else if (room.startsWith(USER_ROOM_PREFIX)) {
        this.roomFollows.set(room, this.bus.followOwner(room.slice(USER_ROOM_PREFIX.length)));
      }
    };
    const onRoomDeleted = (room: string) => {
      this.roomFollows.get(room)?.();
      this.roomFollows.delete(room);
      if (room.startsWith(THREAD_ROOM_PREFIX)) {
        this.threadRooms.delete(room.slice(THREAD_ROOM_PREFIX.length));
      }
    };
    rooms.on('create-room', onRoomCreated);
    rooms.on('delete-room', onRoomDeleted);
    const offRelay = this.bus.subscribe((event) => this.relay(event));
    return () => {
      rooms.off('create-room', onRoomCreated);
      rooms.off('delete-room', onRoomDeleted);
      offRelay();
    };
  }

  /** Joins the socket to the thread's room from its in-flight reply on; answers the snapshot the client starts from. */
  async join(socket: ChatSocket, threadId: string): Promise<InFlightReply | null> {
    // Followed throughout, so that leaving the room (its last socket) and joining again costs no unsubscription.
    const hold = this.bus.follow(threadId);
    try {
      return await this.joinRoom(socket, threadId);
    } finally {
      hold();
    }
  }

  private async joinRoom(socket: ChatSocket, threadId: string): Promise<InFlightReply | null> {
    const room = threadRoom(threadId);
    await socket.leave(room);
    // A join again (a retry, a reload race) replaces a previous one still on its feed: one feed per socket, or deltas
    // repeat. Replaced after the last await before the feed subscribes, so of racing joins the last one here wins.
    this.drop(socket, threadId);
    const feed: ReplyFeed = new ReplyFeed(
      this.bus,
      threadId,
      (event) => {
        if (!toOwnerRoom(event)) {
          emitThreadEvent(socket, event);
        }
      },
      () => {
        // Past the snapshot: events arrive in publish order, so the room can take over without duplicates. Into the
        // room before the feed ends: the thread stays followed without a gap.
        if (this.feeds.get(socket)?.get(threadId) === feed && socket.connected) {
          void socket.join(room);
        }
        this.drop(socket, threadId, feed);
      },
    );
    this.feedsOf(socket).set(threadId, feed);
    const snapshot = await feed.read();
    setImmediate(() => {
      if (this.feeds.get(socket)?.get(threadId) === feed) {
        feed.start(); // after the ack has been written; not when replaced, left or disconnected meanwhile
      }
    });
    return snapshot;
  }

  async leave(socket: ChatSocket, threadId: string): Promise<void> {
    await socket.leave(threadRoom(threadId));
    this.drop(socket, threadId);
  }

  /** A socket gone: its feeds end. */
  forget(socket: ChatSocket): void {
    for (const threadId of [...(this.feeds.get(socket)?.keys() ?? [])]) {
      this.drop(socket, threadId);
    }
  }

  private relay(event: ThreadEvent): void {
    // A new title or setting reaches every tab of the owner, whether it joined the thread or not: the sidebar lists
    // them all, and a tab that moved to another thread before the title was generated must still see it. Those
    // sockets (joins still on their feed too) are all in the owner's room: one packet each, not fed again.
    if (toOwnerRoom(event)) {
      emitThreadEvent(this.server.local.to(threadRoom(event.threadId)).to(userRoom(event.ownerId)), event);
      return;
    }
    // Most events of SSE-only threads have no socket here: no room, no packet encoded for nobody.
    const room = this.threadRooms.get(event.threadId);
    if (room === undefined) {
      return;
    }
    emitThreadEvent(this.server.local.to(room), event);
    if (event.type === 'thread:deleted') {
      this.server.local.in(room).socketsLeave(room);
    }
  }

  private feedsOf(socket: ChatSocket): Map<string, ReplyFeed> {
    let feeds = this.feeds.get(socket);
    if (!feeds) {
      feeds = new Map();
      this.feeds.set(socket, feeds);
    }
    return feeds;
  }

  /** Ends the socket's feed of the thread (only `expected`, when given); false when there was none. */
  private drop(socket: ChatSocket, threadId: string, expected?: ReplyFeed): boolean {
    const feeds = this.feeds.get(socket);
    const feed = feeds?.get(threadId);
    if (!feeds || !feed || (expected && feed !== expected)) {
      return false;
    }
    feed.close();
    feeds.delete(threadId);
    if (feeds.size === 0) {
      this.feeds.delete(socket);
    }
    return true;
  }
}

/** `thread:updated` goes to the owner's room (every socket of theirs), not through the thread's room and feeds. */
function toOwnerRoom(event: ThreadEvent): event is Extract<ThreadEvent, { type: 'thread:updated' }> {
  return event.type === 'thread:updated' && Boolean(event.ownerId);
}

/** A thread event as the socket contract names and shapes it. */
function emitThreadEvent(target: ThreadEventTarget, event: ThreadEvent): void {
  switch (event.type) {
    case 'message:created':
      target.emit('message:created', { threadId: event.threadId, message: event.message });
      return;
    case 'message:delta':
      target.emit('message:delta', { threadId: event.threadId, ...deltaBody(event) });
      return;
    case 'message:done':
      target.emit('message:done', { threadId: event.threadId, message: event.message });
      return;
    case 'message:error':
      target.emit('message:error', { threadId: event.threadId, messageId: event.messageId, error: event.error });
      return;
    case 'thread:updated':
      target.emit('thread:updated', { thread: event.thread });
      return;
    case 'thread:deleted':
      target.emit('thread:deleted', { threadId: event.threadId });
      return;
  }
}
