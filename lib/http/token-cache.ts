// Remembers what a remote check said of a token for a short while, and makes concurrent
// requests with one token share one check. Keys are SHA-256 digests: the tokens themselves are
// never kept, so a heap dump or a debugger shows none.

import { createHash } from "node:crypto";

/** The key a token is remembered under. */
export const tokenKey = (token: string): string =>
  createHash("sha256").update(token).digest("base64url");

/**
 * Answers by key, each kept `ttlMs` from when it was stored, at most `maxEntries` at once (the
 * least recently used goes first). A `ttlMs` of 0 keeps nothing; concurrent lookups are still
 * shared.
 */
export class SharedChecks<Value> {
  private readonly answers = new Map<string, { value: Value; expiresAt: number }>();
  private readonly inFlight = new Map<string, Promise<Value>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The remembered answer for `key`, else the check already running for it, else a new run
   * of `check`. A check that fails is not remembered: the next lookup runs it again.
   */
  lookup(key: string, check: () => Promise<Value>): Promise<Value> {
    const remembered = this.answers.get(key);
    if (remembered !== undefined) {
      this.answers.delete(key);
      if (remembered.expiresAt > this.now()) {
        this.answers.set(key, remembered);
        return Promise.resolve(remembered.value);
      }
    }
    const running = this.inFlight.get(key);
    if (running !== undefined) return running;
    const started = check().then(
      (value) => {
        this.inFlight.delete(key);
        this.remember(key, value);
        return value;
      },
      (error: unknown) => {
        this.inFlight.delete(key);
        throw error;
      },
    );
    this.inFlight.set(key, started);
    return started;
  }

  /** How many answers are remembered now (expired ones included until they are looked up). */
  get size(): number {
    return this.answers.size;
  }

  private remember(key: string, value: Value): void {
    if (this.ttlMs <= 0) return;
    this.answers.set(key, { value, expiresAt: this.now() + this.ttlMs });
    for (const oldest of this.answers.keys()) {
      if (this.answers.size <= this.maxEntries) break;
      this.answers.delete(oldest);
    }
  }
}
