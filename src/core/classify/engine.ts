/**
 * The streaming classifier state machine: feed it lines, then ask for incidents.
 * Memory is bounded whatever the log size: a fixed number of buckets, evidence lines, env entries and steps.
 */
import { createHash } from 'node:crypto';
import type { ClassifyContext, FailureEvidence, Incident, IncidentKind, IncidentTarget } from '../schemas/index.js';
import { cleanLine, evidenceText, isCredentialName, normalizeName, own } from './normalize.js';
import { explainWeakAnswer, summarize, type RunFacts } from './explain.js';
import { failureSignature } from './signature.js';
import { CREDENTIAL_INPUT, MAX_STEPS, StepStructure } from './structure.js';
import { ERRORISH_BIT, JOIN_PREVIOUS_MASK, RULES, RULE_SCANNER, type RawSignal } from './rules.js';

export interface ClassifyOptions {
  /** Secret values the caller knows; they are masked in evidence text. */
  knownValues?: string[];
}

const MAX_EVIDENCE = 50;
const MAX_BUCKETS = 64;
const MAX_TAIL = 20;

/** How specific (actionable) a kind is; used to break ties and to rank. */
const SPECIFICITY: Record<IncidentKind, number> = {
  'secret.missing': 9,
  'variable.missing': 8,
  'credential.invalid': 8,
  'config.invalid': 7,
  'dependency.resolution': 6,
  'resource.exhausted': 6,
  'timeout.cancelled': 5,
  'transient.network': 5,
  'code.failure': 4,
  unknown: 0,
};

/** An error-looking line kept raw (masked and shaped into evidence only if it is ever used). */
interface TailLine { line: number; text: string; step: string | undefined }

interface Bucket {
  kind: IncidentKind;
  target: IncidentTarget | null;
  confidence: number;
  evidence: FailureEvidence[];
  firstLine: number;
  hits: number;
}

/** Variables the runner provides (GITHUB_TOKEN is a secret the workflow passes explicitly, so it is excluded). */
const RUNNER_PROVIDED = /^(?:GITHUB|RUNNER|ACTIONS)_(?!TOKEN$)[A-Z0-9_]+$/;

/** `Process completed with exit code 1.` (run steps), `The process '/usr/bin/git' failed with exit code 128` (actions). */
const EXIT_CODE = /(?:Process completed|failed) with exit code (\d+)/;

const TEST_RESULT_LINE = /^\s*(?:[✓✔✕✖×√]|PASS\s|ok\s+\d|not ok\s+\d|--- (?:PASS|FAIL):)/;
const ERRORISH = /##\[error\]|^Error:|\berror\b|\bERR!|FAILED|fatal:/i;

function targetKey(kind: string, t: IncidentTarget | null): string {
  return t ? `${kind}|${t.type}:${t.name}` : `${kind}|-`;
}

export function fingerprint(kind: IncidentKind, target: IncidentTarget | null, ctx: ClassifyContext): string {
  const basis = [kind, target ? `${target.type}:${target.name}` : '-', ctx.job_name ?? '', `${ctx.repo.owner}/${ctx.repo.repo}`].join('\n');
  return createHash('sha256').update(basis).digest('hex').slice(0, 16);
}

export class ClassifierState extends StepStructure {
  private prev = '';
  private stepsWithError = new Set<number>();
  private buckets = new Map<string, Bucket>();
  private tail: TailLine[] = [];
  private tailStart = 0;
  private facts: RunFacts = { exitCode: null, exitStep: null, annotations: [] };
  private mask: Uint32Array = new Uint32Array(RULE_SCANNER.words);
  private prevMask: Uint32Array = new Uint32Array(RULE_SCANNER.words);
  private readonly known: string[];

  constructor(private readonly ctx: ClassifyContext, opts: ClassifyOptions = {}) {
    super();
    this.known = opts.knownValues ?? [];
  }

  /** Feed one raw line (without its newline). */
  push(raw: string): void {
    this.lineNo++;
    const text = cleanLine(raw);
    if (text.length === 0) {
      this.block = null;
      this.prev = text;
      this.prevMask.fill(0);
      return;
    }
    this.trackStructure(text);
    if (text.charCodeAt(0) === 35 /* # */ && text.startsWith('##[error]') && this.facts.annotations.length < 5) this.facts.annotations.push(own(text.slice(9, 309)));
    if (text.includes('exit code')) {
      const m = EXIT_CODE.exec(text);
      if (m) this.facts = { ...this.facts, exitCode: Number(m[1]), exitStep: this.stepName ?? null };
    }
    // One scan tells which rules can match (their keywords occur); most lines have none and stop here.
    const hit = RULE_SCANNER.scan(text, this.mask);
    let join = false;
    for (let w = 0; w < this.mask.length; w++) if (this.prevMask[w]! & JOIN_PREVIOUS_MASK[w]!) join = true;
    if (hit || join) this.applyRules(text);
    this.prev = text;
    const t = this.prevMask;
    this.prevMask = this.mask;
    this.mask = t;
  }

  private applyRules(text: string): void {
    const mask = this.mask;
    if (mask[ERRORISH_BIT >>> 5]! & (1 << (ERRORISH_BIT & 31)) && ERRORISH.test(text)) {
      if (this.stepsWithError.size < MAX_STEPS) this.stepsWithError.add(this.stepId);
      this.keepTail(text);
    }
    // Candidate rules: those whose keywords are on this line, plus wrapped-message rules whose keywords were on the
    // previous one. Bits are visited in rule order, so "first matching rule wins" is unchanged.
    for (let w = 0; w < mask.length; w++) {
      let bits = (mask[w]! | (this.prevMask[w]! & JOIN_PREVIOUS_MASK[w]!)) >>> 0;
      while (bits !== 0) {
        const low = bits & -bits;
        const i = w * 32 + (31 - Math.clz32(low));
        bits = (bits ^ low) >>> 0;
        const rule = RULES[i];
        if (!rule) continue;
        const subject = rule.joinPrevious ? `${this.prev} ${text}` : text;
        rule.re.lastIndex = 0;
        const m = rule.re.exec(subject);
        if (!m) continue;
        const sig = rule.signal(m);
        if (!sig) continue;
        // A test reporter's result line ("✓ rejects an invalid token") names a test, not a credential problem.
        if (sig.type !== 'kind' && TEST_RESULT_LINE.test(text)) continue;
        if (this.stepsWithError.size < MAX_STEPS) this.stepsWithError.add(this.stepId);
        this.resolve(sig, text);
        return; // first matching rule wins
      }
    }
  }

  /** Ring buffer of the last MAX_TAIL error-looking lines, raw; shaped into evidence only when used. */
  private keepTail(text: string): void {
    const entry: TailLine = { line: this.lineNo, text: own(text), step: this.stepName };
    if (this.tail.length < MAX_TAIL) this.tail.push(entry);
    else {
      this.tail[this.tailStart] = entry;
      this.tailStart = (this.tailStart + 1) % MAX_TAIL;
    }
  }

  private tailEvidence(): FailureEvidence[] {
    const ordered = [...this.tail.slice(this.tailStart), ...this.tail.slice(0, this.tailStart)];
    return ordered.map((t) => {
      const ev: FailureEvidence = { line: t.line, text: evidenceText(t.text, this.known) };
      if (this.ctx.job_id !== undefined) ev.job_id = this.ctx.job_id;
      if (this.ctx.job_name !== undefined) ev.job_name = this.ctx.job_name;
      if (t.step !== undefined) ev.step = t.step.slice(0, 200);
      return ev;
    });
  }

  private evidence(text: string, line: number): FailureEvidence {
    const ev: FailureEvidence = { line, text: own(evidenceText(text, this.known)) };
    if (this.ctx.job_id !== undefined) ev.job_id = this.ctx.job_id;
    if (this.ctx.job_name !== undefined) ev.job_name = this.ctx.job_name;
    if (this.stepName !== undefined) ev.step = this.stepName.slice(0, 200);
    return ev;
  }

  private add(kind: IncidentKind, target: IncidentTarget | null, confidence: number, text: string, extra?: { line: number; text: string }): void {
    const key = targetKey(kind, target);
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= MAX_BUCKETS) return;
      b = { kind, target, confidence, evidence: [], firstLine: this.lineNo, hits: 0 };
      this.buckets.set(key, b);
    }
    b.hits++;
    b.confidence = Math.max(b.confidence, confidence);
    if (extra && b.evidence.length < MAX_EVIDENCE && !b.evidence.some((e) => e.line === extra.line)) {
      b.evidence.push(this.evidence(extra.text, extra.line));
    }
    if (b.evidence.length < MAX_EVIDENCE && !b.evidence.some((e) => e.line === this.lineNo)) b.evidence.push(this.evidence(text, this.lineNo));
  }

  private missingByName(name: string, confidence: number, hint: 'secret' | 'variable' | undefined, text: string, plain = false, named = false): void {
    const norm = normalizeName(name);
    // The runner sets GITHUB_*/RUNNER_* itself: a tool complaining about one is a runner or tool problem, never a
    // secret or variable the repository could add.
    if (RUNNER_PROVIDED.test(norm)) return;
    const isVar = hint === 'variable' || (hint !== 'secret' && (this.varsMentioned.has(norm) || !isCredentialName(name)));
    // A name the log shows as masked (***) in the current step is present: its value is wrong, not missing.
    if (this.stepEnv.get(name) === 'masked') {
      this.add('credential.invalid', { type: 'secret', name }, 0.6, text, this.envEvidence(name));
      return;
    }
    const evidence = this.envEvidence(name);
    const empty = this.envSeen.get(name)?.state === 'empty';
    // The failing step lists its environment and the named variable is not in it at all (GitHub prints an entry
    // whose secret or variable is empty as `NAME: `): the workflow does not pass it to this step. Wiring, not a
    // value to create.
    if (!named && this.stepHasEnv && !this.stepEnv.has(name) && !this.envSeen.has(name)) {
      this.add('config.invalid', { type: 'step', name: (this.stepName ?? 'unnamed step').slice(0, 200) }, Math.min(confidence, 0.6), text);
      return;
    }
    // A bare "X is not set" for a name that does not look like a credential, with no `vars.X` in the log and no
    // empty env entry, cannot tell a variable from a secret stored under a plain name: abstain.
    if (plain && isVar && hint !== 'variable' && !empty && !this.varsMentioned.has(norm)) confidence = Math.min(confidence, 0.45);
    if (isVar) {
      // A region-style hint without the name in the log: keep the target only if the log showed it empty.
      if (hint === 'variable' && name === 'AWS_REGION' && !empty && !this.envSeen.has('AWS_DEFAULT_REGION')) {
        this.add('variable.missing', null, confidence, text);
        return;
      }
      this.add('variable.missing', { type: 'variable', name }, empty ? Math.max(confidence, 0.8) : confidence, text, evidence);
    } else {
      this.add('secret.missing', { type: 'secret', name }, empty ? Math.max(confidence, 0.9) : confidence, text, evidence);
    }
  }

  private resolve(sig: RawSignal, text: string): void {
    switch (sig.type) {
      case 'ignore':
        return;
      case 'kind':
        this.add(sig.kind, sig.target ?? null, sig.confidence, text);
        return;
      case 'missing-name':
        this.missingByName(sig.name, sig.confidence, sig.hint, text, sig.plain, sig.named);
        return;
      case 'no-credential': {
        const empties = this.stepCreds('empty');
        if (empties.length > 0) this.missingByName(empties[0] as string, 0.85, 'secret', text);
        else if (this.maskedCredentialsInStep() > 0) this.add('config.invalid', this.stepName ? { type: 'step', name: this.stepName.slice(0, 200) } : null, 0.6, text);
        else if (this.stepEmptyLogin) this.add('secret.missing', null, 0.8, text);
        else this.add(sig.fallback, null, sig.confidence, text);
        return;
      }
      case 'missing-unnamed': {
        const empties = sig.hint === 'secret' ? this.stepCreds('empty') : [];
        if (empties.length === 1) this.missingByName(empties[0] as string, 0.9, 'secret', text);
        else if (sig.hint === 'secret' && this.maskedCredentialsInStep() > 0) {
          // The message says "no credential", yet the step shows one masked (present): a wrong or unusable value,
          // or a message that means something else. Never a missing secret; below the actionable threshold.
          this.add('credential.invalid', null, 0.45, text);
        } else this.add(sig.hint === 'secret' ? 'secret.missing' : 'variable.missing', null, sig.confidence, text);
        return;
      }
      case 'missing-input': {
        const want = normalizeName(sig.input);
        // Map the input to an env name only when the log shows an empty env entry of that (normalized) name.
        for (const [k, v] of this.stepEnv) {
          if (v === 'empty' && !k.startsWith('input:') && (normalizeName(k) === want || normalizeName(k).endsWith(`_${want}`))) {
            this.missingByName(k, 0.9, undefined, text);
            return;
          }
        }
        const empties = this.stepCreds('empty');
        if (empties.length === 1 && isCredentialName(sig.input)) {
          this.missingByName(empties[0] as string, 0.85, 'secret', text);
          return;
        }
        const target: IncidentTarget | null = this.stepName ? { type: 'step', name: this.stepName.slice(0, 200) } : null;
        // An action input is never a variable: a required non-credential input that is absent is a workflow that
        // does not give it (a missing `with:` key, or an expression that resolved empty) — not a variable to sync.
        if (isCredentialName(sig.input)) this.add('secret.missing', target, sig.confidence, text);
        else this.add('config.invalid', target, Math.min(sig.confidence, 0.6), text);
        return;
      }
      case 'credentials-unloaded': {
        const empties = this.stepCreds('empty');
        if (empties.length > 0) this.missingByName(empties[0] as string, 0.85, 'secret', text);
        else if (this.maskedCredentialsInStep() > 0) this.add('credential.invalid', null, 0.6, text);
        else if (this.stepHasWith && ![...this.stepEnv.keys()].some((k) => k.startsWith('input:') && CREDENTIAL_INPUT.test(k))) {
          // The action's inputs are listed and none carries a credential: GitHub drops inputs whose expression
          // was empty, so the secret behind them is missing (or was never wired).
          this.add('secret.missing', null, 0.6, text);
        } else this.add('credential.invalid', null, sig.confidence, text);
        return;
      }
      case 'auth': {
        // Missing beats wrong: an empty credential in scope explains the auth failure.
        const empties = this.stepCreds('empty');
        if (empties.length > 0) {
          this.missingByName(empties[0] as string, 0.9, 'secret', text);
          return;
        }
        let masked = this.stepCreds('masked');
        if (masked.length > 1) {
          // Several secrets in scope: keep the one whose name the error line talks about (e.g. "Token" → FOO_TOKEN).
          const lower = text.toLowerCase();
          const score = (n: string): number => n.toLowerCase().split(/[^a-z0-9]+/).filter((p) => p.length >= 3 && lower.includes(p)).length;
          const best = Math.max(...masked.map(score));
          const top = masked.filter((n) => score(n) === best);
          if (best > 0 && top.length === 1) masked = top;
        }
        const maskedInputs = [...this.stepEnv].filter(([k, v]) => v === 'masked' && k.startsWith('input:')).length;
        if (masked.length === 1) {
          const name = masked[0] as string;
          this.add('credential.invalid', { type: 'secret', name }, sig.weak ? 0.6 : Math.max(sig.confidence, 0.85), text, this.envEvidence(name));
        } else if (masked.length > 1 || maskedInputs > 0) {
          this.add('credential.invalid', null, sig.weak ? 0.5 : Math.max(sig.confidence, 0.8), text);
        } else {
          // No way to tell missing from wrong: say wrong, with moderate confidence. Never secret.missing.
          this.add('credential.invalid', null, sig.weak ? 0.4 : Math.min(sig.confidence, 0.7), text);
        }
        return;
      }
    }
  }

  /** Close the stream and produce incidents, strongest first. */
  finish(): Incident[] {
    // Empty credential-looking env values in a step that then failed, not yet explained by a rule. When a rule
    // already explains the failure confidently (a test failure, a network error…), the empty value is only a hint.
    const explained = [...this.buckets.values()].some((b) => b.confidence >= 0.6 && b.kind !== 'secret.missing' && b.kind !== 'variable.missing');
    for (const [name, e] of this.envSeen) {
      if (e.state !== 'empty' || !this.stepsWithError.has(e.step)) continue;
      const covered = [...this.buckets.values()].some((b) => b.target?.name === name);
      if (covered) continue;
      const stepName = this.stepNames.get(e.step);
      const ev: FailureEvidence = { line: e.line, text: evidenceText(e.text, this.known) };
      if (this.ctx.job_id !== undefined) ev.job_id = this.ctx.job_id;
      if (this.ctx.job_name !== undefined) ev.job_name = this.ctx.job_name;
      if (stepName) ev.step = stepName;
      const norm = normalizeName(name);
      const asVar = this.varsMentioned.has(norm) || !isCredentialName(name);
      const kind: IncidentKind = asVar ? 'variable.missing' : 'secret.missing';
      const conf = explained ? 0.35 : asVar ? (this.varsMentioned.has(norm) ? 0.7 : 0.35) : 0.6;
      const key = targetKey(kind, { type: asVar ? 'variable' : 'secret', name });
      if (this.buckets.size < MAX_BUCKETS) {
        this.buckets.set(key, { kind, target: { type: asVar ? 'variable' : 'secret', name }, confidence: conf, evidence: [ev], firstLine: e.line, hits: 1 });
      }
    }

    // One incident per kind where possible: fold target-less buckets into the strongest targeted one of the same kind.
    const all = [...this.buckets.values()];
    for (const b of all.filter((x) => x.target === null)) {
      const host = all
        .filter((x) => x.kind === b.kind && x.target !== null)
        .sort((a, c) => c.confidence - a.confidence)[0];
      if (!host) continue;
      host.confidence = Math.max(host.confidence, b.confidence);
      for (const ev of b.evidence) if (host.evidence.length < MAX_EVIDENCE && !host.evidence.some((e) => e.line === ev.line)) host.evidence.push(ev);
      this.buckets.delete(targetKey(b.kind, null));
    }

    // secret.missing explains an auth failure on the same run: demote the untargeted credential.invalid.
    const hasMissing = [...this.buckets.values()].some((b) => b.kind === 'secret.missing' && b.confidence >= 0.8);
    if (hasMissing) {
      for (const b of this.buckets.values()) if (b.kind === 'credential.invalid') b.confidence = Math.min(b.confidence, 0.45);
    }

    const buckets = [...this.buckets.values()].sort(
      (a, b) => b.confidence - a.confidence || SPECIFICITY[b.kind] - SPECIFICITY[a.kind] || a.firstLine - b.firstLine,
    );
    const incidents = buckets.map((b) => this.toIncident(b.kind, b.target, b.confidence, b.evidence));
    if (incidents.length === 0) {
      incidents.push(this.toIncident('unknown', null, 0.2, this.tailEvidence().slice(-MAX_EVIDENCE)));
    }
    const signed = failureSignature(incidents);
    if (signed) for (const i of incidents) i.signature = signed.signature;
    // No confident answer: say what the log shows, what was ruled out and how to teach the classifier.
    if (incidents[0]!.confidence < 0.5) {
      incidents[0]!.summary = explainWeakAnswer(incidents, { ...this.facts, stepNames: this.stepNames, errorSteps: this.stepsWithError, signature: signed?.signature ?? null, known: this.known });
    }
    return incidents;
  }

  private toIncident(kind: IncidentKind, target: IncidentTarget | null, confidence: number, evidence: FailureEvidence[]): Incident {
    const evs = [...evidence].sort((a, b) => a.line - b.line).slice(0, MAX_EVIDENCE);
    const step = evs.find((e) => e.step)?.step;
    const inc: Incident = {
      kind,
      target,
      confidence: Math.round(Math.min(1, Math.max(0, confidence)) * 100) / 100,
      fingerprint: fingerprint(kind, target, this.ctx),
      summary: summarize(kind, target, step),
      evidence: evs,
      repo: this.ctx.repo,
    };
    if (this.ctx.run !== undefined) inc.run = this.ctx.run;
    if (this.ctx.environment !== undefined) inc.environment = this.ctx.environment;
    return inc;
  }
}
