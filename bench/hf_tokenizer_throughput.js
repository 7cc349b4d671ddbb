// Times HuggingFace's Rust tokenizer (npm tokenizers, BERT pipeline) on the same lines, one
// thread (run with RAYON_NUM_THREADS=1 under taskset), best of N passes of encodeBatch.
// usage: node hf_tokenizer_throughput.js VOCAB TEXT_FILE [PASSES]   (NODE_PATH: its node_modules)
'use strict';
const fs = require('fs');
const { Tokenizer, WordPiece, bertNormalizer, bertPreTokenizer, bertProcessing } = require('tokenizers');

async function main() {
  const [vocab, file, passesArg] = process.argv.slice(2);
  const tokenizer = new Tokenizer(await WordPiece.fromFile(vocab, { unkToken: '[UNK]' }));
  tokenizer.setNormalizer(bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: true }));
  tokenizer.setPreTokenizer(bertPreTokenizer());
  tokenizer.setPostProcessor(bertProcessing(['[SEP]', tokenizer.tokenToId('[SEP]')], ['[CLS]', tokenizer.tokenToId('[CLS]')]));
  tokenizer.addSpecialTokens(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let best = Infinity, tokens = 0;
  for (let pass = 0; pass < Number(passesArg || 3); ++pass) {
    tokens = 0;
    const started = process.hrtime.bigint();
    for (let i = 0; i < lines.length; i += 2000) {
      for (const e of await tokenizer.encodeBatch(lines.slice(i, i + 2000))) tokens += e.getIds().length;
    }
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e9);
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  console.log(JSON.stringify({ bytes, lines: lines.length, tokens, seconds: best,
                               mb_per_s: bytes / 1e6 / best, tokens_per_s: tokens / best }));
}
main().catch((e) => { console.error(e); process.exit(1); });
