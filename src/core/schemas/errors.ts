import { z } from 'zod';
import { allowedKeysAt, closest } from './suggest.js';

/** One problem in a validated file or payload. */
export interface SchemaIssue {
  /** `a.b[0].c`, or `(root)`. */
  path: string;
  message: string;
  /** The path as segments (for locating it in the file); the unknown key itself for an unknown key. */
  segments?: (string | number)[];
  /** For an unknown key: the allowed key it most likely meant. */
  suggestion?: string;
}

/** A user-edited file or payload failed validation. The message names file, path and expectation. */
export class SchemaError extends Error {
  constructor(
    readonly source: string,
    readonly issues: SchemaIssue[],
  ) {
    super(issues.map((i) => `${source}: ${i.path}: ${i.message}`).join('\n'));
    this.name = 'SchemaError';
  }
}

const received = (message: string): string => /received (\w+)/.exec(message)?.[1] ?? '';

/** A zod issue in our words: never "Invalid discriminator value", "Invalid key in record" or a bare "Invalid input". */
export function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return `expected one of ${(issue.values as unknown[]).map(String).join('|')}`;
  }
  if (issue.code === 'unrecognized_keys') return `unknown key(s) ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type') {
    // zod 4 says "Invalid input: expected string, received number"; keep it short and lower-case.
    if (received(issue.message) === 'undefined') return `expected ${issue.expected} (the key is missing)`;
    return issue.message.replace(/^Invalid input: /, '');
  }
  if (issue.code === 'invalid_key') {
    const key = issue.path.at(-1);
    const inner = issue.issues[0] ? describeIssue(issue.issues[0]) : 'not allowed here';
    return `the key ${JSON.stringify(String(key))} is not a valid name: ${inner}`;
  }
  if (issue.code === 'invalid_union') {
    const u = issue as { discriminator?: string; options?: unknown[] };
    if (u.discriminator && Array.isArray(u.options)) return `expected one of ${u.options.map(String).join('|')}`;
    // Each branch's own complaint at this level ("expected string", "expected object", …).
    const forms = [...new Set(issue.errors.map((branch) => branch[0]).filter((i) => i && i.path.length === 0).map((i) => (i!.code === 'invalid_type' ? String(i!.expected) : describeIssue(i!))))];
    if (forms.length) return `matches none of the allowed forms (expected ${forms.join(' or ')})`;
    return 'matches none of the allowed forms';
  }
  return issue.message;
}

const formatPath = (path: PropertyKey[]): string =>
  path.length === 0 ? '(root)' : path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');

/** The issues of a failed parse, in our words; an unknown key is one issue each, with a did-you-mean. */
export function schemaIssues(schema: z.ZodType, error: z.ZodError, data: unknown): SchemaIssue[] {
  return error.issues.flatMap((i): SchemaIssue[] => {
    const segments = i.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (i.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(schema, segments);
      return i.keys.map((key) => {
        const suggestion = closest(key, allowed) ?? undefined;
        return { path: formatPath(segments), message: `unknown key(s) ${key}${suggestion ? ` (did you mean ${suggestion}?)` : ''}`, segments: [...segments, key], ...(suggestion ? { suggestion } : {}) };
      });
    }
    let message = describeIssue(i);
    if (i.code === 'invalid_value' && 'values' in i) {
      // A misspelt option: `level: ful` → did you mean full?
      const value = valueAt(data, segments);
      const guess = typeof value === 'string' ? closest(value, (i.values as unknown[]).map(String)) : null;
      if (guess) message += ` (did you mean ${guess}?)`;
    }
    return [{ path: formatPath(segments), message, segments }];
  });
}

const valueAt = (data: unknown, path: (string | number)[]): unknown =>
  path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined), data);

/** Parse `data` with `schema`, throwing a SchemaError naming `source` (a file name or "request body"). */
export function parseWith<S extends z.ZodType>(schema: S, data: unknown, source: string): z.infer<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  throw new SchemaError(source, schemaIssues(schema, result.error, data));
}
