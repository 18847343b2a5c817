// The text parts of the report panel: the header with the model's facts, the summary (a card per layer, the
// recommended clipping with its actions) and the findings. Report fields are user data: always set as text.
import type { Report } from '../src/engine/report/types';
import { describeOrigin, formatDataShape, formatFromLog10, formatNumber } from '../src/engine/report/format';
import { recommendedClipActions, suggestedThreshold, type CurrentClip } from '../src/shared/clipAdvice';
import { modelTitle } from '../src/shared/reportView/export';
import { clipSnippets, layerCards } from '../src/shared/reportView/summary';
import { adviceCards, type AdviceCard } from '../src/shared/reportView/advice';
import type { ClipKey, FromWebviewMessage } from '../src/shared/webviewProtocol';
import { button, el } from './dom';

/** Sends a message to the extension host. */
type Post = (message: FromWebviewMessage) => void;

/** The header: the model's title, a "partial" badge while the analysis runs, the facts, and Save as JSON. */
export function renderHeader(header: HTMLElement, report: Report, partial: boolean, saveJson: () => void): void {
  const m = report.model;
  const facts: [string, string][] = [
    ['file', report.file],
    ...(m.source && m.source.format !== 'json' ? [['weights', describeOrigin(m.source)] as [string, string]] : []),
    ['cell', `${m.cell}${m.cell === 'rnn' ? ` (${m.form}, ${m.nonlinearity})` : ''}`],
    ['hidden', String(m.hidden_size)],
    ['layers', String(m.num_layers)],
    ['data', formatDataShape(report)],
    ['loss', formatNumber(report.loss)],
    ['gradient norm', formatNumber(report.grad_norm)],
  ];
  if (report.elapsed_ms !== undefined) facts.push(['analysis', `${formatNumber(report.elapsed_ms)} ms`]);
  if (report.max_lag !== undefined && report.max_lag !== null) facts.push(['lags capped at', String(report.max_lag)]);
  const dl = el('dl', { className: 'facts' });
  for (const [k, v] of facts) dl.append(el('div', {}, [el('dt', { text: k }), el('dd', { text: v })]));
  const actions = el('div', { className: 'toolbar' }, [
    button('Save report (JSON)', saveJson, {
      className: 'secondary',
      attrs: { 'data-focus-key': 'json' },
    }),
  ]);
  header.replaceChildren(
    el('div', { className: 'title-row' }, [
      el('h1', { className: 'model-name', text: modelTitle(report) }),
      partial ? el('span', { className: 'badge', text: 'partial: analysis running' }) : null,
      actions,
    ]),
    dl,
  );
}

/** The verdict line the live region announces: each layer's regime ("Layer 0: vanishing (borderline)"). */
export function verdictLine(report: Report): string {
  const cards = layerCards(report);
  return cards.length ? cards.map((c) => `${c.title}: ${c.label}`).join('; ') + '.' : 'No layers.';
}

/**
 * The summary: a card per layer, then the advice cards in the order that applies (shared/reportView/advice.ts): the
 * remedy for vanishing gradients first when a layer vanishes, clipping first when one explodes, "nothing to change"
 * first for a healthy model, with clipping lower down.
 */
export function renderSummary(summary: HTMLElement, report: Report, current: CurrentClip, post: Post): void {
  const cards = el('div', { className: 'cards' });
  for (const c of layerCards(report)) {
    const facts = el('ul', { className: 'card-facts' });
    for (const f of c.facts) {
      const value =
        f.text !== undefined
          ? f.text
          : f.value === null
            ? '—'
            : f.log10
              ? formatFromLog10(f.value)
              : formatNumber(f.value);
      facts.append(el('li', {}, [el('span', { text: `${f.label}: ` }), el('strong', { text: value })]));
    }
    cards.append(
      el('article', { className: `card regime-${c.regime}`, attrs: { 'aria-label': `${c.title}: ${c.label}` } }, [
        el('h3', {}, [
          el('span', { text: `${c.title} ` }),
          el('span', { className: `regime regime-${c.regime}`, text: c.regime }),
          c.borderline ? el('span', { className: 'borderline', text: ' borderline' }) : null,
        ]),
        el('p', { className: 'rule', text: c.rule }),
        facts,
      ]),
    );
  }
  const advice = el('div', { className: 'advice' });
  for (const card of adviceCards(report)) advice.append(adviceCard(card, report, current, post));
  summary.replaceChildren(el('h2', { text: 'Summary', attrs: { id: 'summary-title' } }), cards, advice);
}

/** One advice card: its lines with their buttons, or (clipping) the recommended thresholds and their actions. */
function adviceCard(card: AdviceCard, report: Report, current: CurrentClip, post: Post): HTMLElement {
  if (card.id === 'clipping') {
    const box = recommendation(report, current, post, card.title);
    box.classList.add('advice-card');
    box.dataset.advice = card.id;
    if (!card.collapsed) return box;
    // Folded: the heading becomes the summary of a closed <details>, so the buttons are there but not in the way.
    const heading = box.querySelector('h3');
    const details = el('details', { className: 'advice-fold' }, [
      el('summary', { text: card.title, attrs: { 'data-focus-key': `fold-${card.id}` } }),
    ]);
    heading?.remove();
    details.append(...Array.from(box.childNodes));
    box.append(details);
    return box;
  }
  const list = el('ul', { className: 'advice-items' });
  card.items.forEach((item, i) => {
    const li = el('li', {}, [el('span', { text: item.text })]);
    const action = item.action;
    if (action)
      li.append(
        ' ',
        button(action.title, () => post({ type: 'applyRemedy', remedy: action.remedy }), {
          attrs: { 'data-focus-key': `remedy-${card.id}-${i}` },
        }),
      );
    const reveal = item.reveal;
    if (reveal)
      li.append(
        ' ',
        button(reveal.title, () => post({ type: 'revealPath', path: reveal.path }), {
          className: 'secondary',
          attrs: { 'data-focus-key': `reveal-${card.id}-${i}` },
        }),
      );
    list.append(li);
  });
  return el('article', { className: `advice-card recommendation-${card.id}`, attrs: { 'data-advice': card.id } }, [
    el('h3', { text: card.title }),
    list,
  ]);
}

/**
 * A line of code as text that wraps only after `.`, `(`, `,` and `=` (a <wbr> after each), never inside an
 * identifier.
 */
export function codeLine(text: string): HTMLElement {
  const code = el('code', { className: 'snippet' });
  for (const part of text.split(/(?<=[.(,=])/)) code.append(document.createTextNode(part), el('wbr'));
  return code;
}

/** The recommended clip_norm and clip_value, buttons that set them in the file, and copyable code lines. */
function recommendation(report: Report, current: CurrentClip, post: Post, title: string): HTMLElement {
  const rec = report.clipping.recommended;
  const box = el('div', { className: 'recommendation' });
  box.append(el('h3', { text: title }));
  const values = el('dl', { className: 'facts' });
  const shown = (key: ClipKey): string => String(suggestedThreshold(report, key) ?? '—');
  values.append(
    el('div', {}, [el('dt', { text: 'clip_norm' }), el('dd', { text: shown('clip_norm') })]),
    el('div', {}, [el('dt', { text: 'clip_value' }), el('dd', { text: shown('clip_value') })]),
    el('div', {}, [el('dt', { text: 'method' }), el('dd', { text: rec.method })]),
  );
  box.append(values);
  if (rec.rationale) box.append(el('p', { className: 'rule', text: rec.rationale }));
  // Each button says what it changes ("Set clip_norm to 23.9: clips 1 of 2 batches (now 100: never clips)"); once the
  // file holds the value, a plain line says so instead.
  const apply = el('div', { className: 'toolbar' });
  for (const action of recommendedClipActions(report, current)) {
    apply.append(
      action.done
        ? el('span', { className: 'applied', text: `✓ training.${action.title}` })
        : button(action.title, () => post({ type: 'applyClip', key: action.key, value: action.value }), {
            attrs: { 'data-focus-key': `apply-${action.key}` },
          }),
    );
  }
  box.append(apply);
  const snippets = el('ul', { className: 'snippets' });
  for (const s of clipSnippets(report)) {
    snippets.append(
      el('li', {}, [
        el('span', { className: 'snippet-label', text: s.label }),
        codeLine(s.text),
        button('Copy', () => post({ type: 'copyText', text: s.text, label: s.label }), {
          className: 'secondary',
          attrs: { 'aria-label': `Copy: ${s.label}`, 'data-focus-key': `copy-${s.id}` },
        }),
      ]),
    );
  }
  box.append(snippets);
  return box;
}

/** The findings, each a button that reveals its key in the model file. */
export function renderFindings(findings: HTMLElement, report: Report, post: Post): void {
  const list = el('ul', { className: 'finding-list' });
  report.findings.forEach((f, i) => {
    const where = f.path.length ? f.path.map(String).join(' › ') : '(file)';
    list.append(
      el('li', {}, [
        button('', () => post({ type: 'revealPath', path: f.path }), {
          className: `finding severity-${f.severity}`,
          attrs: { 'data-focus-key': `finding-${i}`, title: `Reveal ${where} in the model file` },
        }),
      ]),
    );
    const b = list.lastElementChild!.firstElementChild as HTMLButtonElement;
    b.append(
      el('span', { className: `severity severity-${f.severity}`, text: f.severity }),
      el('span', { className: 'code', text: f.code }),
      el('span', { className: 'message', text: f.message }),
      el('span', { className: 'path', text: where }),
    );
  });
  const heading = el('h2', { text: `Findings (${report.findings.length})`, attrs: { id: 'findings-title' } });
  findings.replaceChildren(
    heading,
    report.findings.length ? list : el('p', { className: 'placeholder', text: 'No findings.' }),
  );
}
