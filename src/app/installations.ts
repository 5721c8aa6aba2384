import type { Probot } from 'probot';

type Requester = { request(route: string, params?: Record<string, unknown>): Promise<{ data: unknown }> };

/** Every repository the App is installed on (first 100 installations, first 100 repositories each). */
export async function installedRepositories(probot: Probot, instrument: <T>(o: T) => T): Promise<string[]> {
  const app = instrument(await probot.auth()) as unknown as Requester;
  const installations = (await app.request('GET /app/installations', { per_page: 100 })).data as { id: number }[];
  const out: string[] = [];
  for (const inst of installations) {
    const octokit = instrument(await probot.auth(inst.id)) as unknown as Requester;
    const { repositories } = (await octokit.request('GET /installation/repositories', { per_page: 100 })).data as { repositories: { full_name: string }[] };
    out.push(...repositories.map((r) => r.full_name));
  }
  return [...new Set(out)].sort();
}
