// Writes GPT-2's merge ranks, as npm tiktoken ships them, in tiktoken's
// rank-file format ("base64 rank" per line) on stdout; sprout embeds the
// result gzipped as tokenizer/gpt2.tiktoken.gz.
// Usage: node gpt2_ranks.mjs > gpt2.tiktoken (where npm tiktoken is installed)
import {createRequire} from "node:module";
const require = createRequire(process.cwd() + "/");
const gpt2 = require("tiktoken/encoders/gpt2.json");
if (gpt2.special_tokens["<|endoftext|>"] !== 50256 || gpt2.explicit_n_vocab !== 50257) {
  throw new Error("unexpected gpt2.json");
}
const lines = [];
for (const row of gpt2.bpe_ranks.split("\n")) {
  if (!row) continue;
  const [, offset, ...tokens] = row.split(" ");
  tokens.forEach((t, i) => lines.push(`${t} ${Number(offset) + i}`));
}
process.stdout.write(lines.join("\n") + "\n");
