/**
 * Runtime metrics (tokio `RuntimeMetrics`): what {@link Runtime.metrics}
 * returns.
 *
 * The hot paths only add to a `Float64Array` (task/metrics.ts): no
 * allocation, no native call, and one clock pair per turn and per drain
 * (never per event or per poll). A snapshot copies the counters into a plain
 * object. Counters are cumulative since the runtime was created: an
 * exporter computes deltas between two snapshots. Gauges (`tasksAlive`,
 * `registrationsAlive`, `timersArmed`) are the value at the snapshot.
 *
 * Internal module: not exported from index.ts (the types are).
 */
import {
  EVENTS_HIST_BUCKETS,
  M_BUSY_POLL_MS,
  M_BUSY_TURN_MS,
  M_EVENTS,
  M_EVENTS_HIST,
  M_FORCED_YIELDS,
  M_POLLS,
  M_TASKS_SPAWNED,
  M_TURNS,
  M_WAKES,
} from '../task/metrics';

/**
 * A snapshot of a runtime's counters.
 *
 * @example
 * ```ts
 * const a = Runtime.default().metrics();
 * await sleep(1000);
 * const b = Runtime.default().metrics();
 * console.log('turns/s', b.turns - a.turns, 'events/turn', (b.eventsDispatched - a.eventsDispatched) / (b.turns - a.turns));
 * ```
 */
export interface RuntimeMetrics {
  /** Tasks spawned so far (`spawn`, and the task `blockOn` runs). Counter. */
  tasksSpawned: number;
  /** Tasks spawned and not yet finished (tokio `num_alive_tasks`). Gauge. */
  tasksAlive: number;
  /** Polls of tasks and of `await` drivers by the executor (an await that is ready at once costs none). Counter. */
  polls: number;
  /**
   * Operations that found the coop budget spent (128 per task poll, 1,024
   * per macrotask outside tasks) and yielded: their task runs again after
   * Node's loop had a turn (tokio `budget_forced_yield_count`). Counter.
   */
  budgetForcedYields: number;
  /** Reactor turns: batches of readiness events read from the selector in one native call. Counter. */
  turns: number;
  /** Readiness events dispatched by those turns (stale events of closed sockets included). Counter. */
  eventsDispatched: number;
  /**
   * Events per turn, as a histogram with fixed log2 buckets: index 0
   * counts turns that found no event, index `i` turns with `2^(i-1)` to
   * `2^i - 1` events (1, 2–3, 4–7, ... 512–1023), the last index turns
   * with 1,024 or more (a full batch: more events were waiting).
   * {@link eventsPerTurnBounds} gives each bucket's lower bound. Counters.
   */
  eventsPerTurn: number[];
  /** Lower bound of each {@link eventsPerTurn} bucket: `[0, 1, 2, 4, ..., 1024]`. */
  eventsPerTurnBounds: number[];
  /** File descriptors registered with the selector now (listeners, streams). Gauge. */
  registrationsAlive: number;
  /** Timers waiting in the wheel now (armed sleeps, timeouts, intervals). Gauge. */
  timersArmed: number;
  /**
   * Times a task or an `await` was queued to run: by a wake (a resource
   * became ready, a timer fired, a handle finished) or a spawn. Waking
   * something that is already queued is not counted. Counter.
   */
  wakes: number;
  /**
   * Milliseconds spent inside reactor turns and timer callbacks (dispatching
   * events and polling what they woke). Node's event-loop utilisation
   * already counts this time as busy; this is edgeio's share. Counter.
   */
  busyTurnMs: number;
  /** Milliseconds spent polling tasks and awaits in executor drains (inside or outside turns). Counter. */
  busyPollMs: number;
}

const BOUNDS = Array.from({ length: EVENTS_HIST_BUCKETS }, (_, i) => (i === 0 ? 0 : 2 ** (i - 1)));

/** Builds a snapshot from a runtime's counters and its gauges. */
export function snapshot(c: Float64Array, tasksAlive: number, registrationsAlive: number, timersArmed: number): RuntimeMetrics {
  return {
    tasksSpawned: c[M_TASKS_SPAWNED],
    tasksAlive,
    polls: c[M_POLLS],
    budgetForcedYields: c[M_FORCED_YIELDS],
    turns: c[M_TURNS],
    eventsDispatched: c[M_EVENTS],
    eventsPerTurn: Array.from(c.subarray(M_EVENTS_HIST, M_EVENTS_HIST + EVENTS_HIST_BUCKETS)),
    eventsPerTurnBounds: BOUNDS.slice(),
    registrationsAlive,
    timersArmed,
    wakes: c[M_WAKES],
    busyTurnMs: c[M_BUSY_TURN_MS],
    busyPollMs: c[M_BUSY_POLL_MS],
  };
}
