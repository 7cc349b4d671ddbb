// HuggingFace's Rust tokenizer (npm tokenizers, BERT pipeline) as the reference for
// `electra tokenize`: reads lines (a TAB separates a pair), prints ids or pieces per line.
// usage: node reference_tokenize.js VOCAB cased|uncased ids|tokens < lines
'use strict';
const fs = require('fs');
const { Tokenizer, WordPiece, bertNormalizer, bertPreTokenizer, bertProcessing } = require('tokenizers');

async function main() {
  const [vocabPath, casing, mode] = process.argv.slice(2);
  const lowercase = casing !== 'cased';
  const tokenizer = new Tokenizer(await WordPiece.fromFile(vocabPath, { unkToken: '[UNK]' }));
  tokenizer.setNormalizer(bertNormalizer({ cleanText: true, handleChineseChars: true,
                                           stripAccents: lowercase, lowercase }));
  tokenizer.setPreTokenizer(bertPreTokenizer());
  const id = (t) => tokenizer.tokenToId(t);
  tokenizer.setPostProcessor(bertProcessing(['[SEP]', id('[SEP]')], ['[CLS]', id('[CLS]')]));
  tokenizer.addSpecialTokens(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);

  const text = fs.readFileSync(0, 'utf8');
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const out = [];
  const batch = 512;
  for (let i = 0; i < lines.length; i += batch) {
    // encodeBatch takes single sequences only here; a pair goes through encode(a, b).
    const encodings = await Promise.all(lines.slice(i, i + batch).map((line) => {
      if (line.endsWith('\r')) line = line.slice(0, -1);
      const tab = line.indexOf('\t');
      return tab < 0 ? tokenizer.encode(line) : tokenizer.encode(line.slice(0, tab), line.slice(tab + 1));
    }));
    for (const e of encodings) out.push((mode === 'tokens' ? e.getTokens() : e.getIds()).join(' '));
  }
  process.stdout.write(out.length ? out.join('\n') + '\n' : '');
}
main().catch((e) => { console.error(e); process.exit(1); });
