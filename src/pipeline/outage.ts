/**
 * Where the outage brake's watch lives (core/governor/outage.ts decides with it): one per
 * installation, in the memory of the process that takes its deliveries. A restart forgets it, which
 * only lifts holds early (a re-run is then allowed again); it is never needed for safety.
 */
import { emptyOutageWatch, type OutageWatch } from '../core/governor/outage.js';

export interface OutageStore {
  read(): OutageWatch;
  update(change: (watch: OutageWatch) => OutageWatch): OutageWatch;
}

export function memoryOutageStore(): OutageStore {
  let watch = emptyOutageWatch();
  return {
    read: () => watch,
    update: (change) => (watch = change(watch)),
  };
}

/** One store per installation id. */
export class OutageStores {
  private readonly byInstallation = new Map<number, OutageStore>();

  for(installationId: number): OutageStore {
    let store = this.byInstallation.get(installationId);
    if (!store) this.byInstallation.set(installationId, (store = memoryOutageStore()));
    return store;
  }
}
