/**
 * No secret value in any comment, issue, check run, certificate, ledger file, audit line or log line:
 * a series of heals (created, generated, failed writes that echo the value, escalations, approvals),
 * then everything they produced is searched for the values they wrote.
 */
import { expect, test } from '@jest/globals';
import { REPOSITORY_SCOPE } from '../../src/ports/index.js';
import { handleApprovalComment } from '../../src/pipeline/approve.js';
import { heal } from '../../src/pipeline/heal.js';
import { DEPLOY_TOKEN_VALUE, FULL, LOGS, REPO, failedRun, jobFor, ledgerFiles, makeKit } from './pipeline-kit.js';

test('values written by heals never appear in anything the heals produced', async () => {
  const kit = await makeKit({ env: { API_KEY_SOURCE: 'apikey-91c1d2e3f4a5b6c7-value' } });
  const { gh, ctx } = kit;
  gh.seedFiles(REPO, {
    '.github/autonomy.yml': `default_level: full
cooldowns: { default_minutes: 0 }
secrets:
  DEPLOY_TOKEN: { source: from_env, env: DEPLOY_TOKEN_SOURCE }
  API_KEY: { source: from_env, env: API_KEY_SOURCE }
  SESSION_TOKEN: { source: generate, length: 48 }
`,
  });
  const pr = gh.addPullRequest(REPO, { head: 'feature', headSha: 'f'.repeat(40) });
  const onPr = { head_sha: 'f'.repeat(40) };

  // 1. Created from the environment.
  expect((await heal(ctx, jobFor({ repository: FULL, run_id: failedRun(gh, LOGS.missingSecret(), onPr).id }))).status).toBe('healed');
  // 2. Generated.
  expect((await heal(ctx, jobFor({ repository: FULL, run_id: failedRun(gh, LOGS.missingSecret('SESSION_TOKEN'), onPr).id }))).status).toBe('healed');
  const generated = gh.secretValue(REPO, REPOSITORY_SCOPE, 'SESSION_TOKEN')!;
  expect(generated).toHaveLength(48);
  // 3. The write fails with an error that echoes the request (as an HTTP client may).
  const apiKey = 'apikey-91c1d2e3f4a5b6c7-value';
  gh.failNext('setSecret', Object.assign(new Error(`Validation failed for {"name":"API_KEY","value":"${apiKey}","encrypted_value":"c2VjcmV0"}`), { status: 422 }));
  const failed = await heal(ctx, jobFor({ repository: FULL, run_id: failedRun(gh, LOGS.missingSecret('API_KEY'), onPr).id }));
  expect(failed.status).toBe('escalated');
  // 4. A wrong credential is escalated; 5. a suggestion approved by a human.
  await heal(ctx, jobFor({ repository: FULL, run_id: failedRun(gh, LOGS.credential, onPr).id }));
  gh.seedFiles(REPO, { '.github/autonomy.yml': `default_level: suggest\ncooldowns: { default_minutes: 0 }\nsecrets:\n  OTHER_TOKEN: { source: generate }\n` });
  const suggested = await heal(ctx, jobFor({ repository: FULL, run_id: failedRun(gh, LOGS.missingSecret('OTHER_TOKEN'), onPr).id }));
  expect(suggested.status).toBe('suggested');
  const id = (await ctx.ledgerFor(REPO, 'bridge-ledger').read()).pendingApprovals[0]!.id;
  const approved = await handleApprovalComment(ctx, { repository: FULL, issueNumber: pr.number, actor: 'acme', command: { verb: 'approve', id } });
  expect(approved.status).toBe('executed');
  const other = gh.secretValue(REPO, REPOSITORY_SCOPE, 'OTHER_TOKEN')!;

  const produced = [
    ...gh.pullRequests(REPO).flatMap((p) => p.comments.map((c) => c.body)),
    ...gh.issues(REPO).flatMap((i) => [i.title, i.body, ...i.comments.map((c) => c.body)]),
    ...gh.checkRuns(REPO).flatMap((c) => [c.title, c.summary]),
    ...Object.values(ledgerFiles(gh)),
    // Certificates carry payloads base64-encoded: decode them too.
    ...Object.entries(ledgerFiles(gh)).filter(([p]) => p.includes('/certificates/')).map(([, t]) => Buffer.from((JSON.parse(t) as { envelope: { payload: string } }).envelope.payload, 'base64').toString('utf8')),
    kit.logs(),
    JSON.stringify(gh.calls),
    JSON.stringify([failed, approved]),
  ].join('\n');
  expect(produced.length).toBeGreaterThan(5000);
  expect(produced).toContain('API_KEY');
  for (const value of [DEPLOY_TOKEN_VALUE, generated, apiKey, other, kit.secretKey]) {
    expect(produced).not.toContain(value);
  }
});
