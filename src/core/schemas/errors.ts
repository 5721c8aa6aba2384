import { z } from 'zod';

/** A user-edited file or payload failed validation. The message names file, path and expectation. */
export class SchemaError extends Error {
  constructor(
    readonly source: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(issues.map((i) => `${source}: ${i.path}: ${i.message}`).join('\n'));
    this.name = 'SchemaError';
  }
}

const describeIssue = (issue: z.core.$ZodIssue): string => {
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return `expected one of ${(issue.values as unknown[]).map(String).join('|')}`;
  }
  if (issue.code === 'unrecognized_keys') return `unknown key(s) ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type') {
    // zod 4 says "Invalid input: expected string, received number"; keep it short and lower-case.
    return issue.message.replace(/^Invalid input: /, '');
  }
  return issue.message;
};

const formatPath = (path: PropertyKey[]): string =>
  path.length === 0 ? '(root)' : path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');

/** Parse `data` with `schema`, throwing a SchemaError naming `source` (a file name or "request body"). */
export function parseWith<S extends z.ZodType>(schema: S, data: unknown, source: string): z.infer<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  throw new SchemaError(
    source,
    result.error.issues.map((i) => ({
      path: formatPath(i.code === 'unrecognized_keys' ? i.path : i.path),
      message: describeIssue(i),
    })),
  );
}
