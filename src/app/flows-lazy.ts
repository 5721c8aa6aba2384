/**
 * The flows (heal, approve, halt, verify) with the classifier, engines and their libraries, loaded on
 * first use rather than at start: the webhook door acks without them, and cold start to the first
 * ack is what GitHub's delivery timeout and a restarting replica feel (docs/BENCHMARKS.md).
 */
export const flows = () => import('./flows.js');
