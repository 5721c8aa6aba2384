/** VariablesPort over REST (repository or environment scope). */
import { scopeLabel, type Conditional, type VariablesPort, type VariableValue } from '../ports/index.js';
import { isNotFound, statusOf } from './errors.js';
import { VARIABLES_PER_PAGE, scopeRoute, type RequestLayer } from './request.js';

interface RawVariable { name: string; value: string; created_at?: string; updated_at?: string }
const mapVariable = (v: RawVariable): VariableValue => ({
  name: v.name,
  value: v.value,
  ...(v.created_at !== undefined ? { created_at: v.created_at } : {}),
  ...(v.updated_at !== undefined ? { updated_at: v.updated_at } : {}),
});

export function variablesPort(http: RequestLayer): Required<VariablesPort> {
  return {
    getVariable(repo, scope, name): Promise<VariableValue | null> {
      const { base, params } = scopeRoute(scope);
      return http.call('variables', `read variable ${name}`, () =>
        http.getOrNull(async () => mapVariable((await http.req(`GET ${base}/variables/{name}`, { ...repo, ...params, name })).data as RawVariable)),
      );
    },

    listVariables(repo, scope, etag): Promise<Conditional<VariableValue[]>> {
      const { base, params } = scopeRoute(scope);
      return http.call('variables', `list variables (${scopeLabel(scope)})`, () =>
        http.conditionalList<RawVariable, VariableValue>(`GET ${base}/variables`, { ...repo, ...params, per_page: VARIABLES_PER_PAGE }, 'variables', mapVariable, etag),
      );
    },

    upsertVariable(repo, scope, name, value) {
      const { base, params } = scopeRoute(scope);
      return http.call('variables', `write variable ${name}`, async () => {
        try {
          await http.req(`PATCH ${base}/variables/{name}`, { ...repo, ...params, name, value });
          return { created: false };
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
        await http.req(`POST ${base}/variables`, { ...repo, ...params, name, value });
        return { created: true };
      });
    },

    createVariable(repo, scope, name, value) {
      const { base, params } = scopeRoute(scope);
      return http.call('variables', `create variable ${name}`, async () => {
        try {
          await http.req(`POST ${base}/variables`, { ...repo, ...params, name, value });
          return { created: true };
        } catch (e) {
          // Created meanwhile (GitHub answers 409 "Already exists"; some versions 422): update it instead.
          const status = statusOf(e);
          if (status !== 409 && status !== 422) throw e;
        }
        await http.req(`PATCH ${base}/variables/{name}`, { ...repo, ...params, name, value });
        return { created: false };
      });
    },

    deleteVariable(repo, scope, name) {
      const { base, params } = scopeRoute(scope);
      return http.call('variables', `delete variable ${name}`, async () => {
        await http.getOrNull(() => http.req(`DELETE ${base}/variables/{name}`, { ...repo, ...params, name }));
      });
    },
  };
}
