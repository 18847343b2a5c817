// One chart section of the panel: heading, explanation, the canvas, its "Show as table" alternative and PNG export.
import { button, el } from './dom';
import type { Chart, ChartId, TimelineChartId } from './charts';

/** Any section's chart id. */
export type SectionId = ChartId | TimelineChartId;

/** What a section asks of the panel. */
export interface ChartSectionHost {
  /** The table toggle changed (persisted in the webview state). */
  tableToggled(id: SectionId, on: boolean): void;
  /** Export the canvas as a PNG. */
  exportPng(id: SectionId, canvas: HTMLCanvasElement): void;
}

/** A section holding one chart and the same numbers as a table. */
export class ChartSection {
  readonly root: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  /** Text under the heading that depends on the report (shares, notes). */
  readonly notes: HTMLElement;
  /** Extra buttons next to the toggles (e.g. CSV export). */
  readonly toolbar: HTMLElement;
  chart: Chart | undefined;
  /** More charts of the section (e.g. one per layer), under the main chart; shown and hidden with it. */
  readonly extraCharts: HTMLElement;
  private readonly chartBox: HTMLElement;
  private readonly tableBox: HTMLElement;
  private readonly tableButton: HTMLButtonElement;
  private showTable = false;
  private available = true;
  private tableDirty = true;
  private buildTable: (() => HTMLElement) | null = null;

  constructor(
    readonly id: SectionId,
    title: string,
    intro: string,
    private readonly host: ChartSectionHost,
    headingLevel: 'h2' | 'h3' = 'h2',
  ) {
    const headingId = `section-${id}-title`;
    this.canvas = el('canvas', {
      attrs: { role: 'img', 'aria-label': `${title} chart; use "Show as table" for the numbers` },
    });
    this.chartBox = el('div', { className: 'chart-box' }, [this.canvas]);
    this.extraCharts = el('div', { className: 'extra-charts' });
    this.tableBox = el('div', {
      className: 'table-box',
      attrs: { tabindex: '0', role: 'region', 'aria-label': `${title} table` },
    });
    this.tableBox.hidden = true;
    this.tableButton = button('Show as table', () => this.setTable(!this.showTable, true), {
      className: 'secondary',
      attrs: { 'aria-pressed': 'false', 'aria-controls': `section-${id}-table` },
    });
    this.tableBox.id = `section-${id}-table`;
    const png = button('Save PNG', () => this.host.exportPng(this.id, this.canvas), {
      className: 'secondary',
      attrs: { 'data-focus-key': `png-${id}` },
    });
    this.toolbar = el('div', { className: 'toolbar' }, [this.tableButton, png]);
    this.notes = el('div', { className: 'notes' });
    this.root = el(
      'section',
      { className: 'chart-section', attrs: { 'aria-labelledby': headingId, 'data-chart': id } },
      [
        el('div', { className: 'section-head' }, [
          el(headingLevel, { text: title, attrs: { id: headingId } }),
          this.toolbar,
        ]),
        el('p', { className: 'intro', text: intro }),
        this.notes,
        this.chartBox,
        this.extraCharts,
        this.tableBox,
      ],
    );
  }

  /** Whether the table view is on. */
  get tableShown(): boolean {
    return this.showTable;
  }

  /** Switches between chart and table; builds the table lazily (large reports). */
  setTable(on: boolean, fromUser = false): void {
    this.showTable = on;
    this.tableButton.textContent = on ? 'Show as chart' : 'Show as table';
    this.tableButton.setAttribute('aria-pressed', String(on));
    this.chartBox.hidden = on || !this.available;
    this.extraCharts.hidden = this.chartBox.hidden;
    this.tableBox.hidden = !on || !this.available;
    if (on) this.refreshTable();
    if (fromUser) this.host.tableToggled(this.id, on);
  }

  /** Hides chart, table and toolbar while there is nothing to show (the heatmap before it is computed). */
  setAvailable(on: boolean): void {
    this.available = on;
    this.toolbar.hidden = !on;
    this.chartBox.hidden = this.showTable || !on;
    this.extraCharts.hidden = this.chartBox.hidden;
    this.tableBox.hidden = !this.showTable || !on;
  }

  /** Gives the section a new table builder (new report); rebuilt now if the table is shown, else on demand. */
  setTableBuilder(build: () => HTMLElement): void {
    this.buildTable = build;
    this.tableDirty = true;
    if (this.showTable) this.refreshTable();
  }

  private refreshTable(): void {
    if (!this.tableDirty || !this.buildTable) return;
    this.tableBox.replaceChildren(this.buildTable());
    this.tableDirty = false;
  }
}
