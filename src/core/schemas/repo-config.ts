import { z } from 'zod';
import { ActionKind, AutonomyLevel, SecretName } from './common.js';
import { branchNameProblem } from './ref-name.js';
import { SecretSource } from './sources.js';

/** The ledger branch when `.github/autonomy.yml` names none. */
export const DEFAULT_LEDGER_BRANCH = 'bridge-ledger';

const Minutes = z.number().min(0).max(60 * 24 * 30);

/**
 * `.github/autonomy.yml`: how much Living Bridge may do in one repository.
 * Every field has a safe default so an empty file (or no file) is valid.
 */
export const RepoConfig = z.strictObject({
  version: z.literal(1).default(1),
  /** false: decisions are recorded but every one is NOOP(halted). */
  enabled: z.boolean().default(true),
  /** Workflow names whose failures count as deploy failures. */
  deploy_workflows: z.array(z.string().min(1)).min(1).default(['Build & Deploy']),
  /** Autonomy level when a run has no environment or its environment is not listed. */
  default_level: AutonomyLevel.default('balanced'),
  environments: z
    .record(z.string().min(1), z.strictObject({ level: AutonomyLevel }))
    .default({}),
  /** Declared sources for secrets the healer may create (merged with environment.json's). */
  secrets: z.record(SecretName, SecretSource).default({}),
  cooldowns: z
    .strictObject({
      default_minutes: Minutes.default(30),
      per_action: z.partialRecord(ActionKind, Minutes).default({}),
    })
    .default({ default_minutes: 30, per_action: {} }),
  limits: z
    .strictObject({
      max_actions_per_hour: z.number().int().min(0).max(1000).default(10),
      /** Consecutive failed outcomes on one target before the Governor only escalates. */
      max_fail_streak: z.number().int().min(1).max(100).default(3),
      /** The same failure fingerprint coming back this often after a "successful" heal counts as failed. */
      recurrence_limit: z.number().int().min(1).max(100).default(2),
      /** After an escalation, one probe action is allowed once this cool-off has passed (half-open). */
      half_open_after_minutes: Minutes.default(60),
      /** Never ask GitHub to re-run a run more often than this (GitHub's own cap is 50). */
      max_rerun_attempts: z.number().int().min(1).max(50).default(3),
      /** A run with more failed jobs than this is not re-run: that many failing at once is rarely transient. */
      max_failed_jobs_for_rerun: z.number().int().min(1).max(1000).default(5),
    })
    .default({
      max_actions_per_hour: 10,
      max_fail_streak: 3,
      recurrence_limit: 2,
      half_open_after_minutes: 60,
      max_rerun_attempts: 3,
      max_failed_jobs_for_rerun: 5,
    }),
  prediction: z
    .strictObject({
      /** Below this predicted success probability an action becomes a suggestion for a human. */
      min_success_probability: z.number().min(0).max(1).default(0.3),
    })
    .default({ min_success_probability: 0.3 }),
  blueprint: z
    .strictObject({ mode: z.enum(['adaptive', 'predictive']).default('adaptive') })
    .default({ mode: 'adaptive' }),
  ledger: z
    .strictObject({
      /**
       * Where certificates and state are committed. Never the default branch or a protected branch
       * (checked against GitHub when the config is loaded); must be a valid git branch name.
       */
      branch: z
        .string()
        .superRefine((name, ctx) => {
          const problem = branchNameProblem(name);
          if (problem) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(name)} is not a valid branch name: ${problem}` });
        })
        .default(DEFAULT_LEDGER_BRANCH),
    })
    .default({ branch: DEFAULT_LEDGER_BRANCH }),
  /**
   * Config files the healer may regenerate when a run fails on them (config.invalid): path in the
   * repository -> template path. `{{ vars.NAME }}` in the template is filled from environment.json's
   * declared variables. The result is proposed as a pull request, never pushed to the default branch.
   */
  configs: z
    .record(
      z.string().min(1),
      z.strictObject({
        template: z.string().min(1),
        /**
         * A JSON Schema (JSON or YAML) in the repository the rendered file must satisfy. Without it, the
         * built-in schema for the file's kind applies (vercel.json, netlify.toml, render.yaml, fly.toml,
         * app.json, Kubernetes Deployment); a render that fails validation is never proposed.
         */
        schema: z.string().min(1).optional(),
      }),
    )
    .default({}),
  /**
   * What happens after a regenerated config is proposed (docs/engines.md, "The config loop"): wait for
   * the pull request's checks, merge it when everything allows (level full, checks green, prediction,
   * branch protection), dispatch the deploy workflow, revert the merge when that deploy fails.
   */
  promotion: z
    .strictObject({
      /** false: stop at the pull request (the behaviour before the loop). */
      enabled: z.boolean().default(true),
      /** How long to wait for the pull request's checks before leaving it for a human. */
      checks_timeout_minutes: z.number().min(0).max(24 * 60).default(30),
      /** How long to wait for the dispatched deploy run to complete. */
      deploy_timeout_minutes: z.number().min(0).max(24 * 60).default(60),
      /** Workflow (name or file) to dispatch after a merge; default: the failed run's workflow. */
      deploy_workflow: z.string().min(1).optional(),
      /** Preferred merge method; the first one the repository allows is used when this one is not. */
      merge_method: z.enum(['squash', 'merge', 'rebase']).default('squash'),
      /** A promotion lock older than this is taken over (its holder is presumed dead). */
      lock_ttl_minutes: z.number().min(1).max(24 * 60).default(15),
    })
    .default({ enabled: true, checks_timeout_minutes: 30, deploy_timeout_minutes: 60, merge_method: 'squash', lock_ttl_minutes: 15 }),
  /** Users and teams whose `/bridge approve` comments count. Empty: anyone with write access. */
  approvers: z.array(z.string().min(1)).default([]),
  /**
   * The dashboard issue (one per repository, updated in place after each heal and outcome):
   * pending suggestions, grants, halts, recent heals, the EMA table and the month's figures.
   */
  dashboard: z.strictObject({ enabled: z.boolean().default(true) }).default({ enabled: true }),
  /** Apply environment.json from branches other than the default branch (unsafe; off). */
  allow_sync_from_non_default_branch: z.boolean().default(false),
});
export type RepoConfig = z.infer<typeof RepoConfig>;
export type RepoConfigInput = z.input<typeof RepoConfig>;

export const REPO_CONFIG_PATH = '.github/autonomy.yml';
