// The flows the App runs after it has answered a request; src/app/server.ts imports this module lazily.
export { handleApprovalComment } from '../pipeline/approve.js';
export { setHalted } from '../pipeline/control.js';
export { heal } from '../pipeline/heal.js';
export { verifyLedger } from '../pipeline/verify.js';
