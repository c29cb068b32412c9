// Writes tokenizer/testdata/gpt2_expected.json: GPT-2 token ids from npm
// tiktoken (OpenAI's Rust core as WASM) for published test strings (from
// tiktoken's and Hugging Face tokenizers' tests) and for random strings
// built from a hard alphabet, which sprout's tests compare with its own.
// Invalid UTF-8 cannot enter a JS string, so those cases carry the raw
// bytes and the ids of the text with each bad byte as U+FFFD.
// Usage: node gpt2_expected.mjs > ../../tokenizer/testdata/gpt2_expected.json
// (from a folder where npm tiktoken is installed, or with NODE_PATH set).
import {createRequire} from "node:module";
const require = createRequire(process.cwd() + "/");
const {get_encoding} = require("tiktoken");
const enc = get_encoding("gpt2");

const cases = [
  ["hello world", "hello world"],
  ["tiktoken hello", "hello <|endoftext|>"],
  ["empty", ""],
  ["space", " "],
  ["spaces", "  a   b    c     "],
  ["whitespace runs", "a\n\n\n b\t\t c \t \n d\r\n\r\ne     \n"],
  ["trailing newlines", "line one\nline two\n\n\n"],
  ["only whitespace", " \n\n\n  \t\t   "],
  ["contractions", "I'm you're they've we'd he'll it's can't don't"],
  ["contractions upper", "I'M YOU'RE THEY'VE WE'D HE'LL IT'S"],
  ["apostrophes", "'s 's ''s '''s x's 'ss 'll'll rock'n'roll 'tis"],
  ["numbers", "1 12 123 1234 12345 3.14159 1,000,000 -42 0x1F 2024-05-20"],
  ["unicode", "Привет мир! こんにちは世界 我非常渴望与人工智能一起工作 مرحبا بالعالم"],
  ["accents", "café naïve résumé Zürich Ångström"],
  ["emoji", "👋🏽 🤗 ❤️ 👨‍👩‍👧‍👦 🇫🇷 a😁b"],
  ["hf example", "Hello, y'all! How are you 😁 ?"],
  ["hf spaces", "This is a test \t\n   with  spaces and\ttabs"],
  ["symbols", "!!! ??? ... --- === +++ #!/bin/sh $$ @@ %% ^^ && ** (( )) [[ ]] {{ }}"],
  ["code", "func main() {\n\tfmt.Println(\"hello, 世界\")\n\tx := a[i+1] // comment\n}\n"],
  ["unicode spaces", "a\u00a0b\u2003c\u3000d\u2028e\u0085f"],
  ["unicode numbers", "Ⅻ ½ ٣٤٥ ①②③ ¹²³"],
  ["special as text", "<|endoftext|>The end<|endoftext|>"],
  ["long word", "supercalifragilisticexpialidocious".repeat(5)],
  ["long spaces", " ".repeat(300) + "x" + "\n".repeat(200)],
  ["long number", "9".repeat(500)],
];
const out = [];
const ids = (s) => Array.from(enc.encode_ordinary(s));
for (const [name, text] of cases) out.push({name, text, ids: ids(text)});
out.push({name: "special allowed", text: "hello <|endoftext|> world", special: true,
  ids: Array.from(enc.encode("hello <|endoftext|> world", "all"))});

const bad = [
  ["invalid lone bytes", [0x61, 0xff, 0x62, 0x20, 0xfe, 0x20, 0x63, 0x80, 0x80, 0x21, 0xc0, 0x20, 0x20, 0x64]],
  ["invalid after space", [0x68, 0x69, 0x20, 0xff, 0x20, 0x77, 0x6f, 0x72, 0x6c, 0x64, 0x0a, 0xfe]],
];
const dec = new TextDecoder("utf-8");
for (const [name, bytes] of bad) {
  const text = dec.decode(new Uint8Array(bytes));
  out.push({name, raw: Buffer.from(bytes).toString("base64"), text, ids: ids(text)});
}

// Random strings: a seeded generator over letters, digits, spaces, line
// breaks, apostrophes, punctuation and non-ASCII of each class.
let s = 0x2545F491;
const rnd = (n) => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s % n; };
const alphabet = ["a", "b", "e", "s", "t", "r", "l", "d", "m", "v", "S", "T", "L", "ſ", " ", " ", " ", "  ", "\n", "\r\n", "\t",
  "'", "'s", "'ll", "'re", "1", "23", "½", "٣", ".", ",", "!", "-", "\"", "é", "ß", "Ж", "世", "😁", "\u00a0", "\u3000", "\u0085", "¿"];
for (let i = 0; i < 500; i++) {
  let text = "";
  const n = 1 + rnd(40);
  for (let j = 0; j < n; j++) text += alphabet[rnd(alphabet.length)];
  out.push({name: `random ${i}`, text, ids: ids(text)});
}
process.stdout.write(JSON.stringify(out) + "\n");
enc.free();
