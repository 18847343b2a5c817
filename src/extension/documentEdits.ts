// Applying editLogic's text edits to documents as undoable WorkspaceEdits, revealing key paths, and reading
// the document's current clip_norm and clip_value.
import * as vscode from 'vscode';
import type { FormattingOptions } from 'jsonc-parser';
import type { ClipKey } from '../shared/webviewProtocol';
import { clipEdits, type TextEditSpec } from './editLogic';
import { numberAt, parseJsonc, spanOfPath } from './jsonLocationLogic';
import type { CurrentClip } from '../shared/clipAdvice';

/** training.clip_norm and clip_value as the document states them now (null when unset). */
export function currentClip(document: vscode.TextDocument): CurrentClip {
  const text = document.getText();
  const root = parseJsonc(text);
  return {
    clip_norm: numberAt(text, ['training', 'clip_norm'], root),
    clip_value: numberAt(text, ['training', 'clip_value'], root),
  };
}

/** The formatting of the document's editor (indentation, line ends), for inserted text. */
export function formattingOf(document: vscode.TextDocument): FormattingOptions {
  const editor = vscode.window.visibleTextEditors.find((candidate) => candidate.document === document);
  const tabSize = typeof editor?.options.tabSize === 'number' ? editor.options.tabSize : 2;
  const insertSpaces = typeof editor?.options.insertSpaces === 'boolean' ? editor.options.insertSpaces : true;
  return { tabSize, insertSpaces, eol: document.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n' };
}

/** A WorkspaceEdit of text edits computed on the document's current text. */
export function toWorkspaceEdit(document: vscode.TextDocument, edits: readonly TextEditSpec[]): vscode.WorkspaceEdit {
  const workspaceEdit = new vscode.WorkspaceEdit();
  for (const edit of edits) {
    const range = new vscode.Range(document.positionAt(edit.offset), document.positionAt(edit.offset + edit.length));
    workspaceEdit.replace(document.uri, range, edit.content);
  }
  return workspaceEdit;
}

/** The edit that sets training.clip_norm / clip_value in a document. */
export function clipWorkspaceEdit(document: vscode.TextDocument, key: ClipKey, value: number): vscode.WorkspaceEdit {
  return toWorkspaceEdit(document, clipEdits(document.getText(), key, value, formattingOf(document)));
}

/** Sets training.clip_norm / clip_value of a model file (one undo step). */
export async function applyClip(uri: vscode.Uri, key: ClipKey, value: number): Promise<void> {
  const document = await vscode.workspace.openTextDocument(uri);
  const applied = await vscode.workspace.applyEdit(clipWorkspaceEdit(document, key, value));
  if (!applied) throw new Error(`Could not set training.${key} in ${uri.fsPath}.`);
}

/** Opens the model file and selects the key at `path` (or the nearest existing parent). */
export async function revealPath(uri: vscode.Uri, path: (string | number)[]): Promise<void> {
  const document = await vscode.workspace.openTextDocument(uri);
  const span = spanOfPath(document.getText(), path);
  const range = new vscode.Range(document.positionAt(span.offset), document.positionAt(span.offset + span.length));
  const editor = await vscode.window.showTextDocument(document, {
    viewColumn: vscode.ViewColumn.One,
    selection: range,
  });
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}
