// The Export and Copy buttons of the report and timeline pages: the page sends the file's content (text, or a
// chart as a PNG data URL); the extension asks where to save it and writes it, or puts text on the clipboard.
import * as vscode from 'vscode';
import type { ExportKind } from '../shared/webviewProtocol';

const EXPORT_FILTERS: Record<ExportKind, Record<string, string[]>> = {
  png: { 'PNG image': ['png'] },
  csv: { 'CSV table': ['csv'] },
  json: { 'JSON report': ['json'] },
};

/**
 * Asks where to save an exported file (proposing `suggestedName`, without folders or leading dots, in `folder`;
 * `fallbackBase` names it when the page gave no name) and writes it. Throws when a PNG is not a PNG data URL.
 */
export async function exportFromPage(
  kind: ExportKind,
  suggestedName: string,
  content: string,
  folder: vscode.Uri | undefined,
  fallbackBase: string,
): Promise<void> {
  const name = (suggestedName.split(/[\\/]/).pop() || `${fallbackBase}.${kind}`).replace(/^\.+/, '');
  const target = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined,
    filters: EXPORT_FILTERS[kind],
    saveLabel: 'Export',
  });
  if (!target) return;
  let bytes: Uint8Array;
  if (kind === 'png') {
    const prefix = 'data:image/png;base64,';
    if (!content.startsWith(prefix)) throw new Error('the chart image is not a PNG data URL.');
    bytes = Buffer.from(content.slice(prefix.length), 'base64');
  } else {
    bytes = new TextEncoder().encode(content);
  }
  await vscode.workspace.fs.writeFile(target, bytes);
  vscode.window.setStatusBarMessage(`Exported ${target.path.split('/').pop() ?? name}`, 3000);
}

/** Puts a page's text (a table, a report) on the clipboard and says so in the status bar. */
export async function copyFromPage(text: string, label: string): Promise<void> {
  await vscode.env.clipboard.writeText(text);
  vscode.window.setStatusBarMessage(`Copied: ${label}`, 3000);
}
