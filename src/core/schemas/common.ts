import { z } from 'zod';

/** Every action the Governor can choose. One name per concept, used by every door. */
export const ACTION_KINDS = [
  'CREATE_SECRET',
  'SYNC_AND_CERTIFY',
  'REGENERATE_CONFIG',
  'RERUN',
  'ROLLBACK',
  'ESCALATE',
  'NOOP',
] as const;
export const ActionKind = z.enum(ACTION_KINDS);
export type ActionKind = z.infer<typeof ActionKind>;

/** Actions that change something (everything but NOOP). */
export const ACTING_KINDS = ACTION_KINDS.filter((a) => a !== 'NOOP') as Exclude<ActionKind, 'NOOP'>[];

export const AUTONOMY_LEVELS = ['observe', 'suggest', 'balanced', 'full'] as const;
export const AutonomyLevel = z.enum(AUTONOMY_LEVELS);
export type AutonomyLevel = z.infer<typeof AutonomyLevel>;

/** `owner/name`, as GitHub spells a repository's full name. */
export const RepoFullName = z
  .string()
  .max(140, 'expected "owner/name" (at most 39 + 100 characters)')
  .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'expected "owner/name"')
  // "." and ".." are path segments, not names: they must never reach URL building.
  .refine((s) => s.split('/').every((part) => part !== '.' && part !== '..'), 'expected "owner/name" ("." and ".." are not names)');

export const RepoRef = z.object({
  owner: z.string().min(1),
  repo: z.string().min(1),
});
export type RepoRef = z.infer<typeof RepoRef>;

/** GitHub secret and variable names: letters, digits, underscore; not starting with a digit or GITHUB_. */
export const SecretName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a name of letters, digits and _ not starting with a digit')
  .refine((n) => !n.toUpperCase().startsWith('GITHUB_'), 'names starting with GITHUB_ are reserved by GitHub');

export const IsoTimestamp = z.string().datetime({ offset: true });
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex digest');

export const repoFullName = (r: RepoRef): string => `${r.owner}/${r.repo}`;
export const parseRepoFullName = (full: string): RepoRef => {
  const [owner, repo] = RepoFullName.parse(full).split('/') as [string, string];
  return { owner, repo };
};
