/**
 * Types and small helpers shared by the rule tables (rules.ts, rules-ci.ts).
 */
import type { IncidentKind, IncidentTarget } from '../schemas/index.js';

/** What a rule saw. `missing` signals are resolved by the engine into secret.missing / variable.missing. */
export type RawSignal =
  | { type: 'kind'; kind: Exclude<IncidentKind, 'unknown'>; confidence: number; target?: IncidentTarget | null }
  /** An action input or named value is required but empty. `credential` true when the message itself says secret/token. */
  | { type: 'missing-input'; input: string; confidence: number }
  /**
   * `plain`: the message does not say what kind of value it is ("X is not set"), so a plain name proves nothing.
   * `named`: the message names the repository's secret or variable itself ("Missing required secret: X"), not an
   * env entry of the step, so the step's env block says nothing about whether it is wired.
   */
  | { type: 'missing-name'; name: string; confidence: number; hint?: 'secret' | 'variable'; plain?: boolean; named?: boolean }
  /**
   * The tool received no credential at all (npm ENEEDAUTH, aws "Unable to locate credentials", docker's non-TTY
   * login). Never a wrong value. An empty credential in the step makes it a missing secret; a masked one means the
   * value existed but did not reach the tool (wiring: config.invalid); otherwise `fallback` at `confidence`.
   */
  | { type: 'no-credential'; confidence: number; fallback: 'secret.missing' | 'config.invalid' }
  | { type: 'missing-unnamed'; hint: 'secret' | 'variable'; confidence: number }
  /** An authentication failure; `weak` when the phrase could also mean something else. */
  | { type: 'auth'; confidence: number; weak?: boolean }
  /** AWS-style "credentials could not be loaded": missing if an empty key is in scope, else a weak auth failure. */
  | { type: 'credentials-unloaded'; confidence: number }
  /** The line matched a message known to be harmless (e.g. a fallback notice): it decides nothing, but no later rule sees it. */
  | { type: 'ignore' };

export interface Rule {
  id: string;
  /**
   * Lower-case literals, at least one of which occurs (case-insensitively) in every text the rule can match.
   * They drive dispatch: a line only runs the rules whose keywords it contains (see `ruleScanner`).
   */
  kw: string[];
  re: RegExp;
  /** Match against `previous line + ' ' + line` (for messages wrapped over two lines); keywords may be on either line. */
  joinPrevious?: boolean;
  signal: (m: RegExpExecArray) => RawSignal | null;
}

export const file = (name: string | undefined): IncidentTarget | null => (name ? { type: 'file', name: normalizeFilePath(name) } : null);
export const pkg = (name: string | undefined): IncidentTarget | null => (name ? { type: 'package', name } : null);

/**
 * Repository-relative form of a path seen in a runner log: `/home/runner/work/<repo>/<repo>/./x.yml` → `x.yml`,
 * a downloaded action's manifest `…/_actions/<owner>/<name>/<ref>/action.yml` → `action.yml`.
 */
export function normalizeFilePath(p: string): string {
  let s = p.replace(/\\/g, '/');
  const act = s.lastIndexOf('/_actions/');
  if (act !== -1) return s.slice(s.lastIndexOf('/') + 1);
  s = s.replace(/^.*?\/(?:_work|work)\/[^/]+\/[^/]+\//, '');
  while (s.startsWith('./')) s = s.slice(2);
  return s;
}

