/** The in-memory data model of the sandbox (plain objects; GitHub JSON shapes live in shapes.ts). */
import type { GitStore } from './git.js';

export type Level = 'read' | 'write';
export type Permissions = Record<string, Level>;

/** Permission names follow GitHub App permissions. */
export const ALL_PERMISSIONS: Permissions = {
  actions: 'write', actions_variables: 'write', administration: 'write', checks: 'write', contents: 'write',
  deployments: 'write', environments: 'write', issues: 'write', metadata: 'read', pull_requests: 'write',
  secrets: 'write', statuses: 'write', workflows: 'write',
};

export interface TokenInfo { token: string; permissions: Permissions; login: string; type: 'User' | 'Bot'; expiresAt: number | null }

export interface KeyPair { keyId: string; publicKey: Uint8Array; privateKey: Uint8Array }

export interface SecretRecord { name: string; created_at: string; updated_at: string }
export interface VariableRecord { name: string; value: string; created_at: string; updated_at: string }

export interface EnvironmentModel {
  id: number;
  name: string;
  created_at: string;
  updated_at: string;
  wait_timer: number;
  prevent_self_review: boolean;
  reviewers: { type: 'User' | 'Team'; id: number }[];
  deployment_branch_policy: { protected_branches: boolean; custom_branch_policies: boolean } | null;
  keys: KeyPair;
  secrets: Map<string, SecretRecord>;
  variables: Map<string, VariableRecord>;
}

/** What a workflow needs to succeed and how it fails otherwise. */
export interface WorkflowRequirements {
  requiredSecrets?: string[];
  requiredVariables?: string[];
  /** Deployment environment of the deploy job: its secrets/variables shadow the repository's. */
  environment?: string;
  credentialCheck?: { secret: string; expected: string };
  flaky?: { failAttempts: number; error?: 'ECONNRESET' | 'ETIMEDOUT' | '502' };
  brokenCode?: boolean;
  /** The deploy job reads this config file at the run's commit and fails when it does not parse. */
  config?: { path: string };
}

export interface WorkflowModel {
  id: number;
  name: string;
  path: string;
  state: 'active' | 'disabled_manually';
  created_at: string;
  updated_at: string;
  requirements: WorkflowRequirements;
}

export type Conclusion = 'success' | 'failure' | 'skipped' | 'cancelled';

export interface StepModel { name: string; number: number; status: 'completed'; conclusion: Conclusion; started_at: string; completed_at: string }

export interface JobModel {
  id: number;
  runId: number;
  runAttempt: number;
  name: string;
  status: 'completed';
  conclusion: Conclusion;
  started_at: string;
  completed_at: string;
  created_at: string;
  steps: StepModel[];
  log: string;
  headSha: string;
  headBranch: string;
  runnerName: string;
  workflowName: string;
}

export interface AttemptModel {
  attempt: number;
  status: 'completed';
  conclusion: 'success' | 'failure';
  created_at: string;
  updated_at: string;
  run_started_at: string;
  /** Latest view of the run's jobs after this attempt (carried-over jobs keep their own run_attempt). */
  jobIds: number[];
  triggeringActor: string;
}

export interface RunTrigger { headSha?: string; headBranch?: string; event?: string; pullRequest?: number; fromFork?: boolean; actor?: string }

export interface RunModel {
  id: number;
  workflowId: number;
  name: string;
  path: string;
  runNumber: number;
  event: string;
  headSha: string;
  headBranch: string;
  headRepoFullName: string;
  pullRequests: number[];
  actor: string;
  fromFork: boolean;
  created_at: string;
  attempts: AttemptModel[];
}

export interface IssueModel {
  id: number;
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  state_reason: string | null;
  labels: string[];
  assignees: string[];
  user: string;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  isPull: boolean;
}

export interface CommentModel { id: number; issueNumber: number; body: string; user: string; created_at: string; updated_at: string }

export interface PullModel {
  number: number;
  id: number;
  headRef: string;
  headSha: string;
  headRepoFullName: string;
  baseRef: string;
  fromFork: boolean;
  merged: boolean;
  draft: boolean;
  merged_at?: string | null;
  merge_commit_sha?: string | null;
  merged_by?: string | null;
}

export interface CheckRunModel {
  id: number;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  started_at: string | null;
  completed_at: string | null;
  details_url: string | null;
  external_id: string | null;
  output: { title: string | null; summary: string | null; text: string | null; annotations_count: number };
  /** The app that created it (GitHub Actions for job check runs); the installation's app when absent. */
  app?: { id: number; slug: string; name: string };
}

/** A commit status (`POST /repos/{owner}/{repo}/statuses/{sha}`), as external CI services post them. */
export interface StatusModel {
  id: number;
  sha: string;
  context: string;
  state: 'error' | 'failure' | 'pending' | 'success';
  description: string | null;
  target_url: string | null;
  creator: string;
  created_at: string;
  updated_at: string;
}

/** Classic branch protection, the parts the merge button checks. */
export interface ProtectionModel {
  required_status_checks: { strict: boolean; contexts: string[] } | null;
  enforce_admins: boolean;
  required_approving_review_count: number | null;
  required_linear_history: boolean;
}

/**
 * The repository's CI as the sandbox simulates it: when a pull request is opened or its head moves,
 * the deploy workflow runs on it (one check run per job, as GitHub Actions creates them) and each
 * external context posts its status.
 */
export interface CiModel {
  workflowOnPullRequests: boolean;
  statuses: Record<string, 'success' | 'failure' | 'pending' | 'error'>;
  /** The next N deploy jobs on the default branch fail their post-deploy health check. */
  failNextDeploys: number;
}

export interface DeploymentModel {
  id: number;
  sha: string;
  ref: string;
  task: string;
  environment: string;
  creator: string;
  created_at: string;
  /** The run whose job created it (GitHub links it through the deployment's statuses). */
  runId: number;
}

export interface RepoModel {
  id: number;
  owner: string;
  name: string;
  fullName: string;
  defaultBranch: string;
  private: boolean;
  fork: boolean;
  created_at: string;
  pushed_at: string;
  git: GitStore;
  /** Full ref name ("refs/heads/main") -> commit sha. */
  refs: Map<string, string>;
  keys: KeyPair;
  secrets: Map<string, SecretRecord>;
  variables: Map<string, VariableRecord>;
  environments: Map<string, EnvironmentModel>;
  workflows: WorkflowModel[];
  runs: RunModel[];
  issues: Map<number, IssueModel>;
  comments: Map<number, CommentModel>;
  pulls: Map<number, PullModel>;
  checkRuns: Map<number, CheckRunModel>;
  /** login -> role (admin, maintain, write, triage, read). */
  collaborators: Map<string, CollaboratorRole>;
  nextNumber: number;
  /** Which merge methods the repository allows (Settings → General → Pull Requests). */
  mergeMethods: { merge: boolean; squash: boolean; rebase: boolean };
  statuses: StatusModel[];
  /** Protected branches: name -> rules (PUT /repos/{o}/{r}/branches/{b}/protection). */
  protection: Map<string, ProtectionModel>;
  ci: CiModel;
  /** Deployments GitHub creates when a job with `environment:` runs. */
  deployments: DeploymentModel[];
}

export type CollaboratorRole = 'admin' | 'maintain' | 'write' | 'triage' | 'read';
