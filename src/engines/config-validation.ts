/**
 * Validation of a rendered config before it is proposed: the file must parse (JSON, YAML, TOML) and
 * each parsed document must satisfy its JSON Schema — the one the repository points to
 * (`configs.<path>.schema` in .github/autonomy.yml), else the shipped schema for that kind of file
 * (vercel.json, netlify.toml, render.yaml, fly.toml, a root app.json, a Kubernetes Deployment).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseToml } from 'smol-toml';
import { parseAllDocuments } from 'yaml';
import { FLY_TOML, HEROKU_APP_JSON, KUBERNETES_DEPLOYMENT, NETLIFY_TOML, RENDER_YAML, VERCEL_JSON } from './config-schemas/platforms.js';

export type ConfigFormat = 'json' | 'yaml' | 'toml';
export type JsonSchema = Record<string, unknown>;

export function formatOf(path: string): ConfigFormat | null {
  const lower = path.toLowerCase();
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.yml') || lower.endsWith('.yaml')) return 'yaml';
  if (lower.endsWith('.toml')) return 'toml';
  return null;
}

const firstLine = (s: string): string => s.split('\n')[0] ?? s;

/** The file's documents (YAML may hold several), or why it does not parse. */
export function parseConfig(path: string, content: string): { ok: true; format: ConfigFormat | null; documents: unknown[] } | { ok: false; error: string } {
  const format = formatOf(path);
  try {
    if (format === 'json') return { ok: true, format, documents: [JSON.parse(content)] };
    if (format === 'toml') return { ok: true, format, documents: [parseToml(content)] };
    if (format === 'yaml') {
      const docs = parseAllDocuments(content);
      const list = 'empty' in docs ? [] : docs;
      const errors = 'empty' in docs ? docs.errors : list.flatMap((d) => d.errors);
      if (errors[0]) return { ok: false, error: `rendered ${path} is not valid YAML: ${firstLine(errors[0].message)}` };
      return { ok: true, format, documents: list.map((d) => d.toJS()).filter((d) => d !== null && d !== undefined) };
    }
  } catch (err) {
    const kind = format === 'json' ? 'JSON' : 'TOML';
    return { ok: false, error: `rendered ${path} is not valid ${kind}: ${firstLine(err instanceof Error ? err.message : String(err))}` };
  }
  return { ok: true, format: null, documents: [] };
}

const basename = (path: string): string => path.split('/').pop()!.toLowerCase();

/** The shipped schema for one parsed document of `path`, if Living Bridge knows its kind. */
export function builtinSchemaFor(path: string, document: unknown): JsonSchema | null {
  const name = basename(path);
  if (name === 'vercel.json') return VERCEL_JSON;
  if (name === 'netlify.toml') return NETLIFY_TOML;
  if (name === 'render.yaml' || name === 'render.yml') return RENDER_YAML;
  if (name === 'fly.toml') return FLY_TOML;
  // Heroku reads app.json at the repository root only; config/app.json is somebody else's file.
  if (path === 'app.json') return HEROKU_APP_JSON;
  const d = document as { kind?: unknown } | null;
  if (formatOf(path) === 'yaml' && d && typeof d === 'object' && d.kind === 'Deployment') return KUBERNETES_DEPLOYMENT;
  return null;
}

const compiled = new WeakMap<JsonSchema, ValidateFunction>();
// strict: false — a repository's schema may carry keywords (x-*, format names) ajv does not know.
const draft07 = new Ajv({ allErrors: true, strict: false });
const draft2020 = new Ajv2020({ allErrors: true, strict: false });

function validatorFor(schema: JsonSchema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    const is2020 = typeof schema.$schema === 'string' && schema.$schema.includes('2020-12');
    // $id is left to the caller's naming: two repositories may ship schemas with the same $id.
    const { $id: _id, ...rest } = schema;
    v = (is2020 ? draft2020 : draft07).compile(rest);
    compiled.set(schema, v);
  }
  return v;
}

function describe(e: ErrorObject): string {
  const at = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') return `${at}: unknown field "${String((e.params as { additionalProperty?: unknown }).additionalProperty)}"`;
  if (e.keyword === 'enum') return `${at}: must be one of ${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)}`;
  return `${at}: ${e.message ?? e.keyword}`;
}

export type ConfigValidation =
  | { ok: true; format: ConfigFormat | null; schemas: string[] }
  | { ok: false; error: string };

/**
 * Parses `content` as `path` and checks every document against `declared` (a schema the repository
 * points to, already parsed) or the built-in schema of its kind. `schemas` names what it was checked
 * against (empty: it parsed, and no schema applies).
 */
export function validateConfig(path: string, content: string, declared?: { source: string; schema: JsonSchema }): ConfigValidation {
  const parsed = parseConfig(path, content);
  if (!parsed.ok) return parsed;
  if (declared && parsed.format === null) return { ok: false, error: `${path}: a schema is declared (${declared.source}) but Living Bridge cannot parse this kind of file (JSON, YAML and TOML only)` };
  const used = new Set<string>();
  for (const [i, doc] of parsed.documents.entries()) {
    const schema = declared?.schema ?? builtinSchemaFor(path, doc);
    if (!schema) continue;
    const name = declared?.source ?? String(schema.title ?? schema.$id ?? 'schema');
    let validate: ValidateFunction;
    try {
      validate = validatorFor(schema);
    } catch (err) {
      return { ok: false, error: `${name} is not a usable JSON Schema: ${firstLine(err instanceof Error ? err.message : String(err))}` };
    }
    if (!validate(doc)) {
      const where = parsed.documents.length > 1 ? ` (document ${i + 1})` : '';
      const problems = (validate.errors ?? []).slice(0, 5).map(describe);
      return { ok: false, error: `rendered ${path}${where} does not match ${name}: ${problems.join('; ')}` };
    }
    used.add(name);
  }
  return { ok: true, format: parsed.format, schemas: [...used] };
}
