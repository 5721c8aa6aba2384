import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { parseRepoFullName } from '../../core/schemas/index.js';
import { loadRepoConfig } from '../../pipeline/repo-files.js';
import { contextFrom, JSON_FLAG, print, repoOption, UsageError, type CommandModule } from '../runtime.js';

/**
 * `ledger fetch --repo O/N --dir PATH`: the ledger branch's files, as of its head commit, written to a
 * new directory for `verify --dir` (offline, on a machine that never talks to GitHub again), without
 * git. Reads only; needs no signing key. An existing non-empty directory is never written into.
 */
export const ledgerCommands: CommandModule = (rt) => {
  const ledger = rt.program.command('ledger').description('the ledger branch: fetch it to a directory for offline verification');
  ledger
    .command('fetch')
    .description('write every file of the ledger branch (at its head) into a new directory; then `living-bridge verify --dir DIR --keys …`')
    .requiredOption('--repo <owner/name>', 'repository', repoOption)
    .requiredOption('--dir <path>', 'a new or empty directory to write the files to')
    .option('--branch <name>', 'the ledger branch (default: ledger.branch of .github/autonomy.yml, else bridge-ledger)')
    .option(...JSON_FLAG, false)
    .action(async (o: { repo: string; dir: string; branch?: string; json: boolean }) => {
      const dir = resolve(o.dir);
      if (existsSync(dir) && readdirSync(dir).length > 0) throw new UsageError(`ledger fetch: ${o.dir} is not empty; name a new or empty directory (nothing is overwritten)`);
      const ctx = await contextFrom(rt, { signing: 'optional', repository: o.repo });
      const repo = parseRepoFullName(o.repo);
      const branch = o.branch ?? (await loadRepoConfig(ctx.github, repo)).ledger.branch;
      const head = await ctx.github.getBranchHead(repo, branch);
      if (!head) {
        print(rt, o.json, { repository: o.repo, branch, commit: null, files: 0, dir }, `${o.repo} has no ledger branch ${branch} yet (the first heal or sync creates it)`);
        rt.exit.code = 3;
        return;
      }
      const listing = ctx.github.readCommitTree
        ? (await ctx.github.readCommitTree(repo, head)).entries
        : await ctx.github.listTree(repo, await ctx.github.getCommitTree(repo, head));
      mkdirSync(dir, { recursive: true });
      let bytes = 0;
      for (const entry of listing) {
        const target = resolve(dir, entry.path);
        // A tree path is repository-relative; one that would leave the directory is refused, not written.
        if (!target.startsWith(dir + sep)) throw new Error(`ledger fetch: refusing the tree path ${JSON.stringify(entry.path)} (outside ${o.dir})`);
        const content = await ctx.github.readBlob(repo, entry.sha);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, content);
        bytes += Buffer.byteLength(content);
      }
      writeFileSync(join(dir, '.ledger-source.json'), `${JSON.stringify({ repository: o.repo, branch, commit: head, fetched_at: ctx.now().toISOString() }, null, 2)}\n`);
      print(rt, o.json, { repository: o.repo, branch, commit: head, files: listing.length, bytes, dir },
        `${o.repo}: ${listing.length} files of ${branch} at ${head.slice(0, 12)} written to ${o.dir}\nverify them offline: living-bridge verify --dir ${o.dir} --keys <your pinned keys>`);
    });
};
