// Tiny DOM builders: every text goes through textContent and every attribute through setAttribute, never HTML parsing.

/** Properties for `el`: a class, text content, attributes. */
export interface ElementProps {
  className?: string;
  text?: string;
  attrs?: Record<string, string>;
}

/** Creates an element with text set as textContent (user data stays text) and the given children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: ElementProps = {},
  children: (Node | null | undefined)[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.attrs) for (const [k, v] of Object.entries(props.attrs)) node.setAttribute(k, v);
  for (const c of children) if (c) node.appendChild(c);
  return node;
}

/** A button with a click handler; `label` is its visible text. */
export function button(label: string, onClick: () => void, props: ElementProps = {}): HTMLButtonElement {
  const b = el('button', { ...props, text: label, attrs: { type: 'button', ...(props.attrs ?? {}) } });
  b.addEventListener('click', onClick);
  return b;
}

/** A table with a caption, header row and body rows (cells as text). */
export function table(caption: string, headers: string[], rows: Iterable<(string | number)[]>): HTMLTableElement {
  const thead = el('thead', {}, [
    el(
      'tr',
      {},
      headers.map((h) => el('th', { text: h, attrs: { scope: 'col' } })),
    ),
  ]);
  const tbody = el('tbody');
  const frag = document.createDocumentFragment();
  for (const row of rows) {
    const tr = document.createElement('tr');
    for (const cell of row) {
      const td = document.createElement('td');
      td.textContent = String(cell);
      tr.appendChild(td);
    }
    frag.appendChild(tr);
  }
  tbody.appendChild(frag);
  return el('table', { className: 'data-table' }, [el('caption', { text: caption }), thead, tbody]);
}
