// Comparing document URIs (vscode-free: anything whose toString() gives the URI's text).

/** Something with a URI's string form (vscode.Uri). */
export interface UriLike {
  toString(): string;
}

/** Whether two URIs name the same resource; false when either is missing. */
export function sameUri(a: UriLike | undefined, b: UriLike | undefined): boolean {
  return a !== undefined && b !== undefined && a.toString() === b.toString();
}
