import { findRepoInstallation } from '../../src/github/index.js';

describe('findRepoInstallation', () => {
  it('asks GET /repos/{owner}/{repo}/installation and returns the id', async () => {
    const calls: [string, Record<string, unknown> | undefined][] = [];
    const app = { request: async (route: string, params?: Record<string, unknown>) => { calls.push([route, params]); return { data: { id: 42 } }; } };
    await expect(findRepoInstallation(app, { owner: 'acme', repo: 'api' })).resolves.toBe(42);
    expect(calls).toEqual([['GET /repos/{owner}/{repo}/installation', { owner: 'acme', repo: 'api' }]]);
  });

  it('refuses an answer without a positive integer id, naming the repository', async () => {
    const app = { request: async () => ({ data: { id: 'x' } }) };
    await expect(findRepoInstallation(app, { owner: 'acme', repo: 'api' })).rejects.toThrow('no installation id for acme/api');
  });

  it('lets GitHub\'s 404 (not installed) travel up unchanged', async () => {
    const notFound = Object.assign(new Error('Not Found'), { status: 404 });
    const app = { request: async () => { throw notFound; } };
    await expect(findRepoInstallation(app, { owner: 'acme', repo: 'api' })).rejects.toBe(notFound);
  });
});
