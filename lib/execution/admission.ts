// Admission to one database: at most `maxConcurrent` requests run statements on it at once,
// at most `maxQueued` wait for their turn, and none waits longer than `queueTimeoutMs`. The
// rest are answered 503 at once: a short queue and a quick "try again" serve a client better
// than a pool that times out after a minute, and they keep connections free for token lookups.

import { ClientGoneError, serviceUnavailable } from "../errors";

export interface AdmissionLimits {
  /** Requests that may hold a slot at once. */
  maxConcurrent: number;
  /** Requests that may wait for a slot; more are refused at once. */
  maxQueued: number;
  /** How long a request may wait for a slot before it is refused. */
  queueTimeoutMs: number;
}

/** Gives back a slot; calling it more than once gives back one slot only. */
export type ReleaseSlot = () => void;

interface Waiter {
  admit(release: ReleaseSlot): void;
  refuse(error: Error): void;
}

// Retry-After stays within these bounds (seconds) whatever the recent durations say.
const MIN_RETRY_AFTER_S = 1;
const MAX_RETRY_AFTER_S = 30;
// Weight of the newest duration in the running average of how long a slot is held.
const AVERAGE_WEIGHT = 0.2;

export class Admission {
  private running = 0;
  private readonly queue: Waiter[] = [];
  /** Running average of how long a slot is held, for Retry-After. */
  private averageHoldMs = 1000;

  constructor(readonly limits: AdmissionLimits) {}

  /**
   * A slot, now or after a wait in the queue. Refused with a 503 (Retry-After) when the queue
   * is full or the wait exceeds `queueTimeoutMs`; with ClientGoneError when `signal` aborts
   * while waiting.
   */
  enter(signal: AbortSignal): Promise<ReleaseSlot> {
    if (signal.aborted) return Promise.reject(new ClientGoneError());
    if (this.running < this.limits.maxConcurrent) return Promise.resolve(this.take());
    if (this.queue.length >= this.limits.maxQueued) {
      return Promise.reject(
        serviceUnavailable(
          "Too many statistics requests are waiting for the database; try again later",
          this.retryAfterSeconds(),
        ),
      );
    }
    return new Promise<ReleaseSlot>((resolve, reject) => {
      const leave = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        const index = this.queue.indexOf(waiter);
        if (index >= 0) this.queue.splice(index, 1);
      };
      const waiter: Waiter = {
        admit: (release) => {
          leave();
          resolve(release);
        },
        refuse: (error) => {
          leave();
          reject(error);
        },
      };
      const onAbort = (): void => waiter.refuse(new ClientGoneError());
      const timer = setTimeout(
        () =>
          waiter.refuse(
            serviceUnavailable(
              "The database stayed busy with other statistics requests; try again later",
              this.retryAfterSeconds(),
            ),
          ),
        this.limits.queueTimeoutMs,
      );
      signal.addEventListener("abort", onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  /** Requests holding a slot, and requests waiting for one. */
  get load(): { running: number; queued: number } {
    return { running: this.running, queued: this.queue.length };
  }

  private take(): ReleaseSlot {
    this.running++;
    const since = Date.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.averageHoldMs += AVERAGE_WEIGHT * (Date.now() - since - this.averageHoldMs);
      this.running--;
      // The slot goes to the longest waiter, if any is still there.
      const next = this.queue[0];
      if (next !== undefined && this.running < this.limits.maxConcurrent) next.admit(this.take());
    };
  }

  /** About how long until the queue has room again: the queue's length in average holds. */
  private retryAfterSeconds(): number {
    const turns = (this.queue.length + 1) / this.limits.maxConcurrent;
    const seconds = Math.ceil((turns * this.averageHoldMs) / 1000);
    return Math.min(MAX_RETRY_AFTER_S, Math.max(MIN_RETRY_AFTER_S, seconds));
  }
}
