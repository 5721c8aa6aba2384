/** The ledger's errors: each names what it refuses and where. */

/** A ledger file that cannot be parsed: names the file and the branch. */
export class LedgerCorruptError extends Error {
  constructor(
    readonly path: string,
    readonly branch: string,
    reason: string,
  ) {
    super(`ledger file ${path} on branch ${branch} is corrupt: ${reason}`);
    this.name = 'LedgerCorruptError';
  }
}

/** A write the ledger refuses (a certificate that does not chain, a reserved path...). */
export class LedgerWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerWriteError';
  }
}

/** Every compare-and-swap attempt lost the race. */
export class LedgerConflictError extends Error {
  constructor(
    readonly branch: string,
    readonly attempts: number,
  ) {
    super(`ledger branch ${branch} kept moving: gave up after ${attempts} attempts (another writer is committing continuously)`);
    this.name = 'LedgerConflictError';
  }
}
