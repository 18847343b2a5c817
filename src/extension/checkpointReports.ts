// Reports the report panel shows for a checkpoint (a step of a timeline, or a checkpoint analyzed on its own from the
// Explorer; not a model file of its own): which model file its clip settings and keys belong to, and how to analyze
// it again (for the heatmap, or after a change).
import type * as vscode from 'vscode';
import type { AnalyzeParams } from '../worker/protocol';

export interface CheckpointReport {
  /** The base model file whose `weights` the checkpoint replaced, if any. */
  base: vscode.Uri | undefined;
  /** What the checkpoint was analyzed as. */
  params: AnalyzeParams;
}

/** Checkpoint reports by URI (the report panel's actions consult it). */
export class CheckpointReports {
  private readonly byUri = new Map<string, CheckpointReport>();

  set(uri: vscode.Uri, report: CheckpointReport): void {
    this.byUri.set(uri.toString(), report);
  }

  get(uri: vscode.Uri): CheckpointReport | undefined {
    return this.byUri.get(uri.toString());
  }
}
