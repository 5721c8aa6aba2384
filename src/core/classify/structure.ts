/**
 * What the classifier knows about the structure of a GitHub Actions log: which step is running (`Run …` headers),
 * the step's `env:` and `with:` blocks (empty, masked `***` or set values), and `vars.X` references. Bounded: a fixed
 * number of steps and env entries. The engine (engine.ts) extends this with the rules and the incident buckets.
 */
import { isCredentialName, normalizeName, own } from './normalize.js';

export const MAX_ENV_NAMES = 256;
export const MAX_STEPS = 512;

export type EnvState = 'empty' | 'masked' | 'set';
export interface EnvEntry { state: EnvState; step: number; line: number; text: string }

/** Input names of credential-configuring actions that carry (or point to) a credential. */
export const CREDENTIAL_INPUT = /access-key|secret|role-to-assume|token|password|passphrase|credential|private-key|web-identity|creds|api-key/i;

/** A login command of the step's script whose password is visibly empty (`echo "" | docker login …`, `-p ""`). */
const EMPTY_LOGIN = /\becho\s+(?:""|'')?\s*\|\s*docker login\b|\bdocker login\b[^\n]*\s(?:-p|--password)(?:\s+|=)(?:""|'')(?:\s|$)/;

const STEP_HEADER = /^(?:##\[group\])?(?:> )?Run (\S.*)$/;
const BLOCK_HEADER = /^ {2}(env|with):\s*$/;
const BLOCK_ENTRY = /^ {4}([A-Za-z_][A-Za-z0-9_-]*): ?(.*)$/;

export class StepStructure {
  protected lineNo = 0;
  protected stepId = 0;
  protected stepName: string | undefined;
  protected stepNames = new Map<number, string>();
  protected block: 'env' | 'with' | null = null;
  protected stepEnv = new Map<string, EnvState>();
  protected envSeen = new Map<string, EnvEntry>();
  protected varsMentioned = new Set<string>();
  protected stepHasWith = false;
  protected stepHasEnv = false;
  /** The current step's `Run` header or script shows a login whose password is empty (see EMPTY_LOGIN). */
  protected stepEmptyLogin = false;

  protected trackStructure(text: string): void {
    const c0 = text.charCodeAt(0);
    if (c0 === 32 /* space */) {
      const h = BLOCK_HEADER.exec(text);
      if (h) {
        this.block = h[1] as 'env' | 'with';
        if (this.block === 'with') this.stepHasWith = true;
        else this.stepHasEnv = true;
        return;
      }
      if (this.block) {
        const e = BLOCK_ENTRY.exec(text);
        if (e) {
          this.recordEntry(e[1] as string, (e[2] ?? '').trim(), text);
          return;
        }
        // Deeper indentation continues a multi-line value; anything else at block level ends the block.
        if (!text.startsWith('      ')) this.block = null;
      }
      if (text.includes('vars.')) this.noteVars(text);
      if (!this.block && text.includes('docker login') && EMPTY_LOGIN.test(text)) this.stepEmptyLogin = true;
      return;
    }
    this.block = null;
    if (c0 === 35 /* # */ && text.startsWith('##[endgroup]')) return;
    // STEP_HEADER can only match a line starting with `R`, `#` or `>`: skip the regex for every other line.
    const s = c0 === 82 /* R */ || c0 === 35 /* # */ || c0 === 62 /* > */ ? STEP_HEADER.exec(text) : null;
    if (s) {
      this.stepId++;
      this.stepName = own((s[1] as string).slice(0, 200).trim());
      if (this.stepNames.size < MAX_STEPS) this.stepNames.set(this.stepId, this.stepName);
      this.stepEnv = new Map();
      this.stepHasWith = false;
      this.stepHasEnv = false;
      this.stepEmptyLogin = text.includes('docker login') && EMPTY_LOGIN.test(text);
      return;
    }
    if (text.includes('vars.')) this.noteVars(text);
  }

  private noteVars(text: string): void {
    for (const m of text.matchAll(/\bvars\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
      if (this.varsMentioned.size < MAX_ENV_NAMES) this.varsMentioned.add(own(normalizeName(m[1] as string)));
    }
  }

  private recordEntry(name: string, value: string, text: string): void {
    if (this.block !== 'env' && this.block !== 'with') return;
    const state: EnvState = value === '' ? 'empty' : value.includes('***') ? 'masked' : 'set';
    // `with:` inputs are kept as `input:NAME` (GitHub omits inputs whose expression was empty, so an absent
    // credential input is a hint too); only env entries name real variables.
    const key = this.block === 'env' ? name : `input:${name}`;
    const before = this.stepEnv.get(key);
    if (before !== 'empty' && this.stepEnv.size < MAX_ENV_NAMES) this.stepEnv.set(own(key), state);
    if (this.block === 'env' && (state !== 'set' || this.envSeen.has(name)) && (this.envSeen.size < MAX_ENV_NAMES || this.envSeen.has(name))) {
      const prior = this.envSeen.get(name);
      if (!(prior && prior.state === 'empty' && prior.step === this.stepId)) {
        this.envSeen.set(own(name), { state, step: this.stepId, line: this.lineNo, text: own(text) });
      }
    }
  }

  /** Masked values in the current step that carry a credential: credential-named env entries or inputs. */
  protected maskedCredentialsInStep(): number {
    let n = 0;
    for (const [k, v] of this.stepEnv) {
      if (v !== 'masked') continue;
      if (k.startsWith('input:') ? CREDENTIAL_INPUT.test(k) || isCredentialName(k.slice(6)) : isCredentialName(k)) n++;
    }
    return n;
  }

  /** Credential-looking entries of the current step's env block with a given state. */
  protected stepCreds(state: EnvState): string[] {
    const out: string[] = [];
    for (const [k, v] of this.stepEnv) if (v === state && !k.startsWith('input:') && isCredentialName(k)) out.push(k);
    return out;
  }

  protected envEvidence(name: string): { line: number; text: string } | undefined {
    const e = this.envSeen.get(name);
    return e ? { line: e.line, text: e.text } : undefined;
  }
}
