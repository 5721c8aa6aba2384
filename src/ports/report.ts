/**
 * What an engine hands back after acting: the certificate's `changes` (fingerprints, never values)
 * and lines for people. Engines produce it, flows certify and announce it, the Action renders it.
 */
import type { Change, Decision } from '../core/schemas/index.js';

/** A change an engine made (or would make), before/after fingerprints only. */
export interface EngineReport {
  action: Decision['action'];
  ok: boolean;
  /** Certificate `changes` entries. */
  changes: Change[];
  /** Human-readable lines for comments and summaries (never values). */
  notes: string[];
  /** Set when the engine could not act; the pipeline escalates with it. */
  error?: string;
  /** Missing permission when GitHub answered 403 (the Action explains how to get an App token). */
  missingPermission?: string;
  /** The failure was on GitHub's side (5xx, timeout, rate limit past retries): worth trying again, not asking a human. */
  transient?: boolean;
}
