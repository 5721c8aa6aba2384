/**
 * Reads the Action's inputs and the triggering event, and parses them with the core schemas.
 * The only "logic" here is translation: inputs -> HealRequest / sync options.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  BooleanText,
  EnvironmentFile,
  HealRequest,
  RepoConfig,
  RepoFullName,
  SchemaError,
  parseWith,
  type HealRequestInput,
  type PipelineSettings,
} from '../core/schemas/index.js';
import { pipelineSettingsFrom } from '../pipeline/build-context.js';

export const ACTION_MODES = ['heal', 'sync', 'verify'] as const;
export type ActionMode = (typeof ACTION_MODES)[number];

/** An empty input is false; otherwise the one boolean spelling every door accepts. */
const BooleanInput = z.string().transform((s) => s.trim()).pipe(z.union([z.literal('').transform(() => false), BooleanText]));

/** The Action's own inputs (action/action.yml), as strings from the runner. */
export const ActionInputs = z.strictObject({
  mode: z.enum(ACTION_MODES),
  token: z.string().min(1, 'the `token` input is required: an App installation token or a fine-grained PAT'),
  run_id: z
    .string()
    .trim()
    .regex(/^\d*$/, 'expected a workflow run id (digits)')
    .transform((s) => (s ? Number(s) : undefined)),
  dry_run: BooleanInput,
  environment: z.string().trim().transform((s) => s || undefined),
  config: z.array(z.string().min(1)),
  signing_key: z.string().trim().transform((s) => s || undefined),
  confirm_prune: BooleanInput,
  github_api_url: z.string().trim().transform((s) => s || undefined).pipe(z.url().optional()),
  repository: RepoFullName,
});
export type ActionInputs = z.infer<typeof ActionInputs>;

/**
 * The Action's settings: the step's environment parsed once with the core schema (AUTONOMY_ENABLED,
 * pacing, LIVING_BRIDGE_GRANT_KEYS, LIVING_BRIDGE_FROM_ENV_ALLOW and the values it admits — never a
 * runner credential, by the core's one NEVER_A_SOURCE list). Nothing else of the environment reaches the pipeline.
 */
export function readActionSettings(env: NodeJS.ProcessEnv = process.env): PipelineSettings {
  return pipelineSettingsFrom(env);
}

/** `.github/autonomy.yml` and `.github/environment.json`, validated from the workspace when present. */
export const DEFAULT_CONFIG_PATHS = ['.github/autonomy.yml', '.github/environment.json'];

/** Reads every input, masking the token and signing key before anything else can print them. */
export function readInputs(env: NodeJS.ProcessEnv = process.env): ActionInputs {
  const token = core.getInput('token');
  if (token) core.setSecret(token);
  const signingKey = core.getInput('signing-key');
  if (signingKey) core.setSecret(signingKey);
  const configRaw = core.getInput('config');
  const config = configRaw
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
  return parseWith(
    ActionInputs,
    {
      mode: (core.getInput('mode') || 'heal').trim().toLowerCase(),
      token,
      run_id: core.getInput('run-id'),
      dry_run: core.getInput('dry-run'),
      environment: core.getInput('environment'),
      config: config.length ? config : DEFAULT_CONFIG_PATHS,
      signing_key: signingKey,
      confirm_prune: core.getInput('confirm-prune'),
      github_api_url: core.getInput('github-api-url') || env.GITHUB_API_URL || '',
      repository: env.GITHUB_REPOSITORY ?? '',
    },
    'action inputs',
  );
}

/** The part of a `workflow_run` event the Action uses. */
export interface WorkflowRunEvent {
  id: number;
  run_attempt: number;
  conclusion: string | null;
  name?: string;
  head_sha?: string;
}

/** The triggering event's payload (GITHUB_EVENT_PATH), or {} when there is none. */
export function readEvent(env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  const p = env.GITHUB_EVENT_PATH;
  if (!p || !existsSync(p)) return {};
  try {
    const data: unknown = JSON.parse(readFileSync(p, 'utf8'));
    return data && typeof data === 'object' ? (data as Record<string, unknown>) : {};
  } catch {
    throw new SchemaError('GITHUB_EVENT_PATH', [{ path: '(root)', message: 'the event payload is not JSON' }]);
  }
}

export function workflowRunOf(event: Record<string, unknown>): WorkflowRunEvent | null {
  const wr = event.workflow_run;
  if (!wr || typeof wr !== 'object') return null;
  const r = wr as Record<string, unknown>;
  if (typeof r.id !== 'number') return null;
  return {
    id: r.id,
    run_attempt: typeof r.run_attempt === 'number' ? r.run_attempt : 1,
    conclusion: typeof r.conclusion === 'string' ? r.conclusion : null,
    ...(typeof r.name === 'string' ? { name: r.name } : {}),
    ...(typeof r.head_sha === 'string' ? { head_sha: r.head_sha } : {}),
  };
}

/**
 * HealRequest for heal mode: the `run-id` input wins; otherwise the triggering `workflow_run`.
 * The attempt is only known from the event, and only when the event's run is the one asked for.
 */
export function healRequestFrom(inputs: ActionInputs, event: Record<string, unknown>): HealRequest {
  const wr = workflowRunOf(event);
  const runId = inputs.run_id ?? wr?.id;
  const request: HealRequestInput = {
    repository: inputs.repository,
    dry_run: inputs.dry_run,
    ...(runId !== undefined ? { run_id: runId } : {}),
    ...(wr && wr.id === runId ? { run_attempt: wr.run_attempt } : {}),
    ...(inputs.environment ? { environment: inputs.environment } : {}),
  };
  if (runId === undefined) {
    throw new SchemaError('action inputs', [
      { path: 'run-id', message: 'no run to heal: give the `run-id` input, or trigger the workflow with `on: workflow_run`' },
    ]);
  }
  return parseWith(HealRequest, request, 'heal request');
}

export interface LocalConfig {
  repoConfig: RepoConfig | null;
  environmentFile: EnvironmentFile | null;
  /** Files that were read and validated (relative to the workspace). */
  validated: string[];
}

/**
 * Validates the declared configuration found in the workspace, so a bad file fails the step with
 * the file, the path in it and what was expected, before anything is changed. The pipeline itself
 * applies the files committed on the repository's default branch (read through the API).
 */
export function validateLocalConfig(paths: string[], workspace: string): LocalConfig {
  const out: LocalConfig = { repoConfig: null, environmentFile: null, validated: [] };
  for (const rel of paths) {
    const file = path.resolve(workspace, rel);
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    if (/\.json$/i.test(rel)) {
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch (err) {
        throw new SchemaError(rel, [{ path: '(root)', message: `not valid JSON (${(err as Error).message})` }]);
      }
      out.environmentFile = parseWith(EnvironmentFile, data, rel);
    } else if (/\.ya?ml$/i.test(rel)) {
      let data: unknown;
      try {
        data = parseYaml(text) ?? {};
      } catch (err) {
        throw new SchemaError(rel, [{ path: '(root)', message: `not valid YAML (${(err as Error).message.split('\n')[0]})` }]);
      }
      out.repoConfig = parseWith(RepoConfig, data, rel);
    } else {
      continue;
    }
    out.validated.push(rel);
  }
  return out;
}
