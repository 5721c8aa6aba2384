/**
 * Stages 4 and 5 of a heal: decide (the Governor's proposal, core/governor `propose`) and authorize
 * (core/governor `authorize`: a signed grant may lift a suggestion, and only a break-glass grant
 * overrides the ledger's kill switch). The flow only reads what the core needs: the grants file.
 */
import { authorize, grantsMatter, noteTransientFailure, outageHoldOf, propose, transientSignature, type GrantSet, type OutageHold, type PreconditionCheck } from '../../core/governor/index.js';
import { parseGrantFile } from '../../core/grants/index.js';
import type { Decision, Grant } from '../../core/schemas/index.js';
import type { PipelineContext } from '../context.js';
import type { Ledger, LedgerSnapshot } from '../../ledger/types.js';
import { safeMessage } from '../safe-message.js';
import type { Authorized, Decided, Learned } from './state.js';

/**
 * Signed grants, as a JSON array, under the ledger root. (Not under `grants/`: the ledger reserves that
 * directory for its own revoked.json and uses.json and refuses other writes there.)
 */
export const GRANTS_FILE = 'grants.json';

/** This failure noted in the installation's outage watch, and the hold on its transient signature if one is in force. */
function outageHold(s: Learned): OutageHold | null {
  const store = s.ctx.outages;
  const signature = transientSignature(s.incident);
  if (!store || !signature || !s.run) return null;
  const now = s.ctx.now();
  const watch = s.request.dry_run ? store.read() : store.update((w) => noteTransientFailure(w, { signature, repository: s.repository, at: now }));
  return outageHoldOf(watch, signature, now);
}

export function decideHeal(s: Learned): Decided {
  const { ctx, snapshot, incident, config, repository } = s;
  const outage = outageHold(s);
  const proposal = propose({
    incident,
    state: snapshot.state,
    config,
    now: ctx.now(),
    repository,
    environment: s.environmentName,
    level: s.level,
    autonomyEnabled: ctx.autonomyEnabled,
    outage,
  });
  const noted = (d: Decision): Decision => ({ ...d, environment_resolution: s.environmentResolution });
  return { ...s, proposal: { decision: noted(proposal.decision), unhalted: proposal.unhalted ? noted(proposal.unhalted) : null } };
}

const NO_GRANTS = (s: Decided): GrantSet => ({
  grants: null, trustedKeys: {}, revokedIds: [], uses: {}, repository: s.repository, environment: s.environment, halted: s.snapshot.state.halted, haltedReason: s.snapshot.state.halted_reason ?? null,
});

/** The ledger's grants, checked against the keys the operator trusts (never keys published in the ledger). */
export async function grantSetOf(ctx: PipelineContext, ledger: Ledger, snapshot: LedgerSnapshot, repository: string, environment: string | undefined): Promise<GrantSet> {
  const text = await ledger.readFile(GRANTS_FILE);
  let grants: Grant[] | null = null;
  if (text) {
    try {
      grants = parseGrantFile(text, `ledger ${GRANTS_FILE}`);
    } catch (err) {
      ctx.log.warn({ err: safeMessage(err) }, 'the ledger grants file is unreadable; no grant applies');
    }
  }
  return {
    grants,
    // Only keys the operator controls may sign grants: this deployment's signing key and the keys in
    // LIVING_BRIDGE_GRANT_KEYS. Keys published in the ledger are for verifying certificates only —
    // anyone who can push to the ledger branch could publish one.
    trustedKeys: { [ctx.signer.keyid]: ctx.signer.publicKey, ...ctx.grantKeys },
    revokedIds: snapshot.revokedGrantIds,
    uses: snapshot.grantUses,
    repository,
    environment,
    halted: snapshot.state.halted,
    haltedReason: snapshot.state.halted_reason ?? null,
  };
}

/** What the core checks preconditions against: the incident, the config, the facts of the run. */
export const preconditionCheck = (s: Learned): PreconditionCheck => ({
  incident: s.incident,
  config: s.config,
  facts: { environment: s.environment, envFile: s.envFile, run: s.run, failedJobs: s.failedJobs, fromEnvRefusal: (name) => s.ctx.fromEnvRefusal(name) },
});

export async function authorizeHeal(s: Decided): Promise<Authorized> {
  const { proposal, ...rest } = s;
  const check = preconditionCheck(s);
  // The grants file is read only when a grant could change the outcome.
  const grants = grantsMatter(proposal, check) ? await grantSetOf(s.ctx, s.ledger, s.snapshot, s.repository, s.environment) : NO_GRANTS(s);
  const authorized = authorize(proposal, grants, s.level, s.ctx.now(), check);
  return { ...rest, decision: authorized.decision, grantId: authorized.grantId };
}
