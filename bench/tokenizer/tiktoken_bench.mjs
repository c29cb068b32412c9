// GPT-2 encoding MB/s of npm tiktoken (OpenAI's Rust core compiled to WASM)
// on one thread, best of RUNS, and a check that its ids equal the shard
// sprout wrote from the same text. compare.sh runs it beside
// `sprout bench tokenize`.
// Usage: node tiktoken_bench.mjs TEXT [RUNS] [IDS.bin] (from a folder where
// npm tiktoken is installed).
import {readFileSync} from "node:fs";
import {createRequire} from "node:module";
const require = createRequire(process.cwd() + "/");
const {get_encoding} = require("tiktoken");

const [path, runsArg, binPath] = process.argv.slice(2);
const text = readFileSync(path, "utf8");
const mb = Buffer.byteLength(text) / 1e6;
const enc = get_encoding("gpt2");
let ids = enc.encode_ordinary(text); // warm up
let best = 0;
for (let i = 0; i < Number(runsArg || 3); i++) {
  const t0 = process.hrtime.bigint();
  ids = enc.encode_ordinary(text);
  best = Math.max(best, mb / (Number(process.hrtime.bigint() - t0) / 1e9));
}
if (binPath) {
  const bin = readFileSync(binPath);
  const n = bin.readUInt32LE(8);
  if (n !== ids.length) { console.error(`tiktoken: ${ids.length} ids, sprout's shard ${n}`); process.exit(1); }
  for (let i = 0; i < n; i++) {
    if (bin.readUInt16LE(1024 + 2 * i) !== ids[i]) { console.error(`tiktoken: id ${i} differs from sprout's`); process.exit(1); }
  }
}
console.log(`tiktoken (WASM) gpt2 on ${path}: ${mb.toFixed(2)} MB, ${ids.length} tokens, 1 thread: ${best.toFixed(2)} MB/s${binPath ? "; ids equal sprout's" : ""}`);
enc.free();
