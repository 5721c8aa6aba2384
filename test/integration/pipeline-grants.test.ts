/**
 * Grants in the heal flow: a signed grant stored in the ledger lifts a suggestion to an execution
 * (and its use is counted); expired, revoked or used-up grants do not; only a break-glass grant
 * overrides the ledger's kill switch.
 */
import { describe, expect, test } from '@jest/globals';
import { REPOSITORY_SCOPE } from '../../src/ports/index.js';
import { revokeGrant, setHalted, storeGrant } from '../../src/pipeline/control.js';
import { heal } from '../../src/pipeline/heal.js';
import { AUTONOMY, DEPLOY_TOKEN_VALUE, FULL, LOGS, REPO, auditLines, failedRun, grantFor, jobFor, makeKit, writesOf, type Kit } from './pipeline-kit.js';

async function balancedKit(): Promise<Kit> {
  const kit = await makeKit();
  kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY('', 'balanced') });
  return kit;
}

const healMissingSecret = async (kit: Kit) => heal(kit.ctx, jobFor({ repository: FULL, run_id: failedRun(kit.gh, LOGS.missingSecret()).id }));

describe('grants lift suggestions', () => {
  test('without a grant, balanced level suggests CREATE_SECRET and writes no secret', async () => {
    const kit = await balancedKit();
    const result = await healMissingSecret(kit);
    expect(result.status).toBe('suggested');
    expect(writesOf(kit.gh, ['setSecret', 'rerunFailedJobs'])).toEqual([]);
  });

  test('a grant for CREATE_SECRET on DEPLOY_* executes the suggestion; its use is counted and audited', async () => {
    const kit = await balancedKit();
    const grant = await grantFor(kit.signer, kit.clock, { id: 'g-deploy', actions: ['CREATE_SECRET'], targets: ['DEPLOY_*'] });
    await storeGrant(kit.ctx, FULL, grant, 'alice');
    const result = await healMissingSecret(kit);
    expect(result.status).toBe('healed');
    expect(result.decision?.verdict).toBe('execute');
    expect(result.decision?.reason).toContain('pre-authorized by grant g-deploy');
    expect(kit.gh.secretValue(REPO, REPOSITORY_SCOPE, 'DEPLOY_TOKEN')).toBe(DEPLOY_TOKEN_VALUE);
    const snap = await kit.ctx.ledgerFor(REPO, 'bridge-ledger').read();
    expect(snap.grantUses).toEqual({ 'g-deploy': 1 });
    expect(auditLines(kit.gh).find((a) => a.event === 'action.CREATE_SECRET')?.detail).toContain('(grant g-deploy)');
  });

  test('a grant with max_uses 1 is used up after one heal', async () => {
    const kit = await balancedKit();
    await storeGrant(kit.ctx, FULL, await grantFor(kit.signer, kit.clock, { id: 'g-once', actions: ['CREATE_SECRET'], max_uses: 1 }), 'alice');
    expect((await healMissingSecret(kit)).status).toBe('healed');
    kit.clock.advance(5);
    expect((await healMissingSecret(kit)).status).toBe('suggested');
  });

  test('an expired grant does not lift the suggestion', async () => {
    const kit = await balancedKit();
    const expired = await grantFor(kit.signer, kit.clock, {
      id: 'g-old',
      actions: ['CREATE_SECRET'],
      not_before: new Date(kit.clock.ms - 7200_000).toISOString(),
      expires_at: new Date(kit.clock.ms - 3600_000).toISOString(),
    });
    await storeGrant(kit.ctx, FULL, expired, 'alice');
    expect((await healMissingSecret(kit)).status).toBe('suggested');
    expect(writesOf(kit.gh, ['setSecret'])).toEqual([]);
  });

  test('a revoked grant does not lift the suggestion', async () => {
    const kit = await balancedKit();
    await storeGrant(kit.ctx, FULL, await grantFor(kit.signer, kit.clock, { id: 'g-revoked', actions: ['CREATE_SECRET'] }), 'alice');
    await revokeGrant(kit.ctx, FULL, 'g-revoked', 'bob');
    expect((await healMissingSecret(kit)).status).toBe('suggested');
    expect(writesOf(kit.gh, ['setSecret'])).toEqual([]);
  });

  test('a grant signed by an untrusted key does not lift the suggestion', async () => {
    const kit = await balancedKit();
    const { createSigner, generateSigningKey } = await import('../../src/core/certificate/index.js');
    const other = await createSigner((await generateSigningKey(new Uint8Array(32).fill(99))).secretKey);
    const forged = await grantFor(other, kit.clock, { id: 'g-forged', actions: ['CREATE_SECRET'] });
    // Stored by hand (storeGrant would publish the forger's key): only the grant file is in the ledger.
    await kit.ctx.ledgerFor(REPO, 'bridge-ledger').commit('forged', () => ({ files: { 'grants.json': JSON.stringify([forged]) } }));
    expect((await healMissingSecret(kit)).status).toBe('suggested');
  });

  test('a key published in the ledger is not trusted to sign grants', async () => {
    const kit = await balancedKit();
    const { createSigner, generateSigningKey } = await import('../../src/core/certificate/index.js');
    const other = await createSigner((await generateSigningKey(new Uint8Array(32).fill(7))).secretKey);
    const forged = await grantFor(other, kit.clock, { id: 'g-ledger-key', actions: ['CREATE_SECRET'] });
    // Whoever can push to the ledger branch can publish a key there; that must not make their grants valid.
    await kit.ctx.ledgerFor(REPO, 'bridge-ledger').commit('publish key + grant', () => ({
      publicKeys: { [other.keyid]: other.publicKey },
      files: { 'grants.json': JSON.stringify([forged]) },
    }));
    expect((await healMissingSecret(kit)).status).toBe('suggested');
    expect(writesOf(kit.gh, ['setSecret'])).toEqual([]);
  });
});

describe('grants and the kill switch', () => {
  test('an ordinary grant does not override a halted ledger', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    await storeGrant(kit.ctx, FULL, await grantFor(kit.signer, kit.clock, { id: 'g-plain', actions: ['CREATE_SECRET', 'RERUN'] }), 'alice');
    await setHalted(kit.ctx, FULL, true, 'freeze', 'alice');
    const result = await healMissingSecret(kit);
    expect(result.status).toBe('noop');
    expect(result.decision?.guardrail).toBe('halted');
    expect(writesOf(kit.gh, ['setSecret', 'rerunFailedJobs'])).toEqual([]);
  });

  test('a break-glass grant overrides a halted ledger, and says so', async () => {
    const kit = await makeKit();
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    await storeGrant(kit.ctx, FULL, await grantFor(kit.signer, kit.clock, { id: 'g-glass', actions: ['CREATE_SECRET', 'RERUN'], break_glass: true }), 'alice');
    await setHalted(kit.ctx, FULL, true, 'freeze', 'alice');
    const result = await healMissingSecret(kit);
    expect(result.status).toBe('healed');
    expect(result.decision?.reason).toMatch(/^halted \(freeze\), overridden: pre-authorized by grant g-glass/);
    expect(kit.gh.secretValue(REPO, REPOSITORY_SCOPE, 'DEPLOY_TOKEN')).toBe(DEPLOY_TOKEN_VALUE);
    expect((await kit.ctx.ledgerFor(REPO, 'bridge-ledger').read()).grantUses).toEqual({ 'g-glass': 1 });
  });

  test('AUTONOMY_ENABLED=false is not overridden by a break-glass grant', async () => {
    const kit = await makeKit({ autonomyEnabled: false });
    kit.gh.seedFiles(REPO, { '.github/autonomy.yml': AUTONOMY() });
    await storeGrant(kit.ctx, FULL, await grantFor(kit.signer, kit.clock, { id: 'g-glass', actions: ['CREATE_SECRET', 'RERUN'], break_glass: true }), 'alice');
    await setHalted(kit.ctx, FULL, true, 'freeze', 'alice');
    expect((await healMissingSecret(kit)).status).toBe('noop');
    expect(writesOf(kit.gh, ['setSecret'])).toEqual([]);
  });
});
