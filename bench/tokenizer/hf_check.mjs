// Checks that Hugging Face's tokenizers (npm @huggingface/tokenizers, not
// written here) load a tokenizer.json that sprout wrote and give the ids
// sprout gave: the shard `sprout tokenize` wrote from the same text.
// Usage: node hf_check.mjs tokenizer.json text.txt ids.bin (from a folder
// where @huggingface/tokenizers is installed).
import {readFileSync} from "node:fs";
import {Tokenizer} from "@huggingface/tokenizers";

const [tokPath, textPath, binPath] = process.argv.slice(2);
const fail = (msg) => { console.error("hf check: " + msg); process.exit(1); };
const tok = new Tokenizer(JSON.parse(readFileSync(tokPath, "utf8")), {});
const text = readFileSync(textPath, "utf8");
const bin = readFileSync(binPath);
if (bin.readUInt32LE(0) !== 20240520) fail("shard has no llm.c header");
const width = bin.readUInt32LE(4) === 1 ? 2 : 4;
const n = bin.readUInt32LE(8);
const want = [];
for (let i = 0; i < n; i++) want.push(width === 2 ? bin.readUInt16LE(1024 + 2 * i) : bin.readUInt32LE(1024 + 4 * i));
// Encode line by line where no pre-token spans the line break (a lone
// "\n" between printable ASCII: where sprout cuts too), as the JS port is
// slow on megabytes at once.
const printable = (c) => c > " " && c < "\x7f";
const got = [];
let start = 0;
for (let i = 1; i <= text.length; i++) {
  if (i === text.length || (i >= 2 && text[i - 1] === "\n" && printable(text[i]) && printable(text[i - 2]))) {
    got.push(...tok.encode(text.slice(start, i), {add_special_tokens: false}).ids);
    start = i;
  }
}
for (let i = 0; i < Math.max(got.length, want.length); i++) {
  if (got[i] !== want[i]) {
    fail(`id ${i} differs: Hugging Face ${got[i]}, sprout ${want[i]} (near ${JSON.stringify(tok.decode(got.slice(Math.max(0, i - 5), i + 5)))})`);
  }
}
const back = tok.decode(got, {skip_special_tokens: false, clean_up_tokenization_spaces: false});
if (back !== text) fail("Hugging Face's decode of the ids differs from the text");
console.log(`hf check: ok (${got.length} ids from ${Buffer.byteLength(text)} bytes agree; vocabulary ${tok.model?.vocab?.length ?? "?"})`);
