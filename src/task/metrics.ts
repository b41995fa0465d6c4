/**
 * Where each runtime counter lives in the runtime's `Float64Array` (tokio
 * runtime/metrics). The layers that count (the executor, the reactor turn,
 * the coop budget) add to a slot with a plain increment: no allocation, no
 * native call, no clock read per event. `Runtime.metrics()` turns the array
 * into a snapshot (runtime/metrics.ts documents each field).
 *
 * Float64 slots count exactly up to 2^53, which no counter reaches.
 *
 * Internal module: not exported from index.ts.
 */

/** Tasks spawned (blockOn's own task included). */
export const M_TASKS_SPAWNED = 0;
/** Polls of tasks and await drivers by the executor. */
export const M_POLLS = 1;
/** Operations that found the coop budget spent and deferred their task. */
export const M_FORCED_YIELDS = 2;
/** Reactor turns: batches of events read from the selector. */
export const M_TURNS = 3;
/** Events dispatched by those turns (stale ones included). */
export const M_EVENTS = 4;
/** Tasks and await drivers queued to run (by a wake or a spawn). */
export const M_WAKES = 5;
/** Milliseconds spent inside reactor turns and timer callbacks (dispatch + drain). */
export const M_BUSY_TURN_MS = 6;
/** Milliseconds spent polling in executor drains. */
export const M_BUSY_POLL_MS = 7;
/** First slot of the events-per-turn histogram. */
export const M_EVENTS_HIST = 8;
/**
 * Buckets of the events-per-turn histogram: bucket 0 counts turns with no
 * event, bucket `i` turns with `2^(i-1)` to `2^i - 1` events; the last one
 * holds everything from 1,024 up (the batch size).
 */
export const EVENTS_HIST_BUCKETS = 12;
/** Length of a runtime's counter array. */
export const METRICS_LENGTH = M_EVENTS_HIST + EVENTS_HIST_BUCKETS;

/** The histogram bucket of a turn that dispatched `count` events. */
export function eventsBucket(count: number): number {
  const b = 32 - Math.clz32(count);
  return b < EVENTS_HIST_BUCKETS ? b : EVENTS_HIST_BUCKETS - 1;
}

/**
 * Counts one reactor turn of `count` events into `counters` (the io
 * driver's dispatch calls this; three increments).
 */
export function countTurn(counters: Float64Array, count: number): void {
  counters[M_TURNS]++;
  counters[M_EVENTS] += count;
  counters[M_EVENTS_HIST + eventsBucket(count)]++;
}
