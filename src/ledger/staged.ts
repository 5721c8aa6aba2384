/**
 * Staged ledger writes: a change that need not be its own commit (what the classifier remembers about
 * a failed run) waits here and travels in the next commit of the same branch — the heal's own
 * decision or certificate commit — instead of costing a tree, a commit and a ref update of its own.
 *
 * Staged writes are kept per branch (the ledger cache's key), for the process: every ledger object of
 * that branch sees them, so a flow that commits through another ledger object still carries them.
 * They are best effort: a process that ends before the branch's next commit loses them.
 */
import type { LedgerSnapshot, LedgerWrite } from './types.js';

export type Mutate = (snapshot: LedgerSnapshot) => LedgerWrite | Promise<LedgerWrite>;
export interface StagedWrite { message: string; mutate: Mutate }

const staged = new Map<string, StagedWrite[]>();

export function stageWrite(key: string, write: StagedWrite): void {
  staged.set(key, [...(staged.get(key) ?? []), write]);
}

/** Takes every write staged for `key` (they are the caller's to commit, or to give back). */
export function takeStaged(key: string): StagedWrite[] {
  const list = staged.get(key) ?? [];
  staged.delete(key);
  return list;
}

/** Gives writes back after the commit that took them failed, ahead of anything staged meanwhile. */
export function restoreStaged(key: string, list: StagedWrite[]): void {
  if (list.length) staged.set(key, [...list, ...(staged.get(key) ?? [])]);
}

/** What a staged write changes, applied to a snapshot, so the writes after it see it. No certificates. */
function applyToSnapshot(s: LedgerSnapshot, w: LedgerWrite): LedgerSnapshot {
  if (w.certificates?.length) throw new Error('a staged ledger write cannot carry certificates (they are chained by the commit that writes them)');
  return {
    ...s,
    ...(w.state ? { state: w.state } : {}),
    ...(w.sync ? { sync: w.sync } : {}),
    ...(w.pendingApprovals ? { pendingApprovals: w.pendingApprovals } : {}),
    ...(w.classifierMemory ? { classifierMemory: w.classifierMemory } : {}),
    ...(w.revokedGrantIds ? { revokedGrantIds: w.revokedGrantIds } : {}),
    ...(w.grantUses ? { grantUses: w.grantUses } : {}),
    ...(w.publicKeys ? { publicKeys: { ...s.publicKeys, ...w.publicKeys } } : {}),
  };
}

/** Two writes as one: the later one's values win (it was computed on a snapshot with the earlier applied); lists and maps add up. */
function mergeWrites(a: LedgerWrite, b: LedgerWrite): LedgerWrite {
  const out: LedgerWrite = { ...a, ...b };
  if (a.audit || b.audit) out.audit = [...(a.audit ?? []), ...(b.audit ?? [])];
  if (a.files || b.files) out.files = { ...a.files, ...b.files };
  if (a.publicKeys || b.publicKeys) out.publicKeys = { ...a.publicKeys, ...b.publicKeys };
  if (a.certificates || b.certificates) out.certificates = [...(a.certificates ?? []), ...(b.certificates ?? [])];
  return out;
}

/**
 * One commit's message and mutate for the staged writes followed by the commit's own: each mutate
 * sees the snapshot with the ones before it applied (so it may be called again on a fresh snapshot
 * after a lost compare-and-swap, like any mutate).
 */
export function withStaged(list: StagedWrite[], message: string, mutate: Mutate): { message: string; mutate: Mutate } {
  if (list.length === 0) return { message, mutate };
  return {
    message: `${message}\n\n${list.map((w) => `+ ${w.message}`).join('\n')}`,
    mutate: async (snapshot) => {
      let s = snapshot;
      let acc: LedgerWrite = {};
      for (const w of list) {
        const write = await w.mutate(structuredClone(s));
        acc = mergeWrites(acc, write);
        s = applyToSnapshot(s, write);
      }
      return mergeWrites(acc, await mutate(s));
    },
  };
}
