// Kept apart from approve.ts so the App's webhook door can recognise a command without loading the flows.
export interface ApprovalCommand { verb: 'approve' | 'reject'; id: string }

/** `/bridge approve <id>` or `/bridge reject <id>` on a line of its own. */
export function parseApprovalCommand(body: string): ApprovalCommand | null {
  const m = /^\s*\/bridge\s+(approve|reject)\s+([\w:.-]{1,128})\s*$/m.exec(body);
  return m ? { verb: m[1] as ApprovalCommand['verb'], id: m[2]! } : null;
}
