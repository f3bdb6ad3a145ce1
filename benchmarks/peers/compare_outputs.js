// Agreement between two runtimes' outputs of one model: for every .npy in DIR_A with a namesake in DIR_B,
// the largest and mean difference in output LSBs (the output's quantization step), the share within 1 LSB
// and, for outputs of rank >= 2, how often the argmax over axis 1 agrees (per pixel for segmentation);
// for integer outputs (indices, labels), how many elements are equal.
//   node compare_outputs.js DIR_A DIR_B SCALE
const fs = require('fs');
const path = require('path');

// Any numeric .npy (float32, uint8, int64, int32, bool) as float64 values; `integer` says whether the
// elements are integers (compared for equality, not in LSBs).
function readNpy(file) {
  const buf = fs.readFileSync(file);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const offset = major === 1 ? 10 : 12;
  const header = buf.slice(offset, offset + headerLen).toString('latin1');
  const descr = /'descr':\s*'([^']*)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const data = buf.slice(offset + headerLen);
  const bytes = data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
  const typed = { '<f4': Float32Array, '|u1': Uint8Array, '<u1': Uint8Array, '|b1': Uint8Array,
                  '<i4': Int32Array, '<i8': BigInt64Array }[descr];
  if (!typed) throw new Error(`${file}: unsupported dtype ${descr}`);
  return { shape, integer: descr !== '<f4', data: Float64Array.from(new typed(bytes), Number) };
}

const [dirA, dirB, scaleText] = process.argv.slice(2);
const scale = parseFloat(scaleText) > 0 ? parseFloat(scaleText) : 1;
for (const file of fs.readdirSync(dirA).filter((f) => f.endsWith('.npy'))) {
  if (!fs.existsSync(path.join(dirB, file))) continue;
  const a = readNpy(path.join(dirA, file)), b = readNpy(path.join(dirB, file));
  if (a.data.length !== b.data.length) {
    console.log(`${file}: different sizes (${a.shape} vs ${b.shape})`);
    continue;
  }
  if (a.integer || b.integer) {  // indices, labels, counts: equal or not
    let equal = 0;
    for (let i = 0; i < a.data.length; ++i) if (a.data[i] === b.data[i]) ++equal;
    console.log(`${file}: ${equal}/${a.data.length} integer elements equal`);
    continue;
  }
  let max = 0, sum = 0, within = 0;
  for (let i = 0; i < a.data.length; ++i) {
    const d = Math.abs(a.data[i] - b.data[i]) / scale;
    max = Math.max(max, d);
    sum += d;
    if (d <= 1.001) ++within;
  }
  let agree = 0, decisions = 0;
  if (a.shape.length >= 2) {
    const classes = a.shape[1], inner = a.shape.slice(2).reduce((x, y) => x * y, 1);
    for (let n = 0; n < a.shape[0]; ++n)
      for (let p = 0; p < inner; ++p, ++decisions) {
        let ba = 0, bb = 0;
        for (let k = 1; k < classes; ++k) {
          const i = (n * classes + k) * inner + p;
          if (a.data[i] > a.data[(n * classes + ba) * inner + p]) ba = k;
          if (b.data[i] > b.data[(n * classes + bb) * inner + p]) bb = k;
        }
        if (ba === bb) ++agree;
      }
  }
  console.log(`${file}: max ${max.toFixed(2)} LSB, mean ${(sum / a.data.length).toFixed(3)} LSB, ` +
              `${(100 * within / a.data.length).toFixed(2)}% within 1 LSB` +
              (decisions ? `, argmax agreement ${agree}/${decisions}` : ''));
}
