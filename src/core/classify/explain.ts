/**
 * Human-readable words for incidents: the one-line summary of a confident answer, and for a weak or `unknown`
 * answer an explanation a human can act on — the failing step and action, the exit code, the first deciding lines
 * (masked), what the classifier ruled out and why, and how to teach it (`/bridge label`).
 */
import type { Incident, IncidentKind, IncidentTarget } from '../schemas/index.js';
import { maskSecrets } from './normalize.js';

export interface RunFacts {
  /** Last `exit code N` seen, and the step it was in. */
  exitCode: number | null;
  exitStep: string | null;
  /** First `##[error]` annotations (raw; masked when shown). */
  annotations: string[];
}

export interface ExplainInput extends RunFacts {
  stepNames: ReadonlyMap<number, string>;
  errorSteps: ReadonlySet<number>;
  signature: string | null;
  known: readonly string[];
}

export function summarize(kind: IncidentKind, t: IncidentTarget | null, step: string | undefined): string {
  const name = t ? `${t.type} ${t.name}` : undefined;
  const where = step ? ` in step "${step}"` : '';
  switch (kind) {
    case 'secret.missing':
      return t?.type === 'step'
        ? `A required secret input of step "${t.name}" was empty: the secret is missing or not available to this run.`
        : `The secret ${t ? t.name : '(name not shown in the log)'} is missing or empty${where}.`;
    case 'variable.missing':
      return `The configuration variable ${t ? t.name : '(name not shown in the log)'} is missing or empty${where}.`;
    case 'credential.invalid':
      return `A credential${t ? ` (${t.name})` : ''} was supplied but rejected (invalid, expired or without permission)${where}.`;
    case 'config.invalid':
      return t?.type === 'step'
        ? `Step "${t.name}" is not given what it needs (a missing input or an environment variable the workflow does not pass).`
        : `A configuration file${t ? ` (${t.name})` : ''} is invalid or missing${where}.`;
    case 'transient.network':
      return `A transient network or service error${t ? ` reaching ${t.name}` : ''} failed the job${where}; a re-run will likely pass.`;
    case 'timeout.cancelled':
      return `The job was cancelled or hit its time limit${where}.`;
    case 'resource.exhausted':
      return `The runner ran out of disk or memory${where}.`;
    case 'dependency.resolution':
      return `Dependencies could not be resolved${name ? ` (${name})` : ''}${where}.`;
    case 'code.failure':
      return `Tests or compilation failed${where}: a code problem, not an environment one.`;
    default:
      return 'The failure could not be classified with confidence.';
  }
}

/** Why each kind was not the answer, given what was (weakly) seen. */
const RULED_OUT: Record<Exclude<IncidentKind, 'unknown'>, string> = {
  'secret.missing': 'no empty credential in the step environment and no message saying a secret or token is absent',
  'variable.missing': 'no `vars.` reference that resolved empty and no tool saying an environment variable is required',
  'credential.invalid': 'no authentication or permission failure (401/403, "bad credentials", denied…)',
  'config.invalid': 'no workflow, manifest or configuration error message',
  'transient.network': 'no connection reset, timeout, rate limit or 5xx from a service',
  'timeout.cancelled': 'no time-limit or cancellation message',
  'resource.exhausted': 'no out-of-memory, `Killed`/exit 137 or disk-full message',
  'dependency.resolution': 'no resolver, lockfile or missing-package error',
  'code.failure': 'no failing test, compiler or linter output',
};

export function explainWeakAnswer(incidents: readonly Incident[], x: ExplainInput): string {
  const top = incidents[0]!;
  const steps = [...x.errorSteps].map((id) => x.stepNames.get(id)).filter((s): s is string => Boolean(s));
  const failing = x.exitStep ?? steps[steps.length - 1] ?? null;
  const action = failing && /^[\w.-]+\/[\w./-]+@\S+/.test(failing) ? failing.split(/\s/)[0] : null;
  const parts: string[] = [summarize(top.kind === 'unknown' ? 'unknown' : top.kind, top.target, undefined)];
  parts.push(`Failing step: ${failing ? `\`${failing.slice(0, 120)}\`` : 'not shown in the log'}${action ? ` (action ${action})` : ''}${x.exitCode !== null ? `, exit code ${x.exitCode}` : ''}.`);
  const deciding = top.evidence.slice(0, 3).map((e) => `\`${maskSecrets(e.text, x.known).slice(0, 200).replace(/`/g, "'")}\``);
  if (x.annotations.length > 0 && deciding.length === 0) deciding.push(...x.annotations.slice(0, 3).map((a) => `\`${maskSecrets(a, x.known).slice(0, 200).replace(/`/g, "'")}\``));
  parts.push(deciding.length ? `First deciding lines: ${deciding.join('; ')}.` : 'No error line was captured.');
  const weak = incidents.filter((i) => i.kind !== 'unknown');
  const weakKinds = new Set(weak.map((i) => i.kind));
  const ruledOut = (Object.keys(RULED_OUT) as Exclude<IncidentKind, 'unknown'>[])
    .filter((k) => !weakKinds.has(k))
    .map((k) => `${k} (${RULED_OUT[k]})`);
  if (weak.length) parts.push(`Considered but not confident: ${weak.map((i) => `${i.kind} ${i.confidence.toFixed(2)}`).join(', ')} — the message fits more than one cause, so nothing is done on it.`);
  parts.push(`Ruled out: ${ruledOut.join('; ')}.`);
  if (x.signature) parts.push(`If you know the cause, comment \`/bridge label ${x.signature} <kind>\` (kinds: secret.missing, variable.missing, credential.invalid, config.invalid, transient.network, timeout.cancelled, resource.exhausted, dependency.resolution, code.failure): this failure will be classified that way in this repository from then on.`);
  return parts.join('\n');
}
