/**
 * Failure classifier: turns a GitHub Actions job log into ranked Incidents.
 *
 * - `classifyText(log, ctx)`: synchronous, for a log already in memory.
 * - `classify(log, ctx)`: string or AsyncIterable of string/Uint8Array chunks; streams in constant memory
 *   (lines are split across chunk boundaries, only bounded state is kept).
 * - `maskSecrets(line, knownValues)`: the masking applied to every evidence line.
 *
 * Pure (no I/O, clock or randomness); node:crypto is used for fingerprints only.
 */
import type { ClassifyContext, Incident } from '../schemas/index.js';
import { ClassifierState, type ClassifyOptions } from './engine.js';
import { MAX_LINE_CHARS } from './normalize.js';

export { maskSecrets, cleanLine, isCredentialName } from './normalize.js';
export { fingerprint, type ClassifyOptions } from './engine.js';
export { applyLearning, applyLearningAll, emptyClassifierMemory, recordFailure, recordLabel, recordSuccess, transientAdjustment } from './memory.js';
export { failureSignature, normalizeDecidingLine } from './signature.js';

/** Splits a stream of chunks into lines; a line longer than MAX_LINE_CHARS keeps its head only. */
export class LineSplitter {
  private partial = '';
  private overflow = false;
  private decoder: InstanceType<typeof TextDecoder> | null = null;

  constructor(private readonly onLine: (line: string) => void) {}

  write(chunk: string | Uint8Array): void {
    let text: string;
    if (typeof chunk === 'string') {
      text = this.decoder ? this.decoder.decode() + chunk : chunk;
      this.decoder = null;
    } else {
      this.decoder ??= new TextDecoder('utf-8');
      text = this.decoder.decode(chunk, { stream: true });
    }
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl === -1) break;
      const piece = text.slice(start, nl);
      if (this.overflow) {
        this.onLine(this.partial);
      } else {
        this.onLine(this.partial.length ? this.partial + piece : piece);
      }
      this.partial = '';
      this.overflow = false;
      start = nl + 1;
    }
    if (start < text.length && !this.overflow) {
      this.partial += text.slice(start);
      if (this.partial.length > MAX_LINE_CHARS) {
        this.partial = this.partial.slice(0, MAX_LINE_CHARS);
        this.overflow = true;
      }
    }
  }

  end(): void {
    if (this.decoder) {
      const rest = this.decoder.decode();
      this.decoder = null;
      if (rest) this.write(rest);
    }
    if (this.partial.length > 0 || this.overflow) this.onLine(this.partial);
    this.partial = '';
    this.overflow = false;
  }
}

/** Classify a whole log held in memory. */
export function classifyText(log: string, context: ClassifyContext, options: ClassifyOptions = {}): Incident[] {
  const state = new ClassifierState(context, options);
  let start = 0;
  for (;;) {
    const nl = log.indexOf('\n', start);
    if (nl === -1) break;
    state.push(log.slice(start, nl));
    start = nl + 1;
  }
  if (start < log.length) state.push(log.slice(start));
  return state.finish();
}

/** Classify a log given as a string or streamed as chunks (constant memory for iterables). */
export async function classify(
  log: string | AsyncIterable<string | Uint8Array>,
  context: ClassifyContext,
  options: ClassifyOptions = {},
): Promise<Incident[]> {
  if (typeof log === 'string') return classifyText(log, context, options);
  const state = new ClassifierState(context, options);
  const splitter = new LineSplitter((line) => state.push(line));
  for await (const chunk of log) splitter.write(chunk);
  splitter.end();
  return state.finish();
}
