import type { ActionKind, AutonomyLevel } from '../schemas/common.js';
import type { Incident, IncidentKind } from '../schemas/incident.js';
import type { RepoConfig } from '../schemas/repo-config.js';
import { levelOfEnvironment } from './environment.js';

/**
 * The target fail streaks, escalations and the half-open circuit are kept under:
 * `owner/name#type:name` when the incident names a target, else `owner/name#fp:<fingerprint>`.
 * The incident kind is not part of it on purpose: a secret that is first missing and then
 * rejected is one target failing twice.
 */
export function targetKey(repository: string, incident: Pick<Incident, 'target' | 'fingerprint'>): string {
  return incident.target
    ? `${repository}#${incident.target.type}:${incident.target.name}`
    : `${repository}#fp:${incident.fingerprint}`;
}

/** `owner/name|environment|incident kind|action`; `-` for runs without an environment. */
export function cooldownKey(
  repository: string,
  environment: string | null | undefined,
  incidentKind: IncidentKind,
  action: ActionKind,
): string {
  // join() builds a flat string: decide() compares it against every action record's key.
  return [repository, environment || '-', incidentKind, action].join('|');
}

/** The prefix every cooldown key of `repository` starts with (rate limits count per repository). */
export const repositoryKeyPrefix = (repository: string): string => `${repository}|`;

/** The autonomy level of an environment: its own entry, else the repository's default level (production: at most suggest). */
export function levelFor(config: RepoConfig, environment: string | null | undefined): AutonomyLevel {
  return levelOfEnvironment(config, environment);
}
