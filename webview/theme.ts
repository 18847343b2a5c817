// Chart colours from VS Code's theme variables, re-read whenever the body's theme class changes.

/** Colours and font the charts draw with. */
export interface Theme {
  kind: 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';
  foreground: string;
  background: string;
  muted: string;
  grid: string;
  border: string;
  fontFamily: string;
  fontSize: number;
  /** One colour per layer (cycled). */
  series: string[];
  /** Colours of threshold lines by source ("mean", "median", "autoclip_p10", "current", other). */
  threshold: (source: string) => string;
  lineWidth: number;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v || fallback;
}

/** The theme kind from the body classes VS Code sets. */
export function themeKind(body: HTMLElement): Theme['kind'] {
  const c = body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  if (c.contains('vscode-light')) return 'light';
  return 'dark';
}

/** Reads the current theme from the CSS variables VS Code puts on the page. */
export function readTheme(): Theme {
  const style = getComputedStyle(document.body);
  const kind = themeKind(document.body);
  const light = kind === 'light' || kind === 'high-contrast-light';
  const hc = kind === 'high-contrast' || kind === 'high-contrast-light';
  const foreground = cssVar(style, '--vscode-editor-foreground', light ? '#333333' : '#cccccc');
  const background = cssVar(style, '--vscode-editor-background', light ? '#ffffff' : '#1e1e1e');
  const blue = cssVar(style, '--vscode-charts-blue', light ? '#1a85ff' : '#3794ff');
  const orange = cssVar(style, '--vscode-charts-orange', '#d18616');
  const green = cssVar(style, '--vscode-charts-green', '#388a34');
  const purple = cssVar(style, '--vscode-charts-purple', '#652d90');
  const red = cssVar(style, '--vscode-charts-red', '#e51400');
  const yellow = cssVar(style, '--vscode-charts-yellow', '#bf8803');
  const fontSize = parseFloat(cssVar(style, '--vscode-font-size', '13px')) || 13;
  const byMethod: Record<string, string> = { mean: orange, median: purple, autoclip_p10: green, current: red };
  return {
    kind,
    foreground,
    background,
    muted: cssVar(style, '--vscode-descriptionForeground', foreground),
    grid: hc
      ? cssVar(style, '--vscode-contrastBorder', foreground)
      : cssVar(style, '--vscode-charts-lines', light ? 'rgba(0,0,0,0.12)' : 'rgba(255,255,255,0.12)'),
    border: cssVar(style, '--vscode-panel-border', foreground),
    fontFamily: cssVar(style, '--vscode-font-family', 'system-ui, sans-serif'),
    fontSize: Math.max(11, Math.min(14, fontSize - 1)),
    series: [blue, orange, green, purple, red, yellow],
    threshold: (source) => byMethod[source] ?? yellow,
    lineWidth: hc ? 2.5 : 1.5,
  };
}

/** A colour with an alpha for fills; works for #rgb, #rrggbb and rgb()/rgba() inputs, else the colour itself. */
export function withAlpha(colour: string, alpha: number): string {
  const c = colour.trim();
  let m = /^#([0-9a-f]{3})$/i.exec(c);
  if (m) {
    const [r, g, b] = m[1].split('').map((d) => parseInt(d + d, 16));
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(c);
  if (m) {
    const n = parseInt(m[1], 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }
  const rgb = /^rgba?\(([^,]+),([^,]+),([^,)]+)/i.exec(c);
  if (rgb) return `rgba(${rgb[1].trim()}, ${rgb[2].trim()}, ${rgb[3].trim()}, ${alpha})`;
  return c;
}

/**
 * Calls `onChange` when VS Code switches theme: the body's class changes (vscode-light / vscode-dark /
 * vscode-high-contrast), or the theme variables on <html style> change. Batched to one call per frame.
 */
export function watchTheme(onChange: () => void): () => void {
  let scheduled = false;
  const observer = new MutationObserver(() => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      onChange();
    });
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  return () => observer.disconnect();
}
