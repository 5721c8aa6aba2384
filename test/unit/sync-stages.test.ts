/**
 * Each stage of sync() alone, over the in-memory FakeGitHub and git ledger: a stage is called with
 * the state the stages before it leave (built by running them, or by hand), and its own effect is
 * asserted.
 */
import { SchemaError, SyncState } from '../../src/core/schemas/index.js';
import type { SyncItemResult, SyncReport } from '../../src/core/env-plan/index.js';
import { applyPlan } from '../../src/pipeline/sync/apply.js';
import { auditGitHub, scopesOf } from '../../src/pipeline/sync/audit.js';
import { confirmEffect, effectHolds } from '../../src/pipeline/sync/confirm.js';
import { readDeclaration } from '../../src/pipeline/sync/declaration.js';
import { loadMemory } from '../../src/pipeline/sync/memory.js';
import { dryRunResult, planChanges } from '../../src/pipeline/sync/plan.js';
import { proposeInventory } from '../../src/pipeline/sync/propose.js';
import { memoryChanged, nextSyncState, recordSync } from '../../src/pipeline/sync/record.js';
import { DISCOVERED_BRANCH, SyncRefusedError, type SyncOptions } from '../../src/pipeline/sync/types.js';
import { decodeCertificate, verifyCertificate } from '../../src/core/certificate/index.js';
import { FULL, REPO, makeKit, type Kit } from '../integration/pipeline-kit.js';

const DECLARED = JSON.stringify({ repository: { variables: { REGION: 'eu-west-1', API_URL: 'https://api.example' } } }, null, 2);
const options = (o: Partial<SyncOptions> = {}): SyncOptions => ({ repository: FULL, dryRun: false, confirmPrune: false, sleep: async () => {}, ...o });

async function kitWith(files: Record<string, string | null> = { '.github/environment.json': DECLARED }): Promise<Kit> {
  const kit = await makeKit({ door: 'cli' });
  kit.gh.seedFiles(REPO, files);
  return kit;
}

/** Stages 1-4 run for real: the state the apply stage starts from. */
async function planned(kit: Kit, o: Partial<SyncOptions> = {}) {
  const declared = await readDeclaration(kit.ctx, options(o));
  return planChanges(kit.ctx, await auditGitHub(kit.ctx, await loadMemory(kit.ctx, declared)));
}

describe('sync stage 1: readDeclaration', () => {
  test('reads environment.json from the default branch and the repo config from there too', async () => {
    const kit = await kitWith();
    const s = await readDeclaration(kit.ctx, options());
    expect(s).toMatchObject({ repository: FULL, defaultBranch: 'main', ref: 'main', envFilePath: '.github/environment.json', notes: [] });
    expect(Object.keys(s.declared.repository.variables)).toEqual(['REGION', 'API_URL']);
    expect(s.rawText).toBe(DECLARED);
  });

  test('another ref is refused for an apply, allowed for a dry run; refs/heads/ is accepted', async () => {
    const kit = await kitWith();
    kit.gh.seedFiles(REPO, { '.github/environment.json': DECLARED }, { branch: 'feature' });
    await expect(readDeclaration(kit.ctx, options({ ref: 'refs/heads/feature' }))).rejects.toThrow(SyncRefusedError);
    await expect(readDeclaration(kit.ctx, options({ ref: 'refs/heads/feature', dryRun: true }))).resolves.toMatchObject({ ref: 'feature' });
  });

  test('a missing file is a SchemaError; an undeclared environment is a note', async () => {
    const kit = await kitWith({ 'README.md': 'x' });
    await expect(readDeclaration(kit.ctx, options())).rejects.toThrow(SchemaError);
    const declared = await readDeclaration((await kitWith()).ctx, options({ environment: 'staging' }));
    expect(declared.notes).toEqual(['environment staging is not declared in .github/environment.json: nothing to sync in it']);
  });
});

describe('sync stages 2-4: loadMemory, auditGitHub, planChanges', () => {
  test('memory is the ledger SyncState (empty for a new ledger)', async () => {
    const kit = await kitWith();
    const s = await loadMemory(kit.ctx, await readDeclaration(kit.ctx, options()));
    expect(s.syncState).toEqual(SyncState.parse({}));
    expect(s.ledger.branch).toBe('bridge-ledger');
  });

  test('the audit covers every scope unless filtered, and counts its requests', async () => {
    expect(scopesOf(options())).toBeUndefined();
    expect(scopesOf(options({ environment: 'prod' }))).toEqual(['environment:prod']);
    expect(scopesOf(options({ environment: 'prod', includeRepositoryScope: true }))).toEqual(['environment:prod', 'repository']);
    const kit = await kitWith();
    kit.gh.seedVariable(REPO, { type: 'repository' }, 'REGION', 'us-east-1');
    const s = await auditGitHub(kit.ctx, await loadMemory(kit.ctx, await readDeclaration(kit.ctx, options())));
    expect(s.auditScopes).toBeNull();
    expect(s.audit.actual.repository.variables).toEqual({ REGION: 'us-east-1' });
    expect(s.requests).toEqual({ audit: s.audit.calls, notModified: 0, writes: 0, verify: 0 });
    expect(s.audit.calls).toBeGreaterThanOrEqual(3);
  });

  test('the plan adds the missing variable and updates the drifted one; a dry run writes nothing', async () => {
    const kit = await kitWith();
    kit.gh.seedVariable(REPO, { type: 'repository' }, 'REGION', 'us-east-1');
    const s = await planned(kit, { dryRun: true });
    expect(s.plan.items.filter((i) => i.op !== 'noop').map((i) => [i.op, i.name]).sort()).toEqual([['add', 'API_URL'], ['update', 'REGION']]);
    const writesBefore = kit.gh.calls.length;
    const result = dryRunResult(s);
    expect(result).toMatchObject({ dryRun: true, report: null, certificate: null, certified: false });
    expect(result.notes.at(-1)).toBe('dry run: 2 write(s) planned, nothing written');
    expect(kit.gh.calls.length).toBe(writesBefore);
  });
});

describe('sync stages 5-6: applyPlan, confirmEffect', () => {
  test('apply writes the plan and counts the writes; confirm reads the effect back', async () => {
    const kit = await kitWith();
    const applied = await applyPlan(kit.ctx, await planned(kit));
    expect(applied.applied.map((r) => r.item.name).sort()).toEqual(['API_URL', 'REGION']);
    expect(applied.requests.writes).toBe(2);
    const confirmed = await confirmEffect(kit.ctx, applied);
    expect(confirmed.certified).toBe(true);
    expect(confirmed.after.actual.repository.variables).toEqual({ REGION: 'eu-west-1', API_URL: 'https://api.example' });
    expect(confirmed.requests.verify).toBe(confirmed.after.calls);
  });

  test('nothing applied: nothing read back, nothing certified', async () => {
    const kit = await kitWith();
    const s = await planned(kit);
    const confirmed = await confirmEffect(kit.ctx, { ...s, report: { results: [], applied: 0, failed: 0, skipped: 0, writeAttempts: 0 } as unknown as SyncReport, applied: [] });
    expect(confirmed).toMatchObject({ certified: false, after: s.audit });
  });

  test('an item whose effect is not on GitHub is not certified', () => {
    const fp = (v: string) => `fp:${v}`;
    const item = (over: Partial<SyncItemResult['item']>): SyncItemResult =>
      ({ item: { kind: 'variable', scope: 'repository', name: 'REGION', op: 'update', ...over }, status: 'applied', after_fingerprint: 'fp:eu', before_fingerprint: null }) as SyncItemResult;
    const actual = { repository: { variables: { REGION: 'eu' }, secrets: {} }, environments: {} };
    expect(effectHolds(item({}), actual, fp)).toBe(true);
    expect(effectHolds(item({}), { ...actual, repository: { variables: { REGION: 'us' }, secrets: {} } }, fp)).toBe(false);
    expect(effectHolds(item({ op: 'delete' }), actual, fp)).toBe(false);
    expect(effectHolds(item({ kind: 'secret', name: 'TOKEN' }), actual, fp)).toBe(false);
    expect(effectHolds(item({ kind: 'environment', name: 'prod' }), actual, fp)).toBe(false);
  });
});

describe('sync stages 7-8: recordSync, proposeInventory', () => {
  test('records SyncState and one chained, signed certificate in one ledger commit', async () => {
    const kit = await kitWith();
    const confirmed = await confirmEffect(kit.ctx, await applyPlan(kit.ctx, await planned(kit)));
    const recorded = await recordSync(kit.ctx, confirmed);
    const cert = recorded.certificate!;
    expect(verifyCertificate(cert, { [kit.signer.keyid]: kit.signer.publicKey }).ok).toBe(true);
    expect(decodeCertificate(cert).predicate).toMatchObject({ action: 'SYNC_AND_CERTIFY', certificate_type: 'sync', sequence: 1, previous_certificate_hash: null, certified: true });
    const snap = await confirmed.ledger.read();
    expect(snap.lastCertificateHash).toBe(cert.certificate_hash);
    expect(snap.sync.created_by_bridge).toEqual(['variable:repository/API_URL', 'variable:repository/REGION']);
  });

  test('certify: false records SyncState without a certificate; no change and no new memory: no commit', async () => {
    const kit = await kitWith();
    const confirmed = await confirmEffect(kit.ctx, await applyPlan(kit.ctx, await planned(kit, { certify: false })));
    expect((await recordSync(kit.ctx, confirmed)).certificate).toBeNull();
    const head = (await confirmed.ledger.read()).head;
    expect(head).not.toBeNull();
    const quiet = { ...confirmed, applied: [], report: { ...confirmed.report, failed: 0 }, syncState: { ...confirmed.syncState, etags: confirmed.after.etags, inventory: confirmed.after.inventory } };
    expect(memoryChanged(quiet)).toBe(false);
    await recordSync(kit.ctx, quiet);
    expect((await confirmed.ledger.read()).head).toBe(head);
  });

  test('nextSyncState forgets what a deletion removed and remembers what Living Bridge created', () => {
    const latest = SyncState.parse({ created_by_bridge: ['variable:repository/OLD'], etags: { a: '1' } });
    const r = (name: string, op: string, created: boolean) => ({ item: { kind: 'variable', scope: 'repository', name, op }, status: 'applied', created, after_fingerprint: null, before_fingerprint: null }) as unknown as SyncItemResult;
    const next = nextSyncState(latest, [r('OLD', 'delete', false), r('NEW', 'add', true)], { etags: { b: '2' }, inventory: {}, actual: { repository: { variables: {}, secrets: {} }, environments: {} } }, new Date('2026-05-01T00:00:00Z'));
    expect(next).toMatchObject({ created_by_bridge: ['variable:repository/NEW'], etags: { a: '1', b: '2' }, last_sync_at: '2026-05-01T00:00:00.000Z' });
  });

  test('a full sync proposes what GitHub holds but the file does not declare; a filtered one does not', async () => {
    const kit = await kitWith();
    kit.gh.seedVariable(REPO, { type: 'repository' }, 'EXTRA', 'x');
    const full = await recordSync(kit.ctx, await confirmEffect(kit.ctx, await applyPlan(kit.ctx, await planned(kit))));
    const proposed = await proposeInventory(kit.ctx, full);
    expect(proposed.prUrl).toMatch(/pull/);
    expect(kit.gh.branchHead(REPO, DISCOVERED_BRANCH)).not.toBeNull();
    const filtered = await proposeInventory(kit.ctx, { ...full, opts: { ...full.opts, names: ['REGION'] } });
    expect(filtered.prUrl).toBeNull();
  });
});
