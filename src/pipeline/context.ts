import type { Logger } from 'pino';
import type { Certificate, Decision, Door, Incident, RepoRef } from '../core/schemas/index.js';
import type { GitHubPort } from '../ports/index.js';
import type { Ledger } from '../ledger/types.js';
import type { Signer } from '../core/certificate/index.js';
import type { IntentStore } from '../intake/types.js';
import type { CheckSignals } from './check-signals.js';
import type { Observer } from './observe.js';
import type { PinnedKeys } from './trust.js';
import type { OutageStore } from './outage.js';

/**
 * Everything a flow needs from the outside world, built by a door. Flows are plain async
 * functions over this context (ARCHITECTURE.md: pipeline/).
 */
export interface PipelineContext {
  github: GitHubPort;
  ledgerFor(repo: RepoRef, branch: string): Ledger;
  signer: Signer;
  /**
   * The public keys a verification of this context trusts (the door's pinned keys: its own signer,
   * grant keys, LIVING_BRIDGE_TRUSTED_KEYS for rotated keys). Doors set it because `env` above is the
   * from_env view, from which those variables are withheld; absent, only `signer` is trusted.
   */
  trust?: PinnedKeys;
  now(): Date;
  /** Cryptographic randomness (generated secrets). Injected so tests can be deterministic. */
  randomBytes(length: number): Uint8Array;
  /**
   * What `from_env` secret and variable sources may read: the variables of the healer's environment
   * that LIVING_BRIDGE_FROM_ENV_ALLOW lists for this repository, never an own credential.
   */
  env: Record<string, string | undefined>;
  /** Why a `from_env` source may not read `name` (not allowlisted, or an own credential), with how to allow it; null: allowed. */
  fromEnvRefusal(name: string): string | null;
  /** Operators' public keys trusted to sign grants (LIVING_BRIDGE_GRANT_KEYS), besides the signer's. */
  grantKeys: Record<string, string>;
  log: Logger;
  door: Door;
  /** Who asked for this work (`api-token:<name>`); audit lines name it. Absent: Living Bridge itself. */
  actor?: string;
  /** Base URL for links in comments (PUBLIC_API_BASE). */
  publicApiBase?: string;
  /** AUTONOMY_ENABLED=false: every decision is NOOP(halted), the app stays up. */
  autonomyEnabled: boolean;
  /** Where heal steps record their intent before acting (the intake's store); without it a replay starts over. */
  intents?: IntentStore;
  /** Where the flow reports what it did (metrics, event subscribers); a door that listens sets it. */
  observer?: Observer;
  /** Check webhooks that wake the config loop early (the App door); polling alone without it. */
  checkSignals?: CheckSignals;
  /**
   * The installation's recent transient failures (the outage brake, core/governor/outage.ts); the App
   * door keeps one per installation. Absent: no outage holds.
   */
  outages?: OutageStore;
  /** Waits between polls (tests inject a fast clock); setTimeout when absent. */
  sleep?(ms: number): Promise<void>;
}

import type { EngineReport } from '../ports/index.js';
export type { EngineReport };

export type HealStatus = 'healed' | 'suggested' | 'escalated' | 'noop' | 'dry_run' | 'failed';

export interface HealResult {
  status: HealStatus;
  repository: string;
  incidents: Incident[];
  decision: Decision | null;
  reports: EngineReport[];
  certificate: Certificate | null;
  commentUrl: string | null;
  issueUrl: string | null;
  /** One-paragraph narrative for terminals, job summaries and HTTP responses. */
  summary: string;
  /** What the config loop did after a REGENERATE_CONFIG proposal (src/pipeline/config-loop.ts). */
  configLoop?: { status: string; summary: string; pull_request: number; merge_commit: string | null; dispatched_runs: number[]; certificates: string[]; ema?: number };
}
