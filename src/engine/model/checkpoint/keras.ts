// Keras files: Keras 3 `.keras` archives (zip: config.json + model.weights.h5) and tf.keras legacy
// `.h5` files (`model_weights` group, `model_config` attribute). Their SimpleRNN, LSTM and GRU
// layers, also inside Bidirectional, become candidate modules with PyTorch names (spec section 3).
//
// Layouts (from Keras' own saving code, keras/src/saving/saving_lib.py and
// keras/src/legacy/saving/legacy_h5_format.py):
// - `.keras`: layer k of the model config is stored at `layers/<name>`, where <name> is the layer's
//   class name in snake_case with `_1`, `_2`, … counters per class, in the config's order (not the
//   user's layer name). A recurrent layer's variables sit in `<path>/cell/vars/0, 1, 2` (kernel,
//   recurrent_kernel, bias); a Bidirectional's in `<path>/forward_layer/cell/vars` and
//   `<path>/backward_layer/cell/vars`. Keras 2.13-2.15 wrote `_layer_checkpoint_dependencies`
//   instead of `layers`.
// - legacy `.h5`: the root attribute `model_config` (JSON), the group `model_weights` with the
//   attribute `layer_names` (split into `layer_names0`, `layer_names1`, … when large), and per layer
//   a group named like the layer with the attribute `weight_names`; each weight is the dataset at
//   `model_weights/<layer>/<weight name>` (`lstm/lstm_cell/kernel:0`).
import { formatShape, quote, utf8 } from './bytes';
import { convertKerasCell, type KerasRecurrentClass } from './convert';
import { openHdf5, type Hdf5Dataset, type Hdf5File, type Hdf5Group, type Hdf5Value } from './hdf5';
import { lazyTensor } from './tensor';
import {
  CheckpointError,
  DEFAULT_MAX_BYTES,
  type CheckpointContents,
  type CheckpointTensor,
  type ReadOptions,
  type RecurrentAttributes,
  type RecurrentModule,
} from './types';
import { looksLikeZip, openZip } from './zip';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One layer entry of a model config. */
interface LayerConfig {
  className: string;
  config: Record<string, Json>;
  /** The names of the layers this one reads from (functional models), in order. */
  inbound: string[];
}

/** The weights of one direction of a recurrent layer, by role. */
interface CellWeights {
  kernel: CheckpointTensor;
  recurrentKernel: CheckpointTensor;
  bias?: CheckpointTensor;
  /** The names these weights have in the file, for `tensors` and messages. */
  names: string[];
}

/** A recurrent layer of the config, with its weights located. */
interface RecurrentLayer {
  /** The name `module` selects it by (Keras 3: snake_case weight path name; legacy: layer name). */
  name: string;
  /** The user's layer name from the config. */
  layerName: string;
  cls: KerasRecurrentClass;
  units: number;
  resetAfter: boolean;
  nonlinearity: 'tanh' | 'relu';
  useBias: boolean;
  bidirectional: boolean;
  returnSequences: boolean;
  directions: CellWeights[];
  unsupported: string[];
  inbound: string[];
}

const RECURRENT: Record<string, KerasRecurrentClass> = { LSTM: 'LSTM', GRU: 'GRU', SimpleRNN: 'SimpleRNN' };

/** Keras' naming.to_snake_case. */
export function kerasSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** A JSON value as text for messages (strings as they are, anything else as JSON). */
function text(v: Json | undefined, fallback = ''): string {
  if (v === undefined) return fallback;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An activation as configured: a string, or a serialized object (`{"class_name": …, "config": {"name": …}}`). */
function activationName(v: Json | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (isObject(v)) {
    if (isObject(v.config) && typeof v.config.name === 'string') return v.config.name;
    if (typeof v.class_name === 'string') return v.class_name;
  }
  return undefined;
}

/** The layer names a functional layer's `inbound_nodes` read from (Keras 3 and tf.keras formats). */
function inboundNames(nodes: Json | undefined): string[] {
  const out: string[] = [];
  const stack: { v: Json; depth: number }[] = nodes === undefined ? [] : [{ v: nodes, depth: 0 }];
  while (stack.length > 0 && out.length < 64) {
    const { v, depth } = stack.pop()!;
    if (depth > 16) continue;
    if (isObject(v)) {
      if (Array.isArray(v.keras_history) && typeof v.keras_history[0] === 'string') {
        out.push(v.keras_history[0]);
        continue;
      }
      for (const k of Object.keys(v).reverse()) stack.push({ v: v[k], depth: depth + 1 });
    } else if (Array.isArray(v)) {
      // tf.keras: [[["lstm", 0, 0, {}]]]
      if (typeof v[0] === 'string' && typeof v[1] === 'number') {
        out.push(v[0]);
        continue;
      }
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], depth: depth + 1 });
    }
  }
  return out;
}

/** The layers of a model config (Sequential or Functional). */
function configLayers(config: Json, file: string): LayerConfig[] {
  if (!isObject(config)) throw new CheckpointError('corrupt', file, 'model config', 'is not a JSON object');
  const inner = isObject(config.config) ? config.config : undefined;
  const layers = inner?.layers;
  if (!Array.isArray(layers)) {
    throw new CheckpointError(
      'unsupported',
      file,
      'model config',
      `a ${text(config.class_name, 'model')} without a "layers" list is not read (Sequential and Functional models are)`,
    );
  }
  return layers.filter(isObject).map((l) => ({
    className: typeof l.class_name === 'string' ? l.class_name : '',
    config: isObject(l.config) ? l.config : {},
    inbound: inboundNames(l.inbound_nodes),
  }));
}

function parseJson(text: string, file: string, part: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw new CheckpointError(
      'corrupt',
      file,
      part,
      `is not valid JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

/** A string attribute (scalar) or the joined chunks `NAME0`, `NAME1`, … Keras writes when large. */
function stringListAttribute(node: Hdf5Group, name: string): string[] | undefined {
  const direct = node.attribute(name);
  if (direct) return direct.values.map(String);
  const out: string[] = [];
  for (let k = 0; node.attributeNames().includes(`${name}${k}`); k++)
    out.push(...node.attribute(`${name}${k}`)!.values.map(String));
  return out.length > 0 ? out : undefined;
}

function scalarString(v: Hdf5Value | undefined): string | undefined {
  return v && v.values.length === 1 && typeof v.values[0] === 'string' ? v.values[0] : undefined;
}

/** Checks a recurrent layer's config; returns what is unsupported, naming each attribute. */
function checkLayer(
  cls: KerasRecurrentClass,
  cfg: Record<string, Json>,
  label: string,
  inBidirectional: boolean,
): { unsupported: string[]; nonlinearity: 'tanh' | 'relu' } {
  const unsupported: string[] = [];
  let nonlinearity: 'tanh' | 'relu' = 'tanh';
  const act = activationName(cfg.activation) ?? 'tanh';
  if (cls === 'SimpleRNN') {
    if (act === 'relu') nonlinearity = 'relu';
    else if (act !== 'tanh') unsupported.push(`${label}: activation ${quote(act)} is not supported (tanh or relu)`);
  } else {
    if (act !== 'tanh') unsupported.push(`${label}: activation ${quote(act)} is not supported (only tanh)`);
    const rec = activationName(cfg.recurrent_activation) ?? 'sigmoid';
    if (rec !== 'sigmoid')
      unsupported.push(`${label}: recurrent_activation ${quote(rec)} is not supported (only sigmoid)`);
  }
  if (cfg.go_backwards === true && !inBidirectional)
    unsupported.push(`${label}: go_backwards = true outside Bidirectional is not supported`);
  return { unsupported, nonlinearity };
}

/** Reads the (kernel, recurrent_kernel, bias) of one cell from a Keras 3 `vars` group. */
function varsWeights(h5: Hdf5File, path: string, useBias: boolean, file: string): CellWeights {
  const candidates = [`${path}/cell/vars`, `${path}/vars`];
  for (const p of candidates) {
    const g = h5.get(p);
    if (!g || g.kind !== 'group' || !g.names().includes('0')) continue;
    const ds = (k: string): Hdf5Dataset => {
      const d = g.get(k);
      if (!d || d.kind !== 'dataset') throw new CheckpointError('missing', file, `${p}/${k}`, 'variable is missing');
      return d;
    };
    const kernel = ds('0');
    const recurrent = ds('1');
    const bias = useBias && g.names().includes('2') ? ds('2') : undefined;
    return {
      kernel: lazyDataset(kernel),
      recurrentKernel: lazyDataset(recurrent),
      bias: bias ? lazyDataset(bias) : undefined,
      names: [`${p}/0`, `${p}/1`, ...(bias ? [`${p}/2`] : [])],
    };
  }
  throw new CheckpointError('missing', file, path, `no variables at ${candidates.map(quote).join(' or ')}`);
}

function lazyDataset(d: Hdf5Dataset): CheckpointTensor {
  if (d.type.class !== 'float' && d.type.class !== 'int') {
    throw new CheckpointError('unsupported', '', d.path, 'weights are not numeric');
  }
  const dtype =
    d.type.class === 'float' ? (d.type.size === 8 ? 'float64' : d.type.size === 4 ? 'float32' : 'float16') : 'float64';
  return lazyTensor(d.shape.slice(), dtype, () => d.read().data);
}

/** Reads a legacy layer group's weights by their `weight_names`, split into forward/backward. */
function legacyWeights(
  h5: Hdf5File,
  layerName: string,
  file: string,
  bidirectional: boolean,
  useBias: boolean,
): CellWeights[] {
  const group = h5.get(`model_weights/${layerName}`);
  if (!group || group.kind !== 'group')
    throw new CheckpointError('missing', file, `model_weights/${layerName}`, 'no weights group for the layer');
  const names = stringListAttribute(group, 'weight_names') ?? [];
  const byDirection: Map<string, Hdf5Dataset>[] = bidirectional
    ? [new Map<string, Hdf5Dataset>(), new Map<string, Hdf5Dataset>()]
    : [new Map<string, Hdf5Dataset>()];
  names.forEach((n, i) => {
    const d = h5.get(`model_weights/${layerName}/${n}`);
    if (!d || d.kind !== 'dataset')
      throw new CheckpointError(
        'missing',
        file,
        `model_weights/${layerName}/${n}`,
        'weight named in weight_names is missing',
      );
    const role = n.replace(/:\d+$/, '').split('/').pop() ?? '';
    const backward =
      bidirectional &&
      (n.includes('/backward_') || (!names.some((x) => x.includes('/backward_')) && i >= names.length / 2));
    byDirection[backward ? 1 : 0].set(role, d);
  });
  return byDirection.map((m, dir) => {
    const need = (role: string): Hdf5Dataset => {
      const d = m.get(role);
      if (!d)
        throw new CheckpointError(
          'missing',
          file,
          `model_weights/${layerName}`,
          `no ${dir === 1 ? 'backward ' : ''}${role} in weight_names`,
        );
      return d;
    };
    const kernel = need('kernel');
    const recurrent = need('recurrent_kernel');
    const bias = useBias ? m.get('bias') : undefined;
    return {
      kernel: lazyDataset(kernel),
      recurrentKernel: lazyDataset(recurrent),
      bias: bias ? lazyDataset(bias) : undefined,
      names: [kernel.path, recurrent.path, ...(bias ? [bias.path] : [])].map((p) =>
        p.replace(/^\/model_weights\//, ''),
      ),
    };
  });
}

/** Finds the recurrent layers of a config and their weights. */
function recurrentLayers(
  layers: LayerConfig[],
  file: string,
  locate: (layer: LayerConfig, weightName: string, bidirectional: boolean, useBias: boolean) => CellWeights[],
  keras3: boolean,
): RecurrentLayer[] {
  const out: RecurrentLayer[] = [];
  const used = new Map<string, number>();
  for (const layer of layers) {
    const snake = kerasSnakeCase(layer.className);
    const count = used.get(snake);
    used.set(snake, count === undefined ? 0 : count + 1);
    const weightName = count === undefined ? snake : `${snake}_${count + 1}`;
    const layerName = typeof layer.config.name === 'string' ? layer.config.name : weightName;
    let inner: LayerConfig | undefined;
    let bidirectional = false;
    const unsupported: string[] = [];
    const name = keras3 ? weightName : layerName;
    if (layer.className === 'Bidirectional') {
      const l = layer.config.layer;
      if (!isObject(l) || typeof l.class_name !== 'string' || !RECURRENT[l.class_name]) continue;
      inner = { className: l.class_name, config: isObject(l.config) ? l.config : {}, inbound: [] };
      bidirectional = true;
      const mode = layer.config.merge_mode ?? 'concat';
      if (mode !== 'concat')
        unsupported.push(
          `Bidirectional layer ${quote(name)}: merge_mode ${quote(text(mode))} is not supported (only concat)`,
        );
      const back = layer.config.backward_layer;
      if (isObject(back) && isObject(back.config)) {
        if (back.class_name !== l.class_name)
          unsupported.push(
            `Bidirectional layer ${quote(name)}: a backward ${text(back.class_name)} with a forward ${l.class_name} is not supported`,
          );
        if (back.config.go_backwards !== true)
          unsupported.push(
            `Bidirectional layer ${quote(name)}: backward_layer without go_backwards = true is not supported`,
          );
        const forwardUnits = isObject(l.config) ? l.config.units : undefined;
        if (back.config.units !== forwardUnits)
          unsupported.push(`Bidirectional layer ${quote(name)}: forward and backward units differ`);
      }
    } else if (RECURRENT[layer.className]) {
      inner = layer;
    } else continue;
    const cls = RECURRENT[inner.className];
    const cfg = inner.config;
    const label = `${layer.className} layer ${quote(name)}`;
    const checked = checkLayer(cls, cfg, label, bidirectional);
    if (bidirectional && cfg.go_backwards === true)
      unsupported.push(`${label}: the forward layer has go_backwards = true`);
    unsupported.push(...checked.unsupported);
    const units = typeof cfg.units === 'number' && Number.isSafeInteger(cfg.units) && cfg.units > 0 ? cfg.units : 0;
    if (!units)
      throw new CheckpointError('corrupt', file, `layer ${quote(layerName)}`, 'config has no positive integer "units"');
    const useBias = cfg.use_bias !== false;
    const directions = locate(layer, weightName, bidirectional, useBias);
    const gates = cls === 'LSTM' ? 4 : cls === 'GRU' ? 3 : 1;
    const G = gates * units;
    let resetAfter = cls === 'GRU' ? cfg.reset_after !== false : false;
    directions.forEach((w, d) => {
      const where = `${label}${d === 1 ? ' (backward)' : ''}`;
      const k = w.kernel.shape;
      const r = w.recurrentKernel.shape;
      if (k.length !== 2 || k[1] !== G)
        throw new CheckpointError('corrupt', file, where, `kernel ${formatShape(k)} should be [input, ${G}]`);
      if (r.length !== 2 || r[0] !== units || r[1] !== G)
        throw new CheckpointError(
          'corrupt',
          file,
          where,
          `recurrent_kernel ${formatShape(r)} should be ${formatShape([units, G])}`,
        );
      if (w.bias) {
        const b = w.bias.shape;
        if (cls === 'GRU' && cfg.reset_after === undefined) resetAfter = b.length === 2;
        const want = cls === 'GRU' && resetAfter ? [2, G] : [G];
        if (b.length !== want.length || b.some((x, i) => x !== want[i]))
          throw new CheckpointError('corrupt', file, where, `bias ${formatShape(b)} should be ${formatShape(want)}`);
      }
    });
    out.push({
      name,
      layerName,
      cls,
      units,
      resetAfter,
      nonlinearity: checked.nonlinearity,
      useBias,
      bidirectional,
      returnSequences: cfg.return_sequences === true,
      directions,
      unsupported,
      inbound: layer.inbound,
    });
  }
  return out;
}

/** Groups recurrent layers into stacks: consecutive layers, each reading the previous one's sequence output. */
function stacks(layers: RecurrentLayer[], configOrder: LayerConfig[]): RecurrentLayer[][] {
  const order = new Map<string, number>();
  configOrder.forEach((l, i) => {
    if (typeof l.config.name === 'string') order.set(l.config.name, i);
  });
  const chains: RecurrentLayer[][] = [];
  for (const layer of layers) {
    const last = chains.length > 0 ? chains[chains.length - 1] : undefined;
    const prev = last?.[last.length - 1];
    const adjacent =
      prev !== undefined &&
      (layer.inbound.length > 0
        ? layer.inbound.length === 1 && layer.inbound[0] === prev.layerName
        : order.get(layer.layerName) === (order.get(prev.layerName) ?? -2) + 1);
    const same =
      prev !== undefined &&
      prev.returnSequences &&
      prev.cls === layer.cls &&
      prev.units === layer.units &&
      prev.bidirectional === layer.bidirectional &&
      prev.nonlinearity === layer.nonlinearity &&
      prev.resetAfter === layer.resetAfter &&
      prev.useBias === layer.useBias;
    if (adjacent && same) last!.push(layer);
    else chains.push([layer]);
  }
  return chains;
}

function toModules(chains: RecurrentLayer[][]): { modules: RecurrentModule[]; tensors: Map<string, CheckpointTensor> } {
  const all = new Map<string, CheckpointTensor>();
  const modules = chains.map((chain) => {
    const first = chain[0];
    const tensors = new Map<string, CheckpointTensor>();
    chain.forEach((layer, k) => {
      layer.directions.forEach((w, d) => {
        w.names.forEach((n, i) => all.set(n, [w.kernel, w.recurrentKernel, w.bias!][i]));
        const suffix = `_l${k}${d === 1 ? '_reverse' : ''}`;
        const input = w.kernel.shape[0];
        const H = layer.units;
        const G = w.kernel.shape[1];
        let cached: ReturnType<typeof convertKerasCell> | undefined;
        const get = () =>
          (cached ??= convertKerasCell(
            layer.cls,
            layer.resetAfter,
            H,
            input,
            w.kernel.data,
            w.recurrentKernel.data,
            w.bias?.data,
          ));
        tensors.set(
          `weight_ih${suffix}`,
          lazyTensor([G, input], w.kernel.dtype, () => get().weightIh),
        );
        tensors.set(
          `weight_hh${suffix}`,
          lazyTensor([G, H], w.recurrentKernel.dtype, () => get().weightHh),
        );
        if (w.bias) {
          tensors.set(
            `bias_ih${suffix}`,
            lazyTensor([G], w.bias.dtype, () => get().biasIh!),
          );
          if (layer.cls === 'GRU' && layer.resetAfter)
            tensors.set(
              `bias_hh${suffix}`,
              lazyTensor([G], w.bias.dtype, () => get().biasHh!),
            );
        }
      });
    });
    const attributes: RecurrentAttributes = {
      mode: first.cls === 'SimpleRNN' ? (first.nonlinearity === 'relu' ? 'RNN_RELU' : 'RNN_TANH') : first.cls,
      input_size: first.directions[0].kernel.shape[0],
      hidden_size: first.units,
      num_layers: chain.length,
      bias: first.useBias,
      bidirectional: first.bidirectional,
    };
    if (first.cls === 'SimpleRNN') attributes.nonlinearity = first.nonlinearity;
    if (first.cls === 'GRU') attributes.gru_reset = first.resetAfter ? 'after' : 'before';
    const m: RecurrentModule = {
      name: first.name,
      origin: 'keras-layer',
      attributes,
      tensors,
      members: chain.map((l) => l.name),
      unsupported: chain.flatMap((l) => l.unsupported),
    };
    return m;
  });
  return { modules, tensors: all };
}

/** Reads a Keras 3 `.keras` archive. */
function readKerasArchive(
  bytes: Uint8Array,
  file: string,
  maxBytes: number,
  verifyCrc: boolean | undefined,
): CheckpointContents {
  const zip = openZip(bytes, { fileName: file, maxBytes, verifyCrc });
  if (!zip.has('config.json')) throw new CheckpointError('corrupt', file, '', 'a .keras archive without config.json');
  const weightsName = zip.has('model.weights.h5') ? 'model.weights.h5' : undefined;
  if (!weightsName) {
    const other = zip.entries.find(
      (e) => e.name.endsWith('.npz') || (e.name.endsWith('.json') && e.name.includes('weights')),
    );
    throw new CheckpointError(
      'unsupported',
      file,
      '',
      `no model.weights.h5 in the archive${other ? ` (${quote(other.name)} is not read)` : ''}`,
    );
  }
  const config = parseJson(utf8(zip.read('config.json'), file, 'config.json'), file, 'config.json');
  const layers = configLayers(config, file);
  const h5 = openHdf5(zip.read(weightsName), { fileName: `${file}: ${weightsName}`, maxBytes });
  const root = h5.get('layers')
    ? 'layers'
    : h5.get('_layer_checkpoint_dependencies')
      ? '_layer_checkpoint_dependencies'
      : 'layers';
  const found = recurrentLayers(
    layers,
    file,
    (layer, weightName, bidirectional, useBias) => {
      const path = `${root}/${weightName}`;
      if (!h5.get(path))
        throw new CheckpointError(
          'missing',
          file,
          `${weightsName}: ${path}`,
          `no weights for layer ${quote(text(layer.config.name, weightName))}`,
        );
      return bidirectional
        ? [
            varsWeights(h5, `${path}/forward_layer`, useBias, file),
            varsWeights(h5, `${path}/backward_layer`, useBias, file),
          ]
        : [varsWeights(h5, path, useBias, file)];
    },
    true,
  );
  const { modules, tensors } = toModules(stacks(found, layers));
  return {
    format: 'keras',
    tensors,
    modules,
    meta: {},
    notes: ['Keras 3 archive: layers are named by class in snake_case with _1, _2 counters'],
  };
}

/** Reads a tf.keras legacy `.h5` file. */
function readKerasLegacy(bytes: Uint8Array, file: string, maxBytes: number): CheckpointContents {
  const h5 = openHdf5(bytes, { fileName: file, maxBytes });
  const configText = scalarString(h5.root.attribute('model_config'));
  const weights = h5.get('model_weights');
  if (!configText || !weights || weights.kind !== 'group') {
    const hasLayers = h5.root.attributeNames().includes('layer_names') || h5.get('layers') !== undefined;
    throw new CheckpointError(
      'unsupported',
      file,
      '',
      hasLayers
        ? 'a weights-only Keras file (model.save_weights) has no model config; save the whole model with model.save("model.keras")'
        : 'not a Keras model file (no model_config attribute and model_weights group)',
    );
  }
  const layers = configLayers(parseJson(configText, file, 'model_config'), file);
  const found = recurrentLayers(
    layers,
    file,
    (_layer, _w, bidirectional, useBias) => legacyWeights(h5, text(_layer.config.name), file, bidirectional, useBias),
    false,
  );
  const { modules, tensors } = toModules(stacks(found, layers));
  const notes: string[] = [];
  const version = scalarString(h5.root.attribute('keras_version'));
  if (version) notes.push(`saved by Keras ${version}`);
  return { format: 'keras', tensors, modules, meta: {}, notes };
}

/**
 * Reads a Keras file: a Keras 3 `.keras` zip or a tf.keras legacy HDF5 `.h5`. Candidate modules
 * are stacks of SimpleRNN/LSTM/GRU layers (also inside Bidirectional), with PyTorch names.
 */
export function readKeras(bytes: Uint8Array, options: ReadOptions = {}): CheckpointContents {
  const file = options.fileName ?? 'model.keras';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  return looksLikeZip(bytes)
    ? readKerasArchive(bytes, file, maxBytes, options.verifyCrc)
    : readKerasLegacy(bytes, file, maxBytes);
}
