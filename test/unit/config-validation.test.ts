import { describe, expect, it } from '@jest/globals';
import { builtinSchemaFor, parseConfig, validateConfig } from '../../src/engines/config-validation.js';
import { executeRegenerateConfig } from '../../src/engines/regenerate-config.js';
import type { RepoRef } from '../../src/core/schemas/index.js';
import { FakeGitHub } from '../support/fake-github.js';

const repo: RepoRef = { owner: 'acme', repo: 'shop' };

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.2.3
          ports:
            - containerPort: 8080
`;

describe('parseConfig', () => {
  it('reads JSON, every YAML document and TOML', () => {
    expect(parseConfig('a.json', '{"a":1}')).toEqual({ ok: true, format: 'json', documents: [{ a: 1 }] });
    expect(parseConfig('k.yaml', 'a: 1\n---\nb: 2\n')).toEqual({ ok: true, format: 'yaml', documents: [{ a: 1 }, { b: 2 }] });
    expect(parseConfig('fly.toml', 'app = "x"\n[env]\nA = "1"\n')).toEqual({ ok: true, format: 'toml', documents: [{ app: 'x', env: { A: '1' } }] });
  });
  it('says why a file does not parse', () => {
    const toml = parseConfig('fly.toml', 'app = "x\n');
    expect(toml.ok).toBe(false);
    if (!toml.ok) expect(toml.error).toMatch(/^rendered fly.toml is not valid TOML: /);
    const yaml = parseConfig('render.yaml', 'services:\n  - name: a\n   type: web\n');
    expect(yaml.ok).toBe(false);
    if (!yaml.ok) expect(yaml.error).toMatch(/not valid YAML/);
  });
});

describe('built-in schemas', () => {
  it('are chosen by file name (app.json only at the root) and by a YAML document\'s kind', () => {
    expect(builtinSchemaFor('vercel.json', {})?.title).toBe('vercel.json');
    expect(builtinSchemaFor('site/netlify.toml', {})?.title).toBe('netlify.toml');
    expect(builtinSchemaFor('render.yml', {})?.title).toBe('render.yaml');
    expect(builtinSchemaFor('fly.toml', {})?.title).toBe('fly.toml');
    expect(builtinSchemaFor('app.json', {})?.title).toBe('app.json (Heroku)');
    expect(builtinSchemaFor('config/app.json', {})).toBeNull();
    expect(builtinSchemaFor('k8s/web.yaml', { kind: 'Deployment' })?.title).toBe('Kubernetes Deployment (apps/v1)');
    expect(builtinSchemaFor('k8s/svc.yaml', { kind: 'Service' })).toBeNull();
  });

  const cases: [string, string, string, RegExp][] = [
    ['vercel.json', '{"buildCommand":"npm run build","regions":["fra1"],"crons":[{"path":"/api/cron","schedule":"0 5 * * *"}]}', '{"buildCommand":"npm run build","region":"fra1"}', /unknown field "region"/],
    ['netlify.toml', '[build]\ncommand = "npm run build"\npublish = "dist"\n[[redirects]]\nfrom = "/old"\nto = "/new"\nstatus = 301\n', '[[redirects]]\nfrom = "/old"\n', /\/redirects\/0: must have required property 'to'/],
    ['render.yaml', 'services:\n  - type: web\n    name: api\n    runtime: node\n    region: frankfurt\n    buildCommand: npm ci\n    startCommand: node server.js\n', 'services:\n  - type: cron\n    name: nightly\n    runtime: node\n', /\/services\/0: must have required property 'schedule'/],
    ['fly.toml', 'app = "acme-web"\nprimary_region = "fra"\n[http_service]\ninternal_port = 8080\nforce_https = true\nauto_stop_machines = "stop"\n', 'app = "acme-web"\n[http_service]\ninternal_port = 80800\n', /\/http_service\/internal_port: must be <= 65535/],
    ['app.json', '{"name":"acme-web","env":{"SECRET_KEY":{"generator":"secret"},"REGION":"eu"},"formation":{"web":{"quantity":1,"size":"basic"}}}', '{"name":"acme-web","env":{"KEY":{"generator":"random"}}}', /\/env\/KEY/],
    ['k8s/web.yaml', DEPLOYMENT, DEPLOYMENT.replace('containerPort: 8080', 'containerPort: "8080"'), /containerPort: must be integer/],
  ];
  it.each(cases)('%s: a documented config passes, a broken one is refused with the reason', (path, good, bad, reason) => {
    const ok = validateConfig(path, good);
    expect(ok).toMatchObject({ ok: true });
    if (ok.ok) expect(ok.schemas).toHaveLength(1);
    const ko = validateConfig(path, bad);
    expect(ko.ok).toBe(false);
    if (!ko.ok) expect(ko.error).toMatch(reason);
  });

  it('a Kubernetes manifest with several documents checks each Deployment and names the one that fails', () => {
    const text = `apiVersion: v1\nkind: Service\nmetadata: { name: web }\n---\n${DEPLOYMENT.replace('replicas: 2', 'replicas: -1')}`;
    const v = validateConfig('k8s/all.yaml', text);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.error).toMatch(/\(document 2\) does not match Kubernetes Deployment \(apps\/v1\): \/spec\/replicas: must be >= 0/);
  });

  it('a file with no known schema still has to parse', () => {
    expect(validateConfig('config/app.json', '{"a":1}')).toEqual({ ok: true, format: 'json', schemas: [] });
    expect(validateConfig('config/app.json', '{"a":').ok).toBe(false);
    expect(validateConfig('Procfile', 'web: node x')).toEqual({ ok: true, format: null, schemas: [] });
  });
});

describe('a schema the repository points to', () => {
  const schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', required: ['api'], properties: { api: { type: 'string', pattern: '^https://' } }, additionalProperties: false };
  it('replaces the built-in one (draft 2020-12 and draft-07 both work)', () => {
    expect(validateConfig('config/app.json', '{"api":"https://x"}', { source: 'schemas/app.schema.json', schema })).toEqual({ ok: true, format: 'json', schemas: ['schemas/app.schema.json'] });
    const v = validateConfig('config/app.json', '{"api":"http://x"}', { source: 'schemas/app.schema.json', schema: { ...schema, $schema: 'http://json-schema.org/draft-07/schema#' } });
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.error).toBe('rendered config/app.json does not match schemas/app.schema.json: /api: must match pattern "^https://"');
  });
  it('an unusable schema is an error, not a pass', () => {
    const v = validateConfig('config/app.json', '{}', { source: 's.json', schema: { type: 'no-such-type' } });
    expect(v).toMatchObject({ ok: false });
    if (!v.ok) expect(v.error).toMatch(/^s.json is not a usable JSON Schema/);
    expect(validateConfig('Procfile', 'web: x', { source: 's.json', schema: {} }).ok).toBe(false);
  });
});

describe('executeRegenerateConfig validates before proposing', () => {
  it('a render that fails its schema opens no branch and no pull request, and says why', async () => {
    const gh = new FakeGitHub();
    gh.seedFiles(repo, { 'vercel.json': '{', 'templates/vercel.json.tmpl': '{ "buildCommand": "npm run build", "regions": "{{ vars.REGION }}" }\n' });
    const report = await executeRegenerateConfig(gh, { repo, path: 'vercel.json', template: 'templates/vercel.json.tmpl', variables: { REGION: 'fra1' }, baseBranch: 'main' });
    expect(report.ok).toBe(false);
    expect(report.error).toBe('rendered vercel.json does not match vercel.json: /regions: must be array');
    expect(gh.branchHead(repo, 'living-bridge/regenerate-vercel-json')).toBeNull();
    expect(gh.pullRequests(repo)).toHaveLength(0);
  });

  it('a declared schema is read from the default branch and enforced; a missing one is an error', async () => {
    const gh = new FakeGitHub();
    gh.seedFiles(repo, {
      'config/app.json': '{',
      'templates/app.json.tmpl': '{ "api": "{{ vars.API_URL }}" }\n',
      'schemas/app.schema.yml': 'type: object\nrequired: [api]\nproperties:\n  api: { type: string, pattern: "^https://" }\n',
    });
    const plan = { repo, path: 'config/app.json', template: 'templates/app.json.tmpl', baseBranch: 'main', schema: 'schemas/app.schema.yml' };
    const bad = await executeRegenerateConfig(gh, { ...plan, variables: { API_URL: 'http://plain' } });
    expect(bad.error).toMatch(/does not match schemas\/app.schema.yml: \/api: must match pattern/);
    const good = await executeRegenerateConfig(gh, { ...plan, variables: { API_URL: 'https://api.acme.test' } });
    expect(good).toMatchObject({ ok: true, certified: true, proposal: { path: 'config/app.json', schemas: ['schemas/app.schema.yml'] } });
    expect(good.notes[0]).toMatch(/validated against schemas\/app.schema.yml/);
    const missing = await executeRegenerateConfig(gh, { ...plan, schema: 'schemas/none.json', variables: { API_URL: 'https://x' } });
    expect(missing.error).toBe('schema schemas/none.json (configs.config/app.json.schema in .github/autonomy.yml) not found on main');
  });
});
