/** Error text safe for logs and comments: octokit errors can echo request bodies. */
export function safeMessage(err: unknown): string {
  const e = err as { message?: string; status?: number };
  const msg = (e.message ?? String(err)).split('\n')[0]!.replace(/"encrypted_value"\s*:\s*"[^"]*"/g, '"encrypted_value":"[redacted]"');
  return e.status ? `${msg} (HTTP ${e.status})` : msg;
}
