import { ConfigurationError } from '../../pipeline/build-context.js';
import { readOverview } from '../../pipeline/overview.js';
import { contextFrom, JSON_FLAG, print, repoOption, UsageError, type CliRuntime, type CommandModule } from '../runtime.js';
import { openIncidents } from './status.js';

interface DeadRow { id: string; repository: string; run_id: number | null; run_attempt: number | null; attempts: number; error: string; failed_at: string }

/** The App's operator API: $LIVING_BRIDGE_APP_URL with Bearer $AUTONOMY_API_TOKEN. */
async function appApi(rt: CliRuntime, method: 'GET' | 'POST', path: string, appUrl?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const base = (appUrl ?? rt.io.env.LIVING_BRIDGE_APP_URL)?.replace(/\/$/, '');
  if (!base) throw new ConfigurationError('no App to ask: set LIVING_BRIDGE_APP_URL (e.g. http://127.0.0.1:3000) or pass --app-url');
  const token = rt.io.env.AUTONOMY_API_TOKEN;
  if (!token) throw new ConfigurationError('AUTONOMY_API_TOKEN is not set (the App\'s operator API token)');
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    throw new Error(`the App at ${base} did not answer: ${(err as Error).message}`);
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (res.status === 401) throw new ConfigurationError(`the App at ${base} refused AUTONOMY_API_TOKEN (401)`);
  return { status: res.status, body };
}

/** `incidents list --dead` and `incidents replay <id>`: the App's dead-letter list (jobs that failed every try). */
export const incidentsCommands: CommandModule = (rt) => {
  const incidents = rt.program.command('incidents').description('open incidents of a repository; heal jobs the App could not finish (dead letters), and replaying them');
  incidents
    .command('list')
    .description('--repo: the repository\'s open incidents (from its ledger); --dead: the App\'s heal jobs that failed every try')
    .option('--repo <owner/name>', 'repository whose open incidents to list (awaiting approval, escalated, awaiting outcome)', repoOption)
    .option('--dead', 'the dead-letter list: jobs that failed every try', false)
    .option('--app-url <url>', 'with --dead: the App (default $LIVING_BRIDGE_APP_URL)')
    .option(...JSON_FLAG, false)
    .action(async (o: { repo?: string; dead: boolean; appUrl?: string; json: boolean }) => {
      if (!o.dead) {
        if (!o.repo) throw new UsageError('incidents list: give --repo <owner/name> (its open incidents) or --dead (the App\'s dead-letter list)');
        const ctx = await contextFrom(rt, { signing: 'optional', repository: o.repo });
        const open = openIncidents(await readOverview(ctx, o.repo));
        const text = open.length === 0
          ? `${o.repo}: no open incidents`
          : [`${o.repo}: ${open.length} open incident${open.length === 1 ? '' : 's'}`, ...open.map((i) => `${i.state.padEnd(21)} ${i.incident}  — ${i.next}  (since ${i.since})`)].join('\n');
        print(rt, o.json, open, text);
        return;
      }
      const { status, body } = await appApi(rt, 'GET', '/api/autonomy/dead', o.appUrl);
      if (status !== 200) throw new Error(`the App answered ${status}: ${String(body.error ?? '')}`);
      const dead = (body.dead ?? []) as DeadRow[];
      const text = dead.length === 0
        ? 'no dead-lettered jobs'
        : [
            `${dead.length} dead-lettered job${dead.length === 1 ? '' : 's'} (replay one with: living-bridge incidents replay <id>)`,
            ...dead.map((d) => `${d.id}  ${d.repository}  run ${d.run_id ?? '-'}@${d.run_attempt ?? '-'}  ${d.attempts} tries  ${d.failed_at}  ${d.error}`),
          ].join('\n');
      print(rt, o.json, dead, text);
    });
  incidents
    .command('replay <id>')
    .description('put a dead-lettered job back in the queue (it resumes after its last done step)')
    .option('--app-url <url>', 'the App (default $LIVING_BRIDGE_APP_URL)')
    .option(...JSON_FLAG, false)
    .action(async (id: string, o: { appUrl?: string; json: boolean }) => {
      const { status, body } = await appApi(rt, 'POST', `/api/autonomy/dead/${encodeURIComponent(id)}/replay`, o.appUrl);
      if (status === 404) throw new UsageError(String(body.error ?? `no dead-lettered job ${id}`));
      if (status !== 202) throw new Error(`the App answered ${status}: ${String(body.error ?? '')}`);
      print(rt, o.json, body, `${id}: queued again (status: ${String(body.status_url)})`);
    });
};
