import { InvalidArgumentError } from 'commander';
import { auditCsv, auditRows } from '../../core/audit/export.js';
import { LedgerReadError, readAnchorFiles, verifyDirectoryChain } from '../../pipeline/verify-offline.js';
import { VERIFY_EXIT, renderReport, verifyLedgerChain } from '../../pipeline/verify.js';
import { contextFrom, repoOption, UsageError, type CommandModule } from '../runtime.js';
import { collect, trustFor } from './verify.js';

const isoDate = (value: string): string => {
  if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(value) || Number.isNaN(Date.parse(value))) throw new InvalidArgumentError('expected a date like 2026-01-01 (or an ISO time)');
  return value;
};

/**
 * `audit export`: the change-management evidence of a repository, one row per change, from its
 * certificate chain — only after that chain verified against pinned keys, checkpoint and anchors.
 */
export const auditCommands: CommandModule = (rt) => {
  const { program, exit, io } = rt;
  const audit = program.command('audit').description('evidence for auditors');
  audit
    .command('export')
    .description('one row per change (secret written, variable synced, re-run, config PR, rollback, escalation) from the verified certificate chain')
    .option('--repo <owner/name>', 'repository whose ledger branch to export', repoOption)
    .option('--dir <path>', 'a checkout of the ledger branch (offline) instead of --repo')
    .requiredOption('--since <date>', 'first day to include (ISO date, e.g. 2026-01-01)', isoDate)
    .option('--format <format>', 'json or csv', 'json')
    .option('--keys <file>', 'trusted public keys (as for verify; repeatable)', collect, [])
    .option('--anchor <file>', 'saved anchors (as for verify; repeatable)', collect, [])
    .action(async (o: { repo?: string; dir?: string; since: string; format: string; keys: string[]; anchor: string[] }) => {
      if (!o.repo && !o.dir) throw new UsageError('audit export: give --repo <owner/name> or --dir <path>');
      if (o.format !== 'json' && o.format !== 'csv') throw new UsageError(`audit export: --format must be json or csv, not ${o.format}`);
      const trust = await trustFor(io, o.keys);
      let verified;
      try {
        verified = o.dir
          ? verifyDirectoryChain(o.dir, trust, { repository: o.repo, anchorFiles: o.anchor })
          : await verifyLedgerChain(await contextFrom(rt, { signing: 'optional' }), o.repo!, trust, { anchors: readAnchorFiles(o.anchor) });
      } catch (err) {
        if (err instanceof LedgerReadError) throw new UsageError(`audit export: ${err.message}`);
        throw err;
      }
      const { report, chain } = verified;
      if (!report.ok) {
        // Evidence from a chain that does not verify is no evidence: say why and export nothing.
        io.err(`living-bridge: audit export refused: ${renderReport(report)}\n`);
        exit.code = VERIFY_EXIT[report.status];
        return;
      }
      const rows = auditRows(chain, o.since);
      if (o.format === 'csv') {
        io.out(auditCsv(rows));
        return;
      }
      const { repository, length, head, checkpoint, anchors, trusted_keys } = report;
      io.out(`${JSON.stringify({ repository, since: o.since, verification: { ok: true, length, head, checkpoint, anchors, trusted_keys }, rows }, null, 2)}\n`);
    });
};
