#!/usr/bin/env node
// Fails when the TypeScript sources of src/ and webview/ import each other in a cycle, counting type-only
// imports too (ESLint's import-x/no-cycle, also in `npm run lint`, skips those). Part of `npm run lint`.
// Usage: node tools/check-import-cycles.js [folder...]   (default: src webview)
'use strict';
const fs = require('fs');
const path = require('path');
const ts = require('typescript');

const root = path.resolve(__dirname, '..');

/** Every .ts file under a folder. */
function sources(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** The file a relative specifier names (x.ts or x/index.ts), or undefined for packages and other files. */
function resolve(from, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (candidate.endsWith('.ts') && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Each file's imports (value and type-only, static and dynamic, `export … from` too). */
function importGraph(files) {
  const graph = new Map();
  for (const file of files) {
    const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    const targets = new Set();
    for (const imported of info.importedFiles) {
      const target = resolve(file, imported.fileName);
      if (target) targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(graph) {
  let index = 0;
  const indices = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const visit = (v) => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), indices.get(w)));
      }
    }
    if (low.get(v) !== indices.get(v)) return;
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return found;
}

/** One concrete loop through a component, for the message: a → b → … → a. */
function loopThrough(graph, component) {
  const members = new Set(component);
  const start = component[0];
  const previous = new Map([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (w === start) {
        const loop = [start];
        for (let u = v; u !== null && u !== start; u = previous.get(u)) loop.splice(1, 0, u);
        return [...loop, start];
      }
      if (members.has(w) && !previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return component;
}

function main() {
  const folders = process.argv.length > 2 ? process.argv.slice(2) : ['src', 'webview'];
  const files = folders.flatMap((folder) => sources(path.resolve(root, folder)));
  const graph = importGraph(files);
  const found = cycles(graph);
  const rel = (file) => path.relative(root, file);
  if (found.length === 0) {
    console.log(`import cycles: none among ${files.length} files of ${folders.join(', ')}`);
    return;
  }
  for (const component of found) {
    console.error(`import cycle (${component.length} files): ${loopThrough(graph, component).map(rel).join(' → ')}`);
  }
  console.error('Move the shared types or helpers into a module that both sides import (a leaf).');
  process.exitCode = 1;
}

main();
