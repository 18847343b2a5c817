// parseModel: golden models, every class of wrong input (fixtures), and the data forms.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import { parseModel, type ParseResult } from '../../../../src/engine/model/parse';
import { formatPath, type ModelProblem } from '../../../../src/engine/model/problems';
import { loadModelFile } from '../../../../src/io/loadModel';
import { REPO_ROOT } from '../../helpers/cli';

const root = REPO_ROOT;
const golden = path.join(root, 'test/fixtures/golden');
const invalid = path.join(root, 'test/fixtures/invalid');

function parse(model: unknown): ParseResult {
  return parseModel(JSON.stringify(model, null, 1));
}

function errors(result: ParseResult): ModelProblem[] {
  return result.problems.filter((p) => p.severity === 'error');
}

/** A small valid rnn: I=2, H=2. */
function base(): Record<string, any> {
  return {
    weights: {
      weight_ih_l0: [
        [0.1, 0.2],
        [0.3, 0.4],
      ],
      weight_hh_l0: [
        [0.5, 0],
        [0, 0.5],
      ],
    },
    data: {
      inputs: [
        [
          [1, 2],
          [3, 4],
        ],
      ],
    },
  };
}

/** The text the problem's range covers. */
function slice(text: string, p: ModelProblem): string {
  return text.slice(p.range.offset, p.range.offset + p.range.length);
}

/** The key's text and the value's text at `keyPath` in `text`. */
function keyAndValueText(text: string, keyPath: (string | number)[]): string[] {
  const tree = parseTree(text, [], { allowTrailingComma: true });
  if (!tree) return [];
  const node = findNodeAtLocation(tree, keyPath);
  if (!node) return [];
  const out = [text.slice(node.offset, node.offset + node.length)];
  const parent = node.parent;
  if (parent?.type === 'property' && parent.children?.[0]) {
    const key = parent.children[0];
    out.push(text.slice(key.offset, key.offset + key.length));
  }
  return out;
}

describe('parseModel: golden models', () => {
  const expected: Record<string, object> = {
    'rnn-tanh.rnn.json': {
      cell: 'rnn',
      form: 'elman',
      inputSize: 2,
      hiddenSize: 4,
      numLayers: 1,
      outputSize: 2,
      loss: 'mse',
      lengths: [12, 9],
    },
    'rnn-pascanu.rnn.json': {
      cell: 'rnn',
      form: 'pascanu',
      inputSize: 2,
      hiddenSize: 4,
      numLayers: 1,
      outputSize: 4,
      loss: 'sum',
      lengths: [15],
    },
    'lstm.rnn.json': {
      cell: 'lstm',
      form: 'elman',
      inputSize: 2,
      hiddenSize: 3,
      numLayers: 2,
      outputSize: 3,
      loss: 'cross_entropy',
      lengths: [10, 7],
    },
    'gru.rnn.json': {
      cell: 'gru',
      form: 'elman',
      inputSize: 3,
      hiddenSize: 4,
      numLayers: 1,
      outputSize: 4,
      loss: 'mse',
      lengths: [11],
    },
  };
  for (const [file, want] of Object.entries(expected)) {
    it(`${file} parses into the expected sizes`, () => {
      const text = fs.readFileSync(path.join(golden, file), 'utf8');
      const result = parseModel(text);
      assert.deepStrictEqual(result.problems, []);
      const m = result.model!;
      assert.deepStrictEqual(
        {
          cell: m.cell,
          form: m.form,
          inputSize: m.inputSize,
          hiddenSize: m.hiddenSize,
          numLayers: m.numLayers,
          outputSize: m.outputSize,
          loss: m.loss,
          lengths: m.sequences.map((s) => s.length),
        },
        want,
      );
      const json = JSON.parse(text);
      const g = { rnn: 1, lstm: 4, gru: 3 }[m.cell];
      m.layers.forEach((layer, k) => {
        assert.strictEqual(layer.weightHh.rows, g * m.hiddenSize);
        assert.strictEqual(layer.weightIh.cols, k === 0 ? m.inputSize : m.hiddenSize);
        assert.strictEqual(layer.weightHh.data[1], json.weights[`weight_hh_l${k}`][0][1]);
      });
      m.sequences.forEach((s, b) => {
        assert.strictEqual(s.inputs.length, s.length * m.inputSize);
        assert.strictEqual(s.inputs[m.inputSize], json.data.inputs[b][1][0]);
        if (m.loss === 'mse') assert.strictEqual(s.targets!.length, s.length * m.outputSize);
        if (m.loss === 'cross_entropy') assert.deepStrictEqual(Array.from(s.targets!), json.data.targets[b]);
      });
    });
  }
});

describe('parseModel: wrong input (test/fixtures/invalid)', () => {
  const expected: Record<string, { path: (string | number)[]; message_contains: string }> = JSON.parse(
    fs.readFileSync(path.join(invalid, 'expected.json'), 'utf8'),
  );
  for (const [file, want] of Object.entries(expected)) {
    it(`${file}: ${formatPath(want.path) || 'syntax'} — ${want.message_contains}`, () => {
      const text = fs.readFileSync(path.join(invalid, file), 'utf8');
      const result = loadModelFile(text, path.join(invalid, file), invalid);
      assert.strictEqual(result.model, undefined);
      const problem = errors(result).find(
        (p) => JSON.stringify(p.path) === JSON.stringify(want.path) && p.message.includes(want.message_contains),
      );
      assert.ok(problem, `no problem at ${JSON.stringify(want.path)}; got ${JSON.stringify(result.problems)}`);
      if (want.path.length > 0) {
        assert.ok(problem.message.startsWith(`${formatPath(want.path)}: `), problem.message);
        const candidates = keyAndValueText(text, want.path);
        if (candidates.length > 0) {
          assert.ok(candidates.includes(slice(text, problem)), `range covers ${JSON.stringify(slice(text, problem))}`);
        } else {
          // a missing key: the problem sits on the enclosing object's first character
          assert.strictEqual(slice(text, problem), '{');
        }
      } else {
        assert.ok(problem.range.offset >= 0 && problem.range.offset <= text.length);
      }
      // no cascade: one problem per fixture
      assert.strictEqual(
        errors(result).length,
        file.startsWith('weight-name-typo') ? 2 : 1,
        JSON.stringify(result.problems),
      );
    });
  }
});

describe('parseModel: specific wrong input', () => {
  it('reports the spec example message for a wrong weight_hh shape', () => {
    const m = base();
    m.weights.weight_hh_l0 = [
      [0.5, 0, 0, 0, 0],
      [0, 0.5, 0, 0, 0],
      [0, 0, 0.5, 0, 0],
      [0, 0, 0, 0.5, 0],
    ];
    m.weights.weight_ih_l0 = [
      [1, 2],
      [1, 2],
      [1, 2],
      [1, 2],
    ];
    m.hidden_size = 4;
    m.cell = 'rnn';
    const text = JSON.stringify(m);
    const p = errors(parseModel(text));
    const shape = p.find((x) => x.path.join('.') === 'weights.weight_hh_l0')!;
    assert.ok(shape, JSON.stringify(p));
    assert.strictEqual(
      shape.message,
      'weights.weight_hh_l0: expected shape [4][4] (G·H × H, G=1 for rnn, H=4), got [4][5]',
    );
    assert.strictEqual(slice(text, shape), '"weight_hh_l0"');
  });

  it('collects several independent problems in one pass', () => {
    const m = base();
    m.cell = 'lstn';
    m.loss = 'l1';
    m.training = { clip_norm: 0 };
    const p = errors(parse(m));
    assert.deepStrictEqual(p.map((x) => x.path.join('.')).sort(), ['cell', 'loss', 'training.clip_norm']);
  });

  it('accepts comments and trailing commas (JSONC)', () => {
    const text =
      '// a model\n{ "weights": { "weight_ih_l0": [[1, 2],], "weight_hh_l0": [[0.5],], /* recurrent */ },\n "data": { "inputs": [[1, 2], [3, 4],], }, }';
    const result = parseModel(text);
    assert.deepStrictEqual(result.problems, []);
    assert.strictEqual(result.model!.hiddenSize, 1);
  });

  it('places a syntax error at its offset', () => {
    const text = '{ "data": { "inputs": [[1, 2] [3, 4]] } }';
    const p = parseModel(text).problems;
    assert.strictEqual(p[0].path.length, 0);
    assert.ok(p[0].message.startsWith('syntax error'));
    assert.strictEqual(text.slice(p[0].range.offset, p[0].range.offset + 1), '[');
  });

  it('reports non-finite numbers in data on the element', () => {
    const text = '{"weights": {"weight_ih_l0": [[1]], "weight_hh_l0": [[1]]}, "data": {"inputs": [[[1], [-1e999]]]}}';
    const p = errors(parseModel(text));
    assert.deepStrictEqual(
      p.map((x) => x.path),
      [['data', 'inputs', 0, 1, 0]],
    );
    assert.strictEqual(slice(text, p[0]), '-1e999');
  });

  it('reports a weights path with no loader on the path string', () => {
    const m = base();
    m.weights = 'w.safetensors';
    m.hidden_size = 2;
    const text = JSON.stringify(m);
    const p = errors(parseModel(text));
    assert.strictEqual(p.length, 1);
    assert.deepStrictEqual(p[0].path, ['weights']);
    assert.strictEqual(slice(text, p[0]), '"w.safetensors"');
  });

  it('turns a loader error into a problem on the weights value', () => {
    const m = base();
    m.weights = 'w.safetensors';
    const text = JSON.stringify(m);
    const p = errors(parseModel(text, { loadWeightsFile: () => ({ error: 'weights: nope' }) }));
    assert.deepStrictEqual(
      p.map((x) => x.message),
      ['weights: nope'],
    );
  });

  it('limits the number of element problems inside one tensor', () => {
    const m = base();
    m.weights.weight_hh_l0 = [Array(50).fill('x'), Array(50).fill('x')];
    const p = errors(parse(m));
    assert.ok(p.length <= 7, `${p.length} problems`);
    assert.ok(p.some((x) => x.message.includes('more wrong element')));
  });

  it('reports an empty weights object on its key', () => {
    const text = '{"weights": {}, "data": {"inputs": [[1]]}}';
    const p = errors(parseModel(text));
    assert.deepStrictEqual(
      p.map((x) => x.path),
      [['weights']],
    );
    assert.strictEqual(slice(text, p[0]), '"weights"');
  });

  it('never returns neither a model nor an error', () => {
    for (const text of [
      '',
      '{}',
      '{"data": {}}',
      '{"init": {}, "data": {"inputs": [[1]]}}',
      '{"weights": "x", "data": 1}',
    ]) {
      const r = parseModel(text);
      assert.ok(r.model || errors(r).length > 0, text);
    }
  });

  it('needs weights or init, and data', () => {
    assert.ok(errors(parse({ data: { inputs: [[1]] } })).some((p) => p.path.join() === 'weights'));
  });

  it('a misspelt key gives exactly one error, its "did you mean", not the missing key\'s consequences', () => {
    const irnn = {
      cell: 'rnn',
      input_size: 2,
      hidden_size: 16,
      init: { scheme: 'identity', seed: 5 },
      data: { generate: { sequences: 4, length: 10, seed: 5 } },
    };
    const rename = (o: Record<string, unknown>, from: string, to: string): Record<string, unknown> =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k === from ? to : k, v]));
    for (const [from, to] of [
      ['hidden_size', 'hiddn_size'],
      ['input_size', 'inptu_size'],
      ['data', 'dta'],
    ]) {
      const errs = errors(parse(rename(irnn, from, to)));
      assert.deepStrictEqual(
        errs.map((e) => e.message.split(';')[0]),
        [`${to}: unknown key (did you mean "${from}"?)`],
        JSON.stringify(errs.map((e) => e.message)),
      );
    }
    const lengt = { ...irnn, data: { generate: { sequences: 4, lengt: 10 } } };
    assert.deepStrictEqual(
      errors(parse(lengt)).map((e) => e.message.split(';')[0]),
      ['data.generate.lengt: unknown key (did you mean "length"?)'],
    );
    // Without a close known key, or with the known key also present, the missing key is still reported on its own.
    const far = errors(parse(rename(irnn, 'hidden_size', 'width')));
    assert.ok(
      far.some((e) => /needs hidden_size/.test(e.message)),
      JSON.stringify(far),
    );
    const both = errors(parse({ ...irnn, hiddn_size: 3 }));
    assert.deepStrictEqual(
      both.map((e) => e.message.split(';')[0]),
      ['hiddn_size: unknown key (did you mean "hidden_size"?)'],
    );
  });
});

describe('parseModel: data forms', () => {
  it('accepts a single sequence [T][I] (shorthand)', () => {
    const m = base();
    m.data = {
      inputs: [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      targets: [
        [0.1, 0.2],
        [0.3, 0.4],
        [0.5, 0.6],
      ],
    };
    const model = parse(m).model!;
    assert.strictEqual(model.sequences.length, 1);
    assert.strictEqual(model.sequences[0].length, 3);
    assert.deepStrictEqual(Array.from(model.sequences[0].inputs), [1, 2, 3, 4, 5, 6]);
    assert.deepStrictEqual(Array.from(model.sequences[0].targets!), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    assert.strictEqual(model.loss, 'mse');
  });

  it('accepts sequences of different lengths (ragged batch)', () => {
    const m = base();
    m.data = {
      inputs: [
        [[1, 2]],
        [
          [3, 4],
          [5, 6],
          [7, 8],
        ],
      ],
    };
    const model = parse(m).model!;
    assert.deepStrictEqual(
      model.sequences.map((s) => s.length),
      [1, 3],
    );
    assert.deepStrictEqual(Array.from(model.sequences[1].inputs), [3, 4, 5, 6, 7, 8]);
    assert.strictEqual(model.loss, 'sum');
  });

  it('transposes time_first inputs and targets', () => {
    const m = base();
    // T=3, B=2, I=2: inputs[t][b] = [10t + b, -(10t + b)]
    const inputs = [0, 1, 2].map((t) => [0, 1].map((b) => [10 * t + b, -(10 * t + b)]));
    m.loss = 'cross_entropy';
    m.data = {
      layout: 'time_first',
      inputs,
      targets: [
        [0, 1],
        [1, 1],
        [0, 0],
      ],
    };
    const model = parse(m).model!;
    assert.strictEqual(model.sequences.length, 2);
    assert.deepStrictEqual(Array.from(model.sequences[1].inputs), [1, -1, 11, -11, 21, -21]);
    assert.deepStrictEqual(Array.from(model.sequences[0].targets!), [0, 1, 0]);
    assert.deepStrictEqual(Array.from(model.sequences[1].targets!), [1, 1, 0]);
  });

  it('requires time_first targets to follow the layout', () => {
    const m = base();
    m.data = {
      layout: 'time_first',
      inputs: [
        [
          [1, 2],
          [3, 4],
        ],
        [
          [5, 6],
          [7, 8],
        ],
        [
          [9, 0],
          [1, 2],
        ],
      ],
      targets: [
        [
          [0, 0],
          [0, 0],
          [0, 0],
        ],
        [
          [0, 0],
          [0, 0],
          [0, 0],
        ],
      ],
    };
    const p = errors(parse(m));
    assert.deepStrictEqual(
      p.map((x) => x.path),
      [['data', 'targets']],
    );
    assert.ok(p[0].message.includes('2 time steps, but data.inputs has 3'));
  });

  it('accepts class indices bare or in one-element lists, D from the readout', () => {
    const m = base();
    m.readout = {
      weight: [
        [1, 0],
        [0, 1],
        [1, 1],
      ],
      bias: [0, 0, 0],
    };
    m.loss = 'cross_entropy';
    m.data = {
      inputs: [
        [
          [1, 2],
          [3, 4],
        ],
      ],
      targets: [[2, [1]]],
    };
    const model = parse(m).model!;
    assert.strictEqual(model.outputSize, 3);
    assert.deepStrictEqual(Array.from(model.sequences[0].targets!), [2, 1]);
    assert.deepStrictEqual(Array.from(model.readout!.bias), [0, 0, 0]);
    assert.strictEqual(model.readout!.weight.rows, 3);
  });

  it('uses the readout size for mse targets and zeros for an absent readout bias', () => {
    const m = base();
    m.readout = { weight: [[1, 0]] };
    m.data = {
      inputs: [
        [
          [1, 2],
          [3, 4],
        ],
      ],
      targets: [[[0.5], 0.25]],
    };
    const model = parse(m).model!;
    assert.strictEqual(model.outputSize, 1);
    assert.deepStrictEqual(Array.from(model.sequences[0].targets!), [0.5, 0.25]);
    assert.deepStrictEqual(Array.from(model.readout!.bias), [0]);
  });

  it('warns that loss sum ignores targets', () => {
    const m = base();
    m.loss = 'sum';
    m.data.targets = [
      [
        [0, 0],
        [0, 0],
      ],
    ];
    const result = parse(m);
    assert.ok(result.model);
    assert.deepStrictEqual(
      result.problems.map((p) => [p.severity, p.path.join('.')]),
      [['warning', 'data.targets']],
    );
  });

  it('reads training settings', () => {
    const m = base();
    m.training = { clip_norm: 1.5, clip_value: null, batch_size: 4 };
    m.name = 'x';
    m.$schema = './schemas/rnn-model.schema.json';
    const model = parse(m).model!;
    assert.deepStrictEqual(model.training, { clipNorm: 1.5, clipValue: null, batchSize: 4 });
    assert.strictEqual(model.name, 'x');
  });

  it('infers cells from gate counts and fills absent biases with zeros', () => {
    const lstm = parse({
      weights: { weight_ih_l0: [[1], [1], [1], [1]], weight_hh_l0: [[1], [1], [1], [1]] },
      data: { inputs: [[1]] },
    }).model!;
    assert.strictEqual(lstm.cell, 'lstm');
    assert.deepStrictEqual(Array.from(lstm.layers[0].biasIh), [0, 0, 0, 0]);
    const gru = parse({
      weights: { weight_ih_l0: [[1], [1], [1]], weight_hh_l0: [[1], [1], [1]] },
      data: { inputs: [[1]] },
    }).model!;
    assert.strictEqual(gru.cell, 'gru');
  });
});

describe('parseModel: version-2 architectures and data (checkpoints.md sections 2, 3)', () => {
  const I2 = [
    [0.1, 0.2],
    [0.3, 0.4],
  ];
  const H2 = [
    [0.5, 0],
    [0, 0.5],
  ];

  it('reads _reverse weights as a bidirectional stack, l0, l0 reverse, l1, …, layer 1 reading 2H', () => {
    const wide = [
      [0.1, 0.2, 0.3, 0.4],
      [0.5, 0.6, 0.7, 0.8],
    ];
    const m = base();
    m.weights = {
      weight_ih_l0: I2,
      weight_hh_l0: H2,
      weight_ih_l0_reverse: I2,
      weight_hh_l0_reverse: H2,
      weight_ih_l1: wide,
      weight_hh_l1: H2,
      weight_ih_l1_reverse: wide,
      weight_hh_l1_reverse: H2,
    };
    const model = parse(m).model!;
    assert.strictEqual(model.bidirectional, true);
    assert.strictEqual(model.numLayers, 2);
    assert.deepStrictEqual(
      model.layers.map((l) => [l.layer, l.direction, l.weightIh.cols]),
      [
        [0, 'forward', 2],
        [0, 'reverse', 2],
        [1, 'forward', 4],
        [1, 'reverse', 4],
      ],
    );
    assert.strictEqual(model.outputSize, 4);
    assert.deepStrictEqual(model.v2Features, ['bidirectional']);
  });

  it('reads LSTM projections from weight_hr (P from its rows, H from its columns) or proj_size', () => {
    const hh = Array.from({ length: 12 }, (_, i) => [0.01 * i]);
    const ih = Array.from({ length: 12 }, () => [0.1, 0.2]);
    const implicit = parse({
      weights: { weight_ih_l0: ih, weight_hh_l0: hh, weight_hr_l0: [[0.1, 0.2, 0.3]] },
      data: { inputs: [[[1, 2]]] },
    }).model!;
    assert.strictEqual(implicit.cell, 'lstm');
    assert.strictEqual(implicit.hiddenSize, 3);
    assert.strictEqual(implicit.projSize, 1);
    assert.strictEqual(implicit.outputSize, 1);
    assert.deepStrictEqual(implicit.layers[0].weightHr?.cols, 3);
    const explicit = parse({
      proj_size: 1,
      cell: 'lstm',
      hidden_size: 3,
      input_size: 2,
      init: { seed: 2 },
      data: { inputs: [[[1, 2]]] },
    }).model!;
    assert.strictEqual(explicit.layers[0].weightHh.cols, 1);
    assert.strictEqual(explicit.layers[0].weightHr?.rows, 1);
  });

  it('reads gru_reset, an embedding with data.tokens ([B][T], [T], time_first) and data.lengths', () => {
    const gru = {
      cell: 'gru',
      gru_reset: 'before',
      weights: {
        weight_ih_l0: Array.from({ length: 3 }, () => [0.1, 0.2]),
        weight_hh_l0: [[0.1], [0.2], [0.3]],
      },
      embedding: {
        weight: [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
      },
    };
    const batch = parse({
      ...gru,
      data: {
        tokens: [
          [0, 1, 2],
          [2, 2],
        ],
        lengths: [2, 1],
      },
    }).model!;
    assert.strictEqual(batch.gruReset, 'before');
    assert.deepStrictEqual(
      batch.sequences.map((s) => Array.from(s.tokens!)),
      [[0, 1], [2]],
    );
    assert.strictEqual(batch.sequences[0].inputs.length, 0);
    assert.deepStrictEqual(batch.v2Features, ['embedding', 'gru_reset', 'lengths', 'tokens']);
    const single = parse({ ...gru, data: { tokens: [2, 0, 1] } }).model!;
    assert.deepStrictEqual(Array.from(single.sequences[0].tokens!), [2, 0, 1]);
    const timeFirst = parse({
      ...gru,
      data: {
        layout: 'time_first',
        tokens: [
          [0, 1],
          [2, 0],
        ],
      },
    }).model!;
    assert.deepStrictEqual(
      timeFirst.sequences.map((s) => Array.from(s.tokens!)),
      [
        [0, 2],
        [1, 0],
      ],
    );
  });

  it('cuts inputs and targets at data.lengths; padding class indices (e.g. -100) are not checked', () => {
    const m = base();
    m.readout = {
      weight: [
        [1, 0],
        [0, 1],
        [1, 1],
      ],
      bias: [0, 0, 0],
    };
    m.loss = 'cross_entropy';
    m.data = {
      inputs: [
        [
          [1, 2],
          [3, 4],
          [9, 9],
        ],
        [
          [5, 6],
          [7, 8],
          [9, 9],
        ],
      ],
      targets: [
        [2, -100, -100],
        [1, 0, -100],
      ],
      lengths: [1, 2],
    };
    const result = parse(m);
    assert.deepStrictEqual(result.problems, []);
    const model = result.model!;
    assert.deepStrictEqual(
      model.sequences.map((s) => [s.length, Array.from(s.inputs), Array.from(s.targets!)]),
      [
        [1, [1, 2], [2]],
        [2, [5, 6, 7, 8], [1, 0]],
      ],
    );
    // A class index out of range on a real step is still an error.
    m.data.targets[1][1] = 3;
    assert.deepStrictEqual(
      errors(parse(m)).map((p) => p.path),
      [['data', 'targets', 1, 1]],
    );
  });

  it('a token id out of range on a padding step is ignored, on a real step it is an error naming data.tokens[b][t]', () => {
    const model = {
      cell: 'rnn',
      embedding: { weight: [[1], [2]] },
      weights: { weight_ih_l0: [[1]], weight_hh_l0: [[0.5]] },
      data: { tokens: [[0, 1, 7]], lengths: [2] },
    };
    assert.deepStrictEqual(errors(parse(model)), []);
    model.data.lengths = [3];
    const [problem] = errors(parse(model));
    assert.deepStrictEqual(problem.path, ['data', 'tokens', 0, 2]);
    assert.match(problem.message, /^data\.tokens\[0\]\[2\]: token id 7 is outside the vocabulary \[0, 2\)/);
  });

  it('a file without version-2 keys has no version-2 features', () => {
    assert.deepStrictEqual(parse(base()).model!.v2Features, []);
    assert.deepStrictEqual(parse(base()).model!.source, { format: 'json', module: '' });
  });
});
