import { randomBytes } from 'node:crypto';
import { GrantBody, parseWith } from '../../core/schemas/index.js';
import { signGrant } from '../../core/grants/index.js';
import { listGrants, revokeGrant, storeGrant } from '../../pipeline/control.js';
import { contextFrom, JSON_FLAG, positiveInt, print, repoOption, UsageError, type CommandModule } from '../runtime.js';

/** `grant issue|revoke`: signed pre-authorizations kept in the repository's ledger. */
export const grantCommands: CommandModule = (rt) => {
  const { program, io } = rt;
  const grant = program.command('grant').description('signed pre-authorization grants');
  grant
    .command('issue')
    .description('sign a grant with TRUTH_SIGNING_KEY and store it in the repository ledger')
    .requiredOption('--repo <owner/name>', 'repository', repoOption)
    .requiredOption('--actions <list>', 'comma-separated actions, e.g. CREATE_SECRET,RERUN')
    .option('--environments <list>', 'comma-separated environments ("*" = all)', '*')
    .option('--targets <list>', 'comma-separated target names, "*" suffix wildcard', '*')
    .option('--hours <n>', 'validity in hours', positiveInt, 24)
    .option('--break-glass', 'may override a halted Governor (at most 4 hours)', false)
    .option('--max-uses <n>', 'how often it may be used', positiveInt)
    .requiredOption('--reason <text>', 'why the grant exists')
    .option(...JSON_FLAG, false)
    .action(async (o: { repo: string; actions: string; environments: string; targets: string; hours: number; breakGlass: boolean; maxUses?: number; reason: string; json: boolean }) => {
      const ctx = await contextFrom(rt);
      const now = ctx.now();
      const body = parseWith(GrantBody, {
        id: `g-${randomBytes(6).toString('hex')}`,
        repository: o.repo,
        actions: o.actions.split(',').map((s) => s.trim()),
        environments: o.environments.split(',').map((s) => s.trim()),
        targets: o.targets.split(',').map((s) => s.trim()),
        not_before: now.toISOString(),
        expires_at: new Date(now.getTime() + o.hours * 3600_000).toISOString(),
        issued_by: io.env.USER ?? 'cli',
        reason: o.reason,
        break_glass: o.breakGlass,
        max_uses: o.maxUses,
      }, 'arguments');
      const signed = await signGrant(body, ctx.signer);
      await storeGrant(ctx, o.repo, signed, body.issued_by);
      print(rt, o.json, body, `grant ${body.id} issued until ${body.expires_at}`);
    });
  grant
    .command('revoke')
    .description('revoke a grant (recorded in the ledger)')
    .requiredOption('--repo <owner/name>', 'repository', repoOption)
    .argument('<id>', 'grant id')
    .option(...JSON_FLAG, false)
    .action(async (id: string, o: { repo: string; json: boolean }) => {
      const ctx = await contextFrom(rt);
      const known = await listGrants(ctx, o.repo);
      if (!known.some((g) => g.grant.id === id)) {
        throw new UsageError(`grant revoke: ${o.repo} has no grant ${id} (\`living-bridge grant list --repo ${o.repo}\` shows its grants)`);
      }
      await revokeGrant(ctx, o.repo, id, io.env.USER ?? 'cli');
      print(rt, o.json, { id, revoked: true }, `grant ${id} revoked`);
    });
  grant
    .command('list')
    .description('the grants in the repository ledger, with their status (needs no signing key)')
    .requiredOption('--repo <owner/name>', 'repository', repoOption)
    .option(...JSON_FLAG, false)
    .action(async (o: { repo: string; json: boolean }) => {
      const ctx = await contextFrom(rt, { signing: 'optional' });
      const grants = await listGrants(ctx, o.repo);
      const lines = grants.map(({ grant: g, status, uses }) =>
        `${g.id}  ${status.padEnd(13)} ${g.actions.join(',')}  targets ${g.targets.join(',')}  environments ${g.environments.join(',')}  until ${g.expires_at}  used ${uses}${g.max_uses ? `/${g.max_uses}` : ''}${g.break_glass ? '  break-glass' : ''}  — ${g.reason}`);
      print(rt, o.json, grants.map(({ grant: g, status, uses }) => ({ ...g, status, uses })), lines.length ? lines.join('\n') : `${o.repo}: no grants`);
    });
};
