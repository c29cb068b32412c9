// Loads a GGUF exported by sprout in a real llama.cpp (node-llama-cpp) and
// checks what a user meets: no tokenizer warnings, text tokenized one byte
// per token and detokenized unchanged, and a completion that runs.
// Usage: node llamacpp_check.mjs MODEL.gguf (from a folder where
// node-llama-cpp is installed).
import {getLlama, LlamaLogLevel, LlamaCompletion} from "node-llama-cpp";

const warnings = [];
const llama = await getLlama({
  gpu: false, build: "never", logLevel: LlamaLogLevel.warn,
  logger: (level, msg) => { if (level === "warn" || level === "error") warnings.push(msg.trim()); },
});
const model = await llama.loadModel({modelPath: process.argv[2]});
const fail = (msg) => { console.error("llama.cpp check: " + msg); process.exit(1); };
const bad = warnings.filter((w) => /special_|tokenizer|token/.test(w));
if (bad.length) fail("tokenizer warnings: " + bad.join(" | "));
const text = "hello, world!\n\tcount by 7: 5 12 19 <|endoftext|> caf\u00e9 \u2192 done";
const toks = model.tokenize(text);
if (toks.length !== Buffer.byteLength(text)) fail(`${toks.length} tokens for ${Buffer.byteLength(text)} bytes`);
if (model.detokenize(toks) !== text) fail("detokenized text differs");
if (model.tokens.eos !== 0 || model.tokens.bos !== 0) fail(`bos ${model.tokens.bos}, eos ${model.tokens.eos}, want 0`);
const ctx = await model.createContext({contextSize: 32});
const out = await new LlamaCompletion({contextSequence: ctx.getSequence()}).generateCompletion("count by ", {maxTokens: 8});
console.log(`llama.cpp check: ok (${toks.length} tokens round-tripped; completion ${JSON.stringify(out)})`);
await ctx.dispose(); await model.dispose();
