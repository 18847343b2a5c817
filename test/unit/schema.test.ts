// schemas/rnn-model.schema.json: valid draft-07, describes every key, accepts every golden and example model.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';

const root = path.resolve(__dirname, '../../..');
const schema = JSON.parse(fs.readFileSync(path.join(root, 'schemas/rnn-model.schema.json'), 'utf8'));

function modelFiles(dir: string): string[] {
  const full = path.join(root, dir);
  if (!fs.existsSync(full)) return [];
  return fs
    .readdirSync(full)
    .filter((f) => f.endsWith('.rnn.json'))
    .map((f) => path.join(full, f));
}

/** Every property schema under `node` (properties and patternProperties), with its key path. */
function propertySchemas(node: any, at: string, out: [string, any][]): void {
  if (!node || typeof node !== 'object') return;
  for (const group of ['properties', 'patternProperties']) {
    for (const [k, v] of Object.entries(node[group] ?? {})) {
      out.push([`${at}.${k}`, v]);
      propertySchemas(v, `${at}.${k}`, out);
    }
  }
  for (const branch of node.oneOf ?? []) propertySchemas(branch, at, out);
}

describe('model JSON schema', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);

  it('has a description on every key', () => {
    const all: [string, any][] = [];
    propertySchemas(schema, '', all);
    assert.ok(all.length > 30);
    for (const [key, s] of all)
      assert.ok(typeof s.description === 'string' && s.description.length > 0, `no description: ${key}`);
  });

  // Version-2 fixtures with inline weights and data (the checkpoint- and file-backed ones, whose weights or data
  // are paths, are the checkpoint readers' part of the schema).
  const inlineV2 = modelFiles('test/fixtures/generated-v2').filter((file) => {
    const model = JSON.parse(fs.readFileSync(file, 'utf8'));
    return typeof model.weights !== 'string' && !Object.values(model.data ?? {}).some((v) => typeof v === 'string');
  });
  const files = [...modelFiles('test/fixtures/golden'), ...modelFiles('examples'), ...inlineV2];
  // Weights and data from files (checkpoints.md sections 1, 2 and 4): every checkpoint-backed fixture.
  const fileBacked = [
    ...modelFiles('test/fixtures/generated-v2').filter((f) => !inlineV2.includes(f)),
    ...modelFiles('test/fixtures/checkpoint-models'),
    ...modelFiles('examples/checkpoint'),
  ];

  it('covers the checkpoint-backed fixtures (module, prefixes, data files)', () => {
    assert.ok(fileBacked.length >= 25, `${fileBacked.length}`);
    const texts = fileBacked.map((f) => fs.readFileSync(f, 'utf8'));
    for (const key of ['"module"', '"readout": "', '.npy"', '.npz#', '.pt"', '.onnx"', '.keras"', '.h5"'])
      assert.ok(
        texts.some((t) => t.includes(key)),
        `no fixture with ${key}`,
      );
  });
  for (const file of fileBacked) {
    it(`accepts ${path.relative(root, file)}`, () => {
      const valid = validate(JSON.parse(fs.readFileSync(file, 'utf8')));
      assert.ok(valid, JSON.stringify(validate.errors));
    });
  }

  it('covers the version-2 fixtures with inline weights', () => {
    assert.ok(inlineV2.length >= 30, `${inlineV2.length}`);
  });
  for (const file of files) {
    it(`accepts ${path.relative(root, file)}`, () => {
      const valid = validate(JSON.parse(fs.readFileSync(file, 'utf8')));
      assert.ok(valid, JSON.stringify(validate.errors));
    });
  }

  it('rejects unknown keys, unknown weight names and wrong enums', () => {
    const base = { weights: { weight_ih_l0: [[1]], weight_hh_l0: [[1]] }, data: { inputs: [[1]] } };
    assert.ok(validate(base));
    assert.ok(!validate({ ...base, lr: 1 }));
    assert.ok(validate({ ...base, weights: { ...base.weights, weight_hh_l0_reverse: [[1]], weight_hr_l0: [[1]] } }));
    assert.ok(!validate({ ...base, weights: { ...base.weights, weight_hh_l0_backward: [[1]] } }));
    assert.ok(!validate({ ...base, weights: { ...base.weights, weight_hr_l0_rev: [[1]] } }));
    assert.ok(!validate({ ...base, gru_reset: 'middle' }));
    assert.ok(!validate({ ...base, proj_size: -1 }));
    assert.ok(!validate({ ...base, data: { inputs: [[1]], lengths: [0] } }));
    assert.ok(!validate({ ...base, data: { inputs: [[1]], tokens: [[1]] } }), 'inputs and tokens together');
    assert.ok(!validate({ ...base, embedding: { weight: [[1]], bias: [1] } }));
    assert.ok(
      validate({
        ...base,
        bidirectional: true,
        proj_size: 1,
        embedding: { weight: [[1], [2]] },
        data: { tokens: [[0, 1]], lengths: [1] },
      }),
    );
    assert.ok(!validate({ ...base, cell: 'lstn' }));
    assert.ok(
      validate({
        hidden_size: 2,
        init: { scheme: 'orthogonal', gain: 1 },
        data: { generate: { sequences: 1, length: 3 } },
      }),
    );
  });
});
