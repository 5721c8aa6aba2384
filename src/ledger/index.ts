export type { Ledger, LedgerSnapshot, LedgerWrite } from './types.js';
export { createGitLedger, GitLedger, LedgerConflictError, LedgerCorruptError, LedgerWriteError, gitBlobSha, type GitLedgerOptions } from './git-ledger.js';
export * from './layout.js';
