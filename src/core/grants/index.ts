export { signGrant, verifyGrant, grantSigningBytes, type GrantVerification } from './sign.js';
export {
  authorize,
  repositoryMatches,
  environmentMatches,
  targetMatches,
  type AuthorizeInput,
  type Authorization,
} from './authorize.js';
export { parseGrantFile } from './file.js';
export { grantRuleViolations, type GrantRuleViolation } from './rules.js';
