// The typed message protocol between the report panel's host (extension) and its webview front end.
// Every message is an interface with a `type` discriminant; both sides switch exhaustively over the unions.
import type { Report } from '../engine/report/types';
import type { TimelineReport } from '../engine/timeline/types';
import type { RemedyAction } from './reportView/advice';

/** Which clipping setting of the model file's `training` object a suggestion applies to. */
export type ClipKey = 'clip_norm' | 'clip_value';

/** What an exported file holds: a chart image, the lag table, or the whole report. */
export type ExportKind = 'png' | 'csv' | 'json';

// ---- host → webview ----

/** Host → webview: show this report (a new analysis, or a live re-analysis of the same file). */
export interface ReportMessage {
  type: 'report';
  /** The model file's URI as a string; kept in the webview state so the panel can be restored. */
  documentUri: string;
  report: Report;
  /** The file's current training.clip_norm (null when unset), drawn as a threshold line. */
  currentClipNorm: number | null;
  /** The file's current training.clip_value (null when unset; absent: unknown). */
  currentClipValue?: number | null;
  /** Increases with each report the host sends; echoed back in `rendered`. */
  seq: number;
  /** True for a partial report sent while the analysis still runs (short lags only). */
  partial?: boolean;
}

/** Host → webview: an analysis is running; fraction done in 0..1. */
export interface ProgressMessage {
  type: 'progress';
  fraction: number;
}

/** Host → webview: the heatmap the webview asked for could not be computed. */
export interface HeatmapFailedMessage {
  type: 'heatmapFailed';
  message: string;
}

/** Host → webview (timeline panel): show this training timeline (sent again as checkpoints are analyzed). */
export interface TimelineMessage {
  type: 'timeline';
  /** What the timeline is of ("unclipped with adding.rnn.json"). */
  title: string;
  timeline: TimelineReport;
  /** Increases with each timeline the host sends; echoed back in `rendered`. */
  seq: number;
  /** Whether the host watches for new checkpoints. */
  watching: boolean;
  /** Checkpoints analyzed so far of those found, while a run is going; null when idle. */
  running: { done: number; total: number } | null;
  /** What the timeline was made of (URIs as strings), kept in the webview state to run it again after a reload. */
  sources: string[];
  /** The base model file's URI, or null. */
  base: string | null;
}

/**
 * Host → webview: the running analysis of the shown document ended without a report (cancelled, timed out, the
 * worker stopped). When `previous` is true the host has just re-sent the last complete report; otherwise there is
 * none and the partial report must go. The page says what happened and offers Re-run.
 */
export interface StoppedMessage {
  type: 'stopped';
  message: string;
  previous: boolean;
}

/** Everything the host may send to the webview. */
export type ToWebviewMessage =
  ReportMessage | ProgressMessage | HeatmapFailedMessage | TimelineMessage | StoppedMessage;

// ---- webview → host ----

/** Webview → host: the page script has loaded and listens for messages. */
export interface ReadyMessage {
  type: 'ready';
}

/** What the page shows as text after a render, read back from its DOM (lets workbench tests check the panel). */
export interface RenderedText {
  /** The findings list, one entry per row as shown: its code, message and location ("weights › bias_ih_l0"). */
  findings: { code: string; message: string; path: string }[];
  /** The "Gates and units" section: its notes, then the heading of each per-layer chart. */
  gates: string[];
}

/** Webview → host: the report with this seq is drawn, with this many charts. */
export interface RenderedMessage {
  type: 'rendered';
  seq: number;
  charts: number;
  /** Milliseconds from receiving the report to the drawn charts. */
  ms: number;
  /** The rendered text (absent from older pages). */
  text?: RenderedText;
}

/** Webview → host: write this clipping setting into the model file. */
export interface ApplyClipMessage {
  type: 'applyClip';
  key: ClipKey;
  value: number;
}

/** Webview → host: reveal the key at this path in the model file (a finding was clicked). */
export interface RevealPathMessage {
  type: 'revealPath';
  path: (string | number)[];
}

/** Webview → host: the heatmap section was opened; re-analyze with a (t, j) map. */
export interface RequestHeatmapMessage {
  type: 'requestHeatmap';
}

/** Webview → host: analyze the shown document again (the Re-run button after a stopped analysis). */
export interface RerunMessage {
  type: 'rerun';
}

/** Webview → host: make a remedy's edit in the model file (the forget-gate bias or W_hh rescaling quick fix's edit). */
export interface ApplyRemedyMessage {
  type: 'applyRemedy';
  remedy: RemedyAction;
}

/** Webview → host: analyze the shown document again with the exact lag table (the report was sampled). */
export interface ComputeExactMessage {
  type: 'computeExact';
}

/** Webview → host: put this text on the clipboard (webviews cannot reach it reliably). */
export interface CopyTextMessage {
  type: 'copyText';
  text: string;
  /** What was copied, for the confirmation message. */
  label: string;
}

/** Webview → host: ask where to save, then write this content (PNG as a data: URL, CSV/JSON as text). */
export interface ExportFileMessage {
  type: 'exportFile';
  kind: ExportKind;
  suggestedName: string;
  content: string;
}

/** Webview → host (timeline panel): open the full report of the checkpoint at this step. */
export interface OpenStepMessage {
  type: 'openStep';
  /** The entry's `file`, as the timeline names it. */
  file: string;
  step: number;
}

/** Webview → host (timeline panel): the Watch toggle changed. */
export interface SetWatchMessage {
  type: 'setWatch';
  on: boolean;
}

/** Everything the webview may send to the host. */
export type FromWebviewMessage =
  | ReadyMessage
  | RenderedMessage
  | ApplyClipMessage
  | RevealPathMessage
  | RequestHeatmapMessage
  | RerunMessage
  | ApplyRemedyMessage
  | ComputeExactMessage
  | CopyTextMessage
  | ExportFileMessage
  | OpenStepMessage
  | SetWatchMessage;

/** What the webview keeps with vscode.setState, and what the host's serializer receives after a reload. */
export interface PersistedPanelState {
  documentUri: string;
  report: Report | null;
  currentClipNorm: number | null;
  currentClipValue?: number | null;
  /** Section ids whose "Show as table" view is on. */
  tables: string[];
  /** Whether the heatmap section is open. */
  heatmapOpen: boolean;
  /** Index into report.heatmaps of the layer shown in the heatmap. */
  heatmapLayer: number;
}

/** What the timeline panel's webview keeps with vscode.setState, and what its serializer receives. */
export interface PersistedTimelineState {
  mode: 'timeline';
  title: string;
  timeline: TimelineReport | null;
  /** Section ids whose "Show as table" view is on. */
  tables: string[];
  watching: boolean;
  /** What the host needs to run the timeline again after a reload (URIs as strings). */
  sources: string[];
  base: string | null;
}

/** Fails to compile when a switch over a union misses a case; throws if reached with an unknown value. */
export function assertNever(value: never): never {
  throw new Error(`Unexpected message: ${JSON.stringify(value)}`);
}

const TO_WEBVIEW_TYPES: ReadonlySet<string> = new Set<ToWebviewMessage['type']>([
  'report',
  'progress',
  'heatmapFailed',
  'timeline',
  'stopped',
]);
const FROM_WEBVIEW_TYPES: ReadonlySet<string> = new Set<FromWebviewMessage['type']>([
  'ready',
  'rendered',
  'applyClip',
  'revealPath',
  'requestHeatmap',
  'rerun',
  'applyRemedy',
  'computeExact',
  'copyText',
  'exportFile',
  'openStep',
  'setWatch',
]);

function hasType(value: unknown, types: ReadonlySet<string>): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const t = (value as { type?: unknown }).type;
  return typeof t === 'string' && types.has(t);
}

/** True when a received value carries one of the host → webview message types. */
export function isToWebviewMessage(value: unknown): value is ToWebviewMessage {
  return hasType(value, TO_WEBVIEW_TYPES);
}

function isRenderedText(value: unknown): value is RenderedText {
  if (typeof value !== 'object' || value === null) return false;
  const t = value as Record<string, unknown>;
  return (
    Array.isArray(t.findings) &&
    t.findings.every(
      (f) =>
        typeof f === 'object' &&
        f !== null &&
        ['code', 'message', 'path'].every((k) => typeof (f as Record<string, unknown>)[k] === 'string'),
    ) &&
    Array.isArray(t.gates) &&
    t.gates.every((g) => typeof g === 'string')
  );
}

function isRemedy(value: unknown): value is RemedyAction {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  const layer = typeof r.layer === 'number' && Number.isInteger(r.layer) && r.layer >= 0 && r.layer < 1000;
  const direction = r.direction === 'forward' || r.direction === 'reverse';
  if (r.kind === 'forgetBias') return layer && direction;
  if (r.kind === 'rescale')
    return layer && direction && typeof r.target === 'number' && Number.isFinite(r.target) && r.target > 0;
  return false;
}

/** True when a received value is a well-formed webview → host message (checked field by field). */
export function isFromWebviewMessage(value: unknown): value is FromWebviewMessage {
  if (!hasType(value, FROM_WEBVIEW_TYPES)) return false;
  const m = value as Record<string, unknown>;
  switch (m.type as FromWebviewMessage['type']) {
    case 'ready':
    case 'requestHeatmap':
    case 'rerun':
    case 'computeExact':
      return true;
    case 'applyRemedy':
      return isRemedy(m.remedy);
    case 'rendered':
      return (
        typeof m.seq === 'number' && typeof m.charts === 'number' && (m.text === undefined || isRenderedText(m.text))
      );
    case 'applyClip':
      return (
        (m.key === 'clip_norm' || m.key === 'clip_value') &&
        typeof m.value === 'number' &&
        Number.isFinite(m.value) &&
        m.value > 0
      );
    case 'revealPath':
      return Array.isArray(m.path) && m.path.every((k) => typeof k === 'string' || typeof k === 'number');
    case 'copyText':
      return typeof m.text === 'string' && typeof m.label === 'string';
    case 'exportFile':
      return (
        (m.kind === 'png' || m.kind === 'csv' || m.kind === 'json') &&
        typeof m.suggestedName === 'string' &&
        typeof m.content === 'string'
      );
    case 'openStep':
      return typeof m.file === 'string' && typeof m.step === 'number' && Number.isFinite(m.step);
    case 'setWatch':
      return typeof m.on === 'boolean';
  }
}
