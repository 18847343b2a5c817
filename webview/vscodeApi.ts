// The typed handle on the VS Code webview API: messages to the host and the persisted panel state.
import type { FromWebviewMessage, PersistedPanelState, PersistedTimelineState } from '../src/shared/webviewProtocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** The host channel: typed posting and state. acquireVsCodeApi may be called once per page, so this is built once in main.ts. */
export class HostChannel {
  private readonly api: VsCodeApi = acquireVsCodeApi();

  /** Sends a message to the extension host. */
  post(message: FromWebviewMessage): void {
    this.api.postMessage(message);
  }

  /** The state saved before a reload or while the panel was hidden, if it looks like ours. */
  loadState(): PersistedPanelState | null {
    const s = this.api.getState() as Partial<PersistedPanelState> | null | undefined;
    if (!s || typeof s !== 'object' || typeof s.documentUri !== 'string') return null;
    return {
      documentUri: s.documentUri,
      report: s.report ?? null,
      currentClipNorm: typeof s.currentClipNorm === 'number' ? s.currentClipNorm : null,
      currentClipValue: typeof s.currentClipValue === 'number' ? s.currentClipValue : null,
      tables: Array.isArray(s.tables) ? s.tables.filter((t): t is string => typeof t === 'string') : [],
      heatmapOpen: s.heatmapOpen === true,
      heatmapLayer: typeof s.heatmapLayer === 'number' ? s.heatmapLayer : 0,
    };
  }

  /** The timeline panel's saved state, if it looks like one. */
  loadTimelineState(): PersistedTimelineState | null {
    const s = this.api.getState() as Partial<PersistedTimelineState> | null | undefined;
    if (!s || typeof s !== 'object' || s.mode !== 'timeline') return null;
    const strings = (v: unknown): string[] =>
      Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
    const t = s.timeline;
    return {
      mode: 'timeline',
      title: typeof s.title === 'string' ? s.title : '',
      timeline:
        t && typeof t === 'object' && t.timeline_version === 1 && Array.isArray(t.entries) && Array.isArray(t.findings)
          ? t
          : null,
      tables: strings(s.tables),
      watching: s.watching === true,
      sources: strings(s.sources),
      base: typeof s.base === 'string' ? s.base : null,
    };
  }

  /** Saves the timeline panel's state. */
  saveTimelineState(state: PersistedTimelineState): void {
    this.api.setState(state);
  }

  /** Saves the state VS Code hands back after a reload (and to the host's serializer). */
  saveState(state: PersistedPanelState): void {
    this.api.setState(state);
  }
}
