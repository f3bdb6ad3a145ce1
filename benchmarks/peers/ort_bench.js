// Times one ONNX model on ONNX Runtime (onnxruntime-node, CPU execution provider) and saves its outputs,
// for benchmarks/peers/compare.sh. Our own code; only the onnxruntime-node package is ORT's.
//
//   node ort_bench.js MODEL --threads N --min-time S --input NAME=FILE.npy [--input ...] --out DIR
// Prints one line of JSON: {"median_ms": ..., "min_ms": ..., "runs": ...}; writes DIR/<output>.npy.

const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function parseArgs(argv) {
  const a = { model: argv[0], threads: 1, minTime: 2, inputs: {}, out: '.' };
  for (let i = 1; i < argv.length; i += 2) {
    const flag = argv[i], value = argv[i + 1];
    if (value === undefined) throw new Error(`option ${flag} needs a value`);
    if (flag === '--threads') a.threads = parseInt(value, 10);
    else if (flag === '--min-time') a.minTime = parseFloat(value);
    else if (flag === '--out') a.out = value;
    else if (flag === '--input') {
      const eq = value.indexOf('=');
      if (eq <= 0) throw new Error(`--input expects NAME=FILE.npy, got ${value}`);
      a.inputs[value.slice(0, eq)] = value.slice(eq + 1);
    } else throw new Error(`unknown option ${flag}`);
  }
  return a;
}

// Minimal .npy (version 1-3, little-endian, C order) reader and writer: float32, uint8, int64, int32, bool.
const NPY_DESCR = { float32: '<f4', uint8: '|u1', int8: '|i1', int64: '<i8', int32: '<i4', bool: '|b1' };
function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.slice(0, 6).toString('latin1') !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const offset = major === 1 ? 10 : 12;
  const header = buf.slice(offset, offset + headerLen).toString('latin1');
  const descr = /'descr':\s*'([^']*)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const data = buf.slice(offset + headerLen);
  if (descr === '<f4') return { type: 'float32', shape, data: new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length)) };
  if (descr === '|u1' || descr === '<u1') return { type: 'uint8', shape, data: new Uint8Array(data) };
  const copy = () => data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
  if (descr === '<i8') return { type: 'int64', shape, data: new BigInt64Array(copy()) };
  if (descr === '<i4') return { type: 'int32', shape, data: new Int32Array(copy()) };
  if (descr === '|b1') return { type: 'bool', shape, data: new Uint8Array(data) };
  throw new Error(`${file}: unsupported dtype ${descr}`);
}

function writeNpy(file, tensor) {
  const shape = tensor.dims.join(', ') + (tensor.dims.length === 1 ? ',' : '');
  const descr = NPY_DESCR[tensor.type];
  if (!descr) throw new Error(`${file}: output type ${tensor.type} has no .npy writer here`);
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: a.threads,
    interOpNumThreads: 1, executionMode: 'sequential',
  });
  const feeds = {};
  for (const name of session.inputNames) {
    if (!a.inputs[name]) throw new Error(`model input '${name}' needs --input ${name}=FILE.npy`);
    const t = readNpy(a.inputs[name]);
    feeds[name] = new ort.Tensor(t.type, t.data, t.shape);
  }
  let outputs = await session.run(feeds);  // first run: warm-up, and the outputs we compare
  for (let i = 0; i < 5; ++i) await session.run(feeds);
  const times = [];
  const start = process.hrtime.bigint();
  while (times.length < 10 || Number(process.hrtime.bigint() - start) / 1e9 < a.minTime) {
    const t0 = process.hrtime.bigint();
    outputs = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((x, y) => x - y);
  fs.mkdirSync(a.out, { recursive: true });
  for (const [name, tensor] of Object.entries(outputs)) writeNpy(path.join(a.out, name.replace(/[^A-Za-z0-9._-]/g, '_') + '.npy'), tensor);
  console.log(JSON.stringify({ median_ms: times[Math.floor(times.length / 2)], min_ms: times[0], runs: times.length }));
}

main().catch((e) => { console.error(`ort_bench: ${e.message}`); process.exit(1); });
