import type { Intake } from '../intake/index.js';

export interface ReadinessCheck {
  name: 'queue' | 'github' | 'ledger';
  ok: boolean;
  detail: string;
}

export interface Readiness {
  ready: boolean;
  checked_at: string;
  checks: ReadinessCheck[];
}

export interface ReadinessProbes {
  intake: Intake;
  /** Resolves when GitHub answers the App's own credentials (GET /app with the App's JWT). */
  github(): Promise<void>;
  /**
   * Reads the ledger of the repository handled last; resolves to its name, or null when none was
   * handled yet (nothing to check: every ledger is a branch of its own repository).
   */
  ledger(): Promise<string | null>;
  now?: () => Date;
  /** Probes are cached this long, so a load balancer polling /ready every second costs GitHub little. */
  cacheMs?: number;
  timeoutMs?: number;
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e as Error); });
  });

const reasonOf = (err: unknown): string => {
  const e = err as { message?: string; status?: number; code?: string };
  const first = (e.message ?? String(err)).split('\n')[0]!;
  return e.status ? `${first} (HTTP ${e.status})` : first;
};

/**
 * `/ready`: can this replica do its work now? The queue accepts jobs, GitHub answers the App, and
 * the last ledger it wrote is readable. `/healthz` only says the process is up (and which version).
 */
export function createReadiness(probes: ReadinessProbes): () => Promise<Readiness> {
  const now = probes.now ?? (() => new Date());
  const cacheMs = probes.cacheMs ?? 10_000;
  const timeoutMs = probes.timeoutMs ?? 5_000;
  let cached: { at: number; value: Promise<Readiness> } | null = null;

  const queue = async (): Promise<ReadinessCheck> => {
    const withReady = probes.intake as Intake & { ready?: (timeoutMs: number) => Promise<void> };
    try {
      if (typeof withReady.ready === 'function') await withReady.ready(Math.min(timeoutMs, 2000));
      const s = probes.intake.stats();
      return { name: 'queue', ok: true, detail: `${s.pending} pending, ${s.running} running` };
    } catch (err) {
      return { name: 'queue', ok: false, detail: reasonOf(err) };
    }
  };
  const github = async (): Promise<ReadinessCheck> => {
    try {
      await withTimeout(probes.github(), timeoutMs, 'GitHub');
      return { name: 'github', ok: true, detail: 'GitHub answers the App' };
    } catch (err) {
      return { name: 'github', ok: false, detail: reasonOf(err) };
    }
  };
  const ledger = async (): Promise<ReadinessCheck> => {
    try {
      const repository = await withTimeout(probes.ledger(), timeoutMs, 'the ledger');
      return { name: 'ledger', ok: true, detail: repository ? `ledger of ${repository} readable` : 'no repository handled yet' };
    } catch (err) {
      return { name: 'ledger', ok: false, detail: reasonOf(err) };
    }
  };

  const run = async (): Promise<Readiness> => {
    const checks = await Promise.all([queue(), github(), ledger()]);
    return { ready: checks.every((c) => c.ok), checked_at: now().toISOString(), checks };
  };

  return () => {
    const t = now().getTime();
    if (!cached || t - cached.at >= cacheMs) cached = { at: t, value: run() };
    return cached.value;
  };
}
