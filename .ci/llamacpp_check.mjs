// Loads a GGUF exported by sprout in a real llama.cpp (node-llama-cpp) and
// checks what a user meets: no tokenizer warnings, text tokenized one byte
// per token and detokenized unchanged, and a completion that runs.
// Usage: node llamacpp_check.mjs MODEL.gguf (from a folder where
// node-llama-cpp is installed). For a BPE model:
//   node llamacpp_check.mjs MODEL.gguf TEXT IDS.bin
// checks that llama.cpp tokenizes the file TEXT to the ids of the shard
// IDS.bin (`sprout tokenize` of TEXT with the model's tokenizer) and
// detokenizes them back to TEXT.
import {getLlama, LlamaLogLevel, LlamaCompletion} from "node-llama-cpp";
import {readFileSync} from "node:fs";

const warnings = [];
const llama = await getLlama({
  gpu: false, build: "never", logLevel: LlamaLogLevel.warn,
  logger: (level, msg) => { if (level === "warn" || level === "error") warnings.push(msg.trim()); },
});
const model = await llama.loadModel({modelPath: process.argv[2]});
const fail = (msg) => { console.error("llama.cpp check: " + msg); process.exit(1); };
const bad = warnings.filter((w) => /special_|tokenizer|token/.test(w));
if (bad.length) fail("tokenizer warnings: " + bad.join(" | "));
if (process.argv[3]) {
  const text = readFileSync(process.argv[3], "utf8");
  const bin = readFileSync(process.argv[4]);
  if (bin.readUInt32LE(0) !== 20240520 || bin.readUInt32LE(4) !== 1) fail("IDS.bin is not a uint16 shard");
  const want = [];
  for (let i = 1024; i < bin.length; i += 2) want.push(bin.readUInt16LE(i));
  const got = Array.from(model.tokenize(text));
  const at = got.findIndex((id, i) => id !== want[i]);
  if (got.length !== want.length || at >= 0) {
    const i = at >= 0 ? at : Math.min(got.length, want.length);
    fail(`BPE ids differ from sprout's at token ${i} of ${want.length}: llama.cpp ${got.slice(i, i + 5)}, sprout ${want.slice(i, i + 5)}`);
  }
  // llama.cpp's "gpt-2" pre-tokenizer cleans spaces on detokenizing (" !=" to
  // "!="), as transformers' clean_up_tokenization_spaces does: allow only
  // dropped spaces.
  const back = model.detokenize(got);
  let j = 0;
  for (let i = 0; i < text.length; i++) {
    if (j < back.length && back[j] === text[i]) j++;
    else if (text[i] !== " ") fail(`BPE: detokenized text differs at character ${i}: ${JSON.stringify(back.slice(j, j + 20))}`);
  }
  if (j !== back.length) fail("BPE: detokenized text has more than the input");
  const ctx = await model.createContext({contextSize: 32});
  const out = await new LlamaCompletion({contextSequence: ctx.getSequence()}).generateCompletion("func ", {maxTokens: 8});
  console.log(`llama.cpp check: ok (BPE: ${got.length} ids equal to sprout's on ${Buffer.byteLength(text)} bytes; completion ${JSON.stringify(out)})`);
  await ctx.dispose(); await model.dispose();
  process.exit(0);
}
const text = "hello, world!\n\tcount by 7: 5 12 19 <|endoftext|> caf\u00e9 \u2192 done";
const toks = model.tokenize(text);
if (toks.length !== Buffer.byteLength(text)) fail(`${toks.length} tokens for ${Buffer.byteLength(text)} bytes`);
if (model.detokenize(toks) !== text) fail("detokenized text differs");
if (model.tokens.eos !== 0 || model.tokens.bos !== 0) fail(`bos ${model.tokens.bos}, eos ${model.tokens.eos}, want 0`);
const ctx = await model.createContext({contextSize: 32});
const out = await new LlamaCompletion({contextSequence: ctx.getSequence()}).generateCompletion("count by ", {maxTokens: 8});
console.log(`llama.cpp check: ok (${toks.length} tokens round-tripped; completion ${JSON.stringify(out)})`);
await ctx.dispose(); await model.dispose();
