/** SecretsPort over REST: sealed-box encryption against the scope's public key (cached by key_id). */
import type { RepoRef } from '../core/schemas/index.js';
import { scopeLabel, type Conditional, type Scope, type SecretMeta, type SecretsPort } from '../ports/index.js';
import { GitHubRequestError, githubMessage, isPermissionError, statusOf } from './errors.js';
import { PER_PAGE, scopeRoute, type RequestLayer } from './request.js';
import { sealSecret } from './sealed-box.js';

interface PublicKey { key_id: string; key: string }
interface RawSecret { name: string; created_at: string; updated_at: string }
const mapSecret = (s: RawSecret): SecretMeta => ({ name: s.name, created_at: s.created_at, updated_at: s.updated_at });

export function secretsPort(http: RequestLayer): SecretsPort {
  const publicKey = async (repo: RepoRef, scope: Scope, refresh: boolean): Promise<PublicKey> => {
    const cacheKey = `${http.cacheScope}|${repo.owner}/${repo.repo}|${scopeLabel(scope)}`.toLowerCase();
    const cached = http.cache.publicKeys.get(cacheKey);
    if (cached && !refresh) return cached;
    const { base, params } = scopeRoute(scope);
    const res = await http.req(`GET ${base}/secrets/public-key`, { ...repo, ...params });
    const key = { key_id: String(res.data.key_id), key: String(res.data.key) };
    http.cache.publicKeys.set(cacheKey, key);
    return key;
  };

  return {
    setSecret(repo, scope, name, value) {
      const operation = `set secret ${name} (${scopeLabel(scope)})`;
      return http.call('secrets', operation, async () => {
        const { base, params } = scopeRoute(scope);
        const put = async (pk: PublicKey): Promise<{ created: boolean }> => {
          const encrypted_value = await sealSecret(value, pk.key);
          const res = await http.req(`PUT ${base}/secrets/{secret_name}`, { ...repo, ...params, secret_name: name, encrypted_value, key_id: pk.key_id });
          return { created: res.status === 201 };
        };
        try {
          let result: { created: boolean };
          try {
            result = await put(await publicKey(repo, scope, false));
          } catch (e) {
            // The key rotated since we cached it: fetch it again, once.
            if (statusOf(e) !== 422 || !/key/i.test(githubMessage(e))) throw e;
            http.log?.info({ repo: `${repo.owner}/${repo.repo}`, scope: scopeLabel(scope) }, 'secret public key rejected; refetching once');
            result = await put(await publicKey(repo, scope, true));
          }
          http.log?.debug({ repo: `${repo.owner}/${repo.repo}`, scope: scopeLabel(scope), name, created: result.created }, 'secret written');
          return result;
        } catch (e) {
          if (isPermissionError(e)) throw e;
          // Never let octokit's request (with the encrypted body) travel up with the error.
          const status = statusOf(e);
          if (status !== null) throw new GitHubRequestError(status, operation, githubMessage(e));
          throw new Error(`${operation} failed: ${e instanceof Error ? e.name : 'error'}`);
        }
      });
    },

    getSecret(repo, scope, name): Promise<SecretMeta | null> {
      const { base, params } = scopeRoute(scope);
      return http.call('secrets', `read secret ${name}`, () =>
        http.getOrNull(async () => mapSecret((await http.req(`GET ${base}/secrets/{secret_name}`, { ...repo, ...params, secret_name: name })).data as RawSecret)),
      );
    },

    listSecrets(repo, scope, etag): Promise<Conditional<SecretMeta[]>> {
      const { base, params } = scopeRoute(scope);
      return http.call('secrets', `list secrets (${scopeLabel(scope)})`, () =>
        http.conditionalList<RawSecret, SecretMeta>(`GET ${base}/secrets`, { ...repo, ...params, per_page: PER_PAGE }, 'secrets', mapSecret, etag),
      );
    },

    deleteSecret(repo, scope, name) {
      const { base, params } = scopeRoute(scope);
      return http.call('secrets', `delete secret ${name}`, async () => {
        await http.getOrNull(() => http.req(`DELETE ${base}/secrets/{secret_name}`, { ...repo, ...params, secret_name: name }));
      });
    },
  };
}
