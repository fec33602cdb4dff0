// Loads a TensorFlow.js layers model (model.json + shards in a folder) with @tensorflow/tfjs and predicts.
// Usage: node predict.js <folder>   reads <folder>/input.json {shape, dtype, data}, writes <folder>/output.json.
// (The output goes to a file because tfjs prints a banner about tfjs-node on stdout.)
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

(async () => {
  const dir = process.argv[2];
  const model = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const input = JSON.parse(fs.readFileSync(path.join(dir, 'input.json'), 'utf8'));
  const specs = model.weightsManifest.flatMap(g => g.weights);
  const all = Buffer.concat(model.weightsManifest.flatMap(g => g.paths).map(p => fs.readFileSync(path.join(dir, p))));
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const m = await tf.loadLayersModel(tf.io.fromMemory(model.modelTopology, specs, weightData));
  const y = m.predict(tf.tensor(input.data, input.shape, input.dtype));
  fs.writeFileSync(path.join(dir, 'output.json'), JSON.stringify({ shape: y.shape, data: Array.from(y.dataSync()) }));
})().catch(e => { console.error(e && e.stack || e); process.exit(1); });
