// Runs ONNX models through ONNX Runtime (onnxruntime-node) for make_ort_requant_vectors.py.
//
//   node run_ort.js JOBS.json [ONNXRUNTIME_NODE_MODULES]
//
// JOBS.json is a list of {"model": path, "inputs": {name: {"type": "uint8", "shape": [...], "file": path}},
// "output": path}; each model runs with graphOptimizationLevel 'all' on one thread, and its first output is
// written to "output" as raw little-endian bytes. ONNX Runtime is loaded from the node_modules folder given
// as the second argument, else from $OCTET_ORT_NODE_MODULES, else from benchmarks/peers/node_modules of this
// checkout (where `npm ci` in benchmarks/peers puts it). Prints the onnxruntime-node version on stdout.
'use strict';
const fs = require('fs');
const path = require('path');

const modules = process.argv[3] || process.env.OCTET_ORT_NODE_MODULES ||
                path.join(__dirname, '..', '..', '..', 'benchmarks', 'peers', 'node_modules');
const ortDir = path.join(modules, 'onnxruntime-node');
const ort = require(ortDir);
const version = JSON.parse(fs.readFileSync(path.join(ortDir, 'package.json'))).version;

function tensor(t) {
  const buf = fs.readFileSync(t.file);
  const bytes = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
  const arrays = {uint8: Uint8Array, int8: Int8Array, int32: Int32Array, float32: Float32Array};
  if (!(t.type in arrays)) throw new Error('unsupported input type ' + t.type);
  return new ort.Tensor(t.type, new arrays[t.type](bytes), t.shape);
}

(async () => {
  const jobs = JSON.parse(fs.readFileSync(process.argv[2]));
  for (const job of jobs) {
    const session = await ort.InferenceSession.create(
        job.model, {intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all'});
    const feeds = {};
    for (const [name, t] of Object.entries(job.inputs)) feeds[name] = tensor(t);
    const results = await session.run(feeds);
    const out = results[session.outputNames[0]];
    fs.writeFileSync(job.output, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
  }
  process.stdout.write(version + '\n');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
