export type { Ledger, LedgerSnapshot, LedgerWrite } from './types.js';
export { createGitLedger, GitLedger, LedgerCache, LedgerConflictError, LedgerCorruptError, LedgerWriteError, gitBlobSha, resetLedgerCache, sharedLedgerCache, type GitLedgerOptions, type PersistedLedgerEntry } from './git-ledger.js';
export * from './layout.js';
