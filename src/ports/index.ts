/**
 * The ports layer: the interfaces engines, the GitHub adapter and the ledger meet at, and the report
 * and error types they share. It imports nothing but core schemas; every other layer may import it.
 */
export * from './github.js';
export * from './errors.js';
export { CREATE_TRIES, PROPOSAL_REF_TRIES, contentHash, ensureIssueWith, findByMarkers, gitBlobSha, hashOf, markedBody, proposeFileWith, type EnsureIssueOps } from './ensure.js';
export type { EngineReport } from './report.js';
