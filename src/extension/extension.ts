// Extension entry point: builds the owner objects and registers them.
import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('rnnGradients.analyze', () => {
      void vscode.window.showInformationMessage('RNN Gradients: analysis is being built.');
    }),
  );
}

export function deactivate(): void {
  // Owner objects are disposed through context.subscriptions.
}
