/**
 * `/bridge label <signature> <kind>` (issue or PR comment, writers only) and `living-bridge label`: a human tells
 * the classifier what a failure signature is in this repository. Stored in the ledger's classifier memory; from
 * then on the same failure is classified as labelled, with the label cited (core/classify/memory.ts).
 */
import { emptyClassifierMemory, recordLabel } from '../core/classify/index.js';
import { FailureSignature, IncidentKind, SchemaError, parseRepoFullName, type RepoConfig } from '../core/schemas/index.js';
import { auditEntry } from './audit.js';
import type { PipelineContext } from './context.js';
import { safeMessage } from './heal.js';
import { loadRepoConfig } from './repo-files.js';

export interface LabelCommand { signature: string; kind: IncidentKind }

/** `/bridge label <16 hex> <kind>` on a line of its own; null when the comment is not such a command. */
export function parseLabelCommand(body: string): LabelCommand | { error: string } | null {
  const m = /^\s*\/bridge\s+label\s+(\S+)\s+(\S+)\s*$/m.exec(body);
  if (!m) return null;
  const sig = FailureSignature.safeParse(m[1]!.toLowerCase());
  if (!sig.success) return { error: `\`${m[1]!.slice(0, 40)}\` is not a failure signature (16 hex characters, shown in the Living Bridge comment)` };
  const kind = IncidentKind.safeParse(m[2]);
  if (!kind.success) return { error: `\`${m[2]!.slice(0, 40)}\` is not a kind: one of ${IncidentKind.options.join(', ')}` };
  return { signature: sig.data, kind: kind.data };
}

/** Who may label: `approvers` of .github/autonomy.yml when listed, else anyone with write access. */
export async function mayDecide(ctx: PipelineContext, repository: string, config: RepoConfig, actor: string): Promise<boolean> {
  return config.approvers.length
    ? config.approvers.some((u) => u.toLowerCase() === actor.toLowerCase())
    : ['admin', 'maintain', 'write'].includes(await ctx.github.getPermissionLevel(parseRepoFullName(repository), actor));
}

export interface LabelOutcome { status: 'labelled' | 'refused'; reason: string }

/** Store a label (no permission check: the CLI runs with the operator's own credentials). */
export async function storeLabel(ctx: PipelineContext, repository: string, config: RepoConfig, command: LabelCommand, actor: string): Promise<void> {
  const repo = parseRepoFullName(repository);
  await ctx.ledgerFor(repo, config.ledger.branch).commit(`classifier: ${command.signature} labelled ${command.kind} by ${actor}`, (snap) => ({
    classifierMemory: recordLabel(snap.classifierMemory ?? emptyClassifierMemory(), { signature: command.signature, kind: command.kind, by: actor, at: ctx.now() }),
    audit: [auditEntry(ctx, repository, 'classifier.label', `${command.signature} → ${command.kind}`, { actor })],
  }));
}

export async function handleLabelComment(
  ctx: PipelineContext,
  a: { repository: string; issueNumber: number | null; actor: string; command: LabelCommand | { error: string } },
): Promise<LabelOutcome> {
  const repo = parseRepoFullName(a.repository);
  const reply = async (text: string): Promise<void> => {
    if (a.issueNumber === null) return;
    const marker = `<!-- living-bridge:label:${ctx.now().getTime()} -->`;
    await ctx.github.ensureComment(repo, a.issueNumber, marker, `${marker}\n${text}`).catch((err: unknown) => {
      ctx.log.warn({ err: safeMessage(err) }, 'could not reply to the label command');
    });
  };
  if ('error' in a.command) {
    await reply(`Not labelled: ${a.command.error}.`);
    return { status: 'refused', reason: a.command.error };
  }
  let config: RepoConfig;
  try {
    config = await loadRepoConfig(ctx.github, repo);
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    await reply(`Living Bridge cannot act: ${err.source} is invalid.`);
    return { status: 'refused', reason: `${err.source} is invalid` };
  }
  if (!(await mayDecide(ctx, a.repository, config, a.actor))) {
    await reply(`@${a.actor} cannot label failures here (needs write access or a place in \`approvers\` of .github/autonomy.yml).`);
    return { status: 'refused', reason: 'actor may not label' };
  }
  await storeLabel(ctx, a.repository, config, a.command, a.actor);
  await reply(`Labelled by @${a.actor}: failure signature \`${a.command.signature}\` is \`${a.command.kind}\` in this repository from now on.`);
  return { status: 'labelled', reason: `labelled by ${a.actor}` };
}
