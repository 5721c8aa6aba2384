/**
 * Actions secrets, repository level (`/repos/{owner}/{repo}/actions/secrets`) and environment level
 * (`/repos/{owner}/{repo}/environments/{environment_name}/secrets`). Values are sealed boxes against
 * the scope's libsodium public key; the sandbox decrypts and keeps the plaintext privately.
 */
import type { RouteContext, RouteDef } from '../router.js';
import { noContent, ok } from '../router.js';
import { SandboxHttpError, notFound, requireString } from '../util.js';
import { wrappedList } from './helpers.js';

const env = (ctx: RouteContext): string | undefined => ctx.params.environment_name;

function secretsFor(base: string): RouteDef[] {
  return [
    {
      method: 'GET', path: `${base}/secrets/public-key`, perm: ['secrets', 'read'],
      handler: (ctx) => ok(ctx.state.publicKey(ctx.repo.owner, ctx.repo.name, env(ctx))),
    },
    {
      method: 'GET', path: `${base}/secrets`, perm: ['secrets', 'read'],
      handler: (ctx) => {
        const scope = env(ctx) === undefined ? ctx.repo : ctx.repo.environments.get(env(ctx)!);
        if (!scope) throw notFound();
        const all = [...scope.secrets.values()].sort((a, b) => a.name.localeCompare(b.name));
        return wrappedList(ctx, 'secrets', all, (s) => ({ ...s }));
      },
    },
    {
      method: 'GET', path: `${base}/secrets/{secret_name}`, perm: ['secrets', 'read'],
      handler: (ctx) => {
        const scope = env(ctx) === undefined ? ctx.repo : ctx.repo.environments.get(env(ctx)!);
        const s = scope?.secrets.get(ctx.params.secret_name!.toUpperCase());
        if (!s) throw notFound();
        return ok({ ...s });
      },
    },
    {
      method: 'PUT', path: `${base}/secrets/{secret_name}`, perm: ['secrets', 'write'],
      handler: (ctx) => {
        const encrypted = requireString(ctx.body, 'encrypted_value');
        const keyId = requireString(ctx.body, 'key_id');
        const { created } = ctx.state.putEncryptedSecret(ctx.repo.owner, ctx.repo.name, ctx.params.secret_name!, encrypted, keyId, env(ctx));
        return created ? { status: 201, body: {} } : noContent();
      },
    },
    {
      method: 'DELETE', path: `${base}/secrets/{secret_name}`, perm: ['secrets', 'write'],
      handler: (ctx) => {
        ctx.state.deleteSecret(ctx.repo.owner, ctx.repo.name, ctx.params.secret_name!, env(ctx));
        return noContent();
      },
    },
  ];
}

function variablesFor(base: string): RouteDef[] {
  return [
    {
      method: 'GET', path: `${base}/variables`, perm: ['actions_variables', 'read'],
      handler: (ctx) => {
        const scope = env(ctx) === undefined ? ctx.repo : ctx.repo.environments.get(env(ctx)!);
        if (!scope) throw notFound();
        const all = [...scope.variables.values()].sort((a, b) => a.name.localeCompare(b.name));
        return wrappedList(ctx, 'variables', all, (v) => ({ ...v }));
      },
    },
    {
      method: 'GET', path: `${base}/variables/{name}`, perm: ['actions_variables', 'read'],
      handler: (ctx) => {
        const v = ctx.state.getVariable(ctx.repo.owner, ctx.repo.name, ctx.params.name!, env(ctx));
        if (!v) throw notFound();
        return ok({ ...v });
      },
    },
    {
      method: 'POST', path: `${base}/variables`, perm: ['actions_variables', 'write'],
      handler: (ctx) => {
        const name = requireString(ctx.body, 'name');
        const value = requireString(ctx.body, 'value');
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || /^github_/i.test(name)) throw new SandboxHttpError(422, 'Invalid request.\n\nVariable names can only contain alphanumeric characters or underscores and must not start with GITHUB_.');
        ctx.state.createVariable(ctx.repo.owner, ctx.repo.name, name, value, env(ctx));
        return { status: 201, body: {} };
      },
    },
    {
      method: 'PATCH', path: `${base}/variables/{name}`, perm: ['actions_variables', 'write'],
      handler: (ctx) => {
        const patch: { name?: string; value?: string } = {};
        if (typeof ctx.body.name === 'string') patch.name = ctx.body.name;
        if (typeof ctx.body.value === 'string') patch.value = ctx.body.value;
        ctx.state.updateVariable(ctx.repo.owner, ctx.repo.name, ctx.params.name!, patch, env(ctx));
        return noContent();
      },
    },
    {
      method: 'DELETE', path: `${base}/variables/{name}`, perm: ['actions_variables', 'write'],
      handler: (ctx) => {
        ctx.state.deleteVariable(ctx.repo.owner, ctx.repo.name, ctx.params.name!, env(ctx));
        return noContent();
      },
    },
  ];
}

export const secretRoutes: RouteDef[] = [
  ...secretsFor('/repos/{owner}/{repo}/actions'),
  ...secretsFor('/repos/{owner}/{repo}/environments/{environment_name}'),
];

export const variableRoutes: RouteDef[] = [
  ...variablesFor('/repos/{owner}/{repo}/actions'),
  ...variablesFor('/repos/{owner}/{repo}/environments/{environment_name}'),
];
