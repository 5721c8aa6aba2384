/**
 * `living-bridge validate` and the Action's inline annotations: `.github/autonomy.yml` and
 * `.github/environment.json` checked against their schemas, each problem with its line and column
 * (from the `yaml` library's node ranges; JSON is read by the same parser, as YAML 1.2 is a superset),
 * the schema path, our message and a did-you-mean for misspelt keys and options.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { EnvironmentFile, RepoConfig, schemaIssues } from '../core/schemas/index.js';

export type ConfigKind = 'autonomy' | 'environment';

export interface ConfigDiagnostic {
  file: string;
  /** 1-based. */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** The schema path (`environments.prod.level`, `(root)`), or `(syntax)` for a parse error. */
  path: string;
  message: string;
  suggestion?: string;
}

/** autonomy for *.yml/*.yaml, environment for *.json; null for anything else. */
export function configKindOf(file: string): ConfigKind | null {
  if (/\.ya?ml$/i.test(file)) return 'autonomy';
  if (/\.json$/i.test(file)) return 'environment';
  return null;
}

const SCHEMAS: Record<ConfigKind, z.ZodType> = { autonomy: RepoConfig, environment: EnvironmentFile };

interface Located { start: number; end: number }

/** The node (or the key of the last pair found) at a path; walks as far as the document goes. */
function locate(doc: Document, segments: (string | number)[], keyOnly: boolean): Located | null {
  let node: unknown = doc.contents;
  let found: Located | null = node && (node as Node).range ? { start: (node as Node).range![0], end: (node as Node).range![1] } : null;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      const key = pair.key as Node;
      const value = pair.value as Node | null;
      // An unknown key, or a value that is a whole block: point at the key. A wrong scalar: at the value.
      const target = last && !keyOnly && value?.range && isScalar(value) ? value : key;
      if (target.range) found = { start: target.range[0], end: target.range[1] };
      node = value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item?.range) break;
      found = { start: item.range[0], end: item.range[1] };
      node = item;
    } else {
      break;
    }
  }
  return found;
}

/** Line and column of a character offset; ends never before starts. */
function position(lc: LineCounter, loc: Located | null): Pick<ConfigDiagnostic, 'line' | 'column' | 'endLine' | 'endColumn'> {
  if (!loc) return { line: 1, column: 1, endLine: 1, endColumn: 1 };
  const s = lc.linePos(loc.start);
  const e = lc.linePos(Math.max(loc.start, loc.end));
  return { line: s.line, column: s.col, endLine: e.line, endColumn: e.col };
}

/**
 * Where JSON text first goes wrong, and what was expected there (JSON.parse in Node 20 often names
 * neither a position nor the expectation). A small recursive-descent scan; only run after JSON.parse failed.
 */
export function jsonSyntaxError(text: string): { offset: number; message: string } {
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++; };
  const fail = (expected: string): never => {
    const got = i >= text.length ? 'the end of the file' : `${JSON.stringify(text[i])}`;
    throw Object.assign(new Error(`expected ${expected}, found ${got}`), { offset: i });
  };
  const str = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail('a closing " (a string cannot span lines)');
      i++;
    }
    if (i >= text.length) fail('a closing "');
    i++;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(text[i] === '}' ? 'another key (no comma before a closing brace)' : 'a key in double quotes');
        str(); ws();
        if (text[i] !== ':') fail('":" after the key');
        i++; value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail('"," or "}"');
      }
    }
    if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail('"," or "]"');
      }
    }
    if (c === '"') return str();
    const lit = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
    if (!lit) fail('a value (a string in double quotes, a number, true, false, null, an object or an array)');
    i += lit![0].length;
  };
  try {
    value(); ws();
    if (i < text.length) fail('the end of the file (one JSON value per file)');
    return { offset: 0, message: 'not valid JSON' };
  } catch (err) {
    return { offset: (err as { offset: number }).offset, message: (err as Error).message };
  }
}

function jsonSyntax(text: string, file: string): ConfigDiagnostic {
  const { offset, message } = jsonSyntaxError(text);
  const before = text.slice(0, offset).split('\n');
  const line = before.length;
  const column = before.at(-1)!.length + 1;
  return { file, line, column, endLine: line, endColumn: column + 1, path: '(syntax)', message: `not valid JSON: ${message}` };
}

/** Every problem in one config file's text; [] when it is valid. */
export function checkConfigText(file: string, text: string, kind: ConfigKind): ConfigDiagnostic[] {
  if (text.trim() === '') return kind === 'autonomy' ? [] : [{ file, line: 1, column: 1, endLine: 1, endColumn: 1, path: '(syntax)', message: 'the file is empty (expected a JSON object)' }];
  let data: unknown;
  if (kind === 'environment') {
    try {
      data = JSON.parse(text);
    } catch {
      return [jsonSyntax(text, file)];
    }
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: kind === 'autonomy' });
  if (kind === 'autonomy') {
    if (doc.errors.length) {
      return doc.errors.map((e) => ({
        file, ...position(lc, { start: e.pos[0], end: e.pos[1] }), path: '(syntax)',
        message: `not valid YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
      }));
    }
    data = doc.toJS() ?? {};
  }
  const schema = SCHEMAS[kind];
  const result = schema.safeParse(data);
  if (result.success) return [];
  // Positions come from the YAML view of the file; a JSON file it cannot read (rare) is reported at 1:1.
  const located = doc.errors.length === 0;
  return schemaIssues(schema, result.error, data).map((i) => ({
    file,
    ...position(lc, located ? locate(doc, i.segments ?? [], /^(unknown key|the key )/.test(i.message)) : null),
    path: i.path,
    message: i.message,
    ...(i.suggestion ? { suggestion: i.suggestion } : {}),
  }));
}

/** `file:line:col: path: message`, the way compilers print it (editors and terminals link it). */
export function formatDiagnostic(d: ConfigDiagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.path}: ${d.message}`;
}
