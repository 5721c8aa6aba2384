/**
 * Why `name` is not a valid branch name by git's rules (`git check-ref-format --branch`), or null.
 * Checked before the name ever reaches a URL or a ref update.
 */
export function branchNameProblem(name: string): string | null {
  if (name.length === 0) return 'a branch name cannot be empty';
  if (name.length > 255) return 'a branch name is at most 255 characters here';
  if (name === '@') return 'a branch name cannot be "@"';
  if (name.startsWith('-')) return 'a branch name cannot start with "-"';
  if (name.startsWith('/') || name.endsWith('/')) return 'a branch name cannot start or end with "/"';
  if (name.includes('//')) return 'a branch name cannot contain "//"';
  if (name.includes('..')) return 'a branch name cannot contain ".."';
  if (name.includes('@{')) return 'a branch name cannot contain "@{"';
  if (name.endsWith('.')) return 'a branch name cannot end with "."';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return 'a branch name cannot contain spaces, control characters or any of ~ ^ : ? * [ \\';
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return 'no part of a branch name may start with "."';
    if (part.endsWith('.lock')) return 'no part of a branch name may end with ".lock"';
  }
  if (name.startsWith('refs/') || name === 'HEAD') return 'give the branch name itself (not "HEAD" or a "refs/…" path)';
  return null;
}
