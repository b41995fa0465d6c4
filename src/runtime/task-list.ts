/**
 * The runtime's live tasks: an intrusive doubly linked list through
 * `Task.prevLive/nextLive`, so spawning and finishing are O(1) without a Set
 * (which cost more than the rest of a spawn), and shutdown can abort them all.
 *
 * Internal module: not exported from index.ts.
 */
import type { Task } from './task';

export class TaskList {
  private head: Task<unknown> | null = null;
  /** Tasks spawned and not yet finished. */
  count = 0;

  /** Adds a task that was just spawned. */
  link(t: Task<unknown>): void {
    t.nextLive = this.head;
    if (this.head !== null) this.head.prevLive = t;
    this.head = t;
    this.count++;
  }

  /** Removes a finished task (nothing if it is not in the list). */
  unlink(t: Task<unknown>): void {
    if (t.prevLive !== null) t.prevLive.nextLive = t.nextLive;
    else if (this.head === t) this.head = t.nextLive;
    else return; // not linked
    if (t.nextLive !== null) t.nextLive.prevLive = t.prevLive;
    t.prevLive = t.nextLive = null;
    this.count--;
  }

  /** Aborts every live task (each unlinks itself as it finishes). */
  abortAll(): void {
    for (let t = this.head; t !== null; ) {
      const next = t.nextLive; // abort() unlinks t
      t.abort();
      t = next;
    }
  }
}
