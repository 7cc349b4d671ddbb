#!/usr/bin/env python3
"""HuggingFace transformers checks our files itself, in both directions, on the tiny fixture:

- ours -> HF: every fine-tuned head electra writes (sequence classification and regression,
  question answering, token classification), fine-tuned briefly and exported, loads with
  `from_pretrained` with no weight missing or unexpected, and its logits equal `electra score`'s
  on the same inputs within 1e-4;
- HF -> ours: models that transformers saved (`save_pretrained`, random weights from a config):
  the pretraining pair imports (`import-hf`) and `electra score` gives ElectraForPreTraining's
  logits; each fine-tuned head gives transformers' logits through `electra score`, and
  `electra evaluate` gives its predictions (regression values, classification labels).
(The pretraining pair ours -> HF is hf_from_pretrained.py.)
usage: hf_interop.py ELECTRA FIXTURE_DIR TEST_DATA_DIR WORK_DIR"""
import json
import os
import shutil
import subprocess
import sys

import torch
import transformers
from transformers import (ElectraConfig, ElectraForMaskedLM, ElectraForPreTraining,
                          ElectraForQuestionAnswering, ElectraForSequenceClassification,
                          ElectraForTokenClassification)

electra, fixture, test_data, work = sys.argv[1:5]
os.makedirs(work, exist_ok=True)
TOLERANCE = 1e-4
TEXT, PAIR = "The quick brown fox jumps over the lazy dog.", "Is it a cat, or a dog?"
failures = []
print(f"transformers {transformers.__version__}, torch {torch.__version__}")


def run(*args):
    done = subprocess.run([electra, *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"electra {' '.join(args)}: exit {done.returncode}\n{done.stdout}{done.stderr}")
    return done.stdout


def score(model_dir, pair=True):
    args = ["score", "--model", model_dir, "--text", TEXT] + (["--text-pair", PAIR] if pair else [])
    return json.loads(run(*args))


def hf_logits(model, scored):
    """transformers' logits on the ids and token types electra scored (one row, batch dim dropped)."""
    ids = torch.tensor([scored["ids"]])
    first = scored["tokens"].index("[SEP]") + 1  # segment B starts after [CLS] A [SEP]
    types = torch.tensor([[0] * first + [1] * (len(scored["ids"]) - first)])
    model.eval()
    with torch.no_grad():
        out = model(input_ids=ids, token_type_ids=types, attention_mask=torch.ones_like(ids))
    if isinstance(model, ElectraForQuestionAnswering):
        return torch.stack([out.start_logits[0], out.end_logits[0]], dim=-1)
    return out.logits[0]


def compare(what, ours, theirs):
    ours = torch.tensor(ours, dtype=torch.float64)
    theirs = theirs.to(torch.float64)
    if ours.shape != theirs.shape:
        failures.append(f"{what}: shape {tuple(ours.shape)} (ours) vs {tuple(theirs.shape)} (HF)")
        return
    diff = (ours - theirs).abs().max().item()
    print(f"{what}: max |diff| {diff:.3g} over {ours.numel()} logits")
    if not diff <= TOLERANCE:
        failures.append(f"{what}: logits differ by {diff}")


def load(cls, folder):
    model, info = cls.from_pretrained(folder, output_loading_info=True)
    missing = [k for k in info["missing_keys"] if k != "generator_lm_head.weight"]
    if missing or info["unexpected_keys"]:
        failures.append(f"{folder}: missing {missing}, unexpected {info['unexpected_keys']}")
    return model


# --- ours -> HF: fine-tune each head briefly, export, load with from_pretrained ---------------
sentences = os.path.join(work, "sentences.tsv")
values = os.path.join(work, "values.tsv")
with open(sentences, "w") as labels_file, open(values, "w") as values_file:
    labels_file.write("text\tlabel\n")
    values_file.write("text\tlabel\n")
    words = "good bad fine awful nice poor great dull".split()
    for i in range(48):
        text = f"this film is {words[i % 8]} and {words[(i * 3) % 8]}"
        labels_file.write(f"{text}\t{'pos' if i % 2 == 0 else 'neg'}\n")
        values_file.write(f"{text}\t{(i % 5) * 1.25:.2f}\n")
common = ["--model", fixture, "--epochs", "1", "--batch-size", "8", "--max-seq-len", "64",
          "--threads", "1", "--seed", "3"]
heads = [  # name, finetune arguments, HF class
    ("classification", ["--train", sentences, "--dev", sentences], ElectraForSequenceClassification),
    ("regression", ["--train", values, "--dev", values, "--task-type", "regression"],
     ElectraForSequenceClassification),
    ("span", ["--train", f"{test_data}/squad_sample_train.json",
              "--dev", f"{test_data}/squad_sample_dev.json", "--task-type", "span",
              "--doc-stride", "32", "--max-query-len", "16"], ElectraForQuestionAnswering),
    ("token", ["--train", f"{test_data}/conll2000_sample_train.txt",
               "--dev", f"{test_data}/conll2000_sample_test.txt", "--task-type", "token"],
     ElectraForTokenClassification),
]
for name, args, cls in heads:
    out, hf = os.path.join(work, f"ours-{name}"), os.path.join(work, f"ours-{name}-hf")
    run("finetune", *common, *args, "--out", out)
    run("export", "--checkpoint", out, "--out", hf)
    compare(f"ours -> HF {cls.__name__} ({name})", score(out)["logits"], hf_logits(load(cls, hf), score(out)))

# --- HF -> ours: transformers saves random models, electra reads them ----------------------------
config = ElectraConfig.from_pretrained(f"{fixture}/discriminator")
vocab = f"{fixture}/vocab.txt"
tokenizer = transformers.BertTokenizerFast.from_pretrained(fixture)  # its vocab.txt, uncased


def save(model, folder):
    model.save_pretrained(folder)
    shutil.copy(vocab, os.path.join(folder, "vocab.txt"))
    return folder


torch.manual_seed(11)
pair_dir = os.path.join(work, "hf-pair")
discriminator = save(ElectraForPreTraining(config), os.path.join(pair_dir, "discriminator"))
generator_config = ElectraConfig.from_pretrained(f"{fixture}/generator")
generator = ElectraForMaskedLM(generator_config)
# The pair shares its embeddings (as ELECTRA trains it): the generator's are the discriminator's.
generator.electra.embeddings.load_state_dict(
    ElectraForPreTraining.from_pretrained(discriminator).electra.embeddings.state_dict())
save(generator, os.path.join(pair_dir, "generator"))
shutil.copy(vocab, os.path.join(pair_dir, "vocab.txt"))
run("import-hf", "--model", pair_dir, "--out", os.path.join(work, "imported"))
for source in (discriminator, os.path.join(work, "imported")):
    scored = score(source)
    compare(f"HF -> ours ElectraForPreTraining ({os.path.basename(source)})", scored["logits"],
            hf_logits(ElectraForPreTraining.from_pretrained(discriminator), scored))

labels = {"classification": ["neg", "pos"], "token": ["B-NP", "I-NP", "B-VP", "O"]}
for name, cls, kwargs in [
        ("classification", ElectraForSequenceClassification,
         dict(num_labels=2, id2label=dict(enumerate(labels["classification"])))),
        ("regression", ElectraForSequenceClassification, dict(num_labels=1, problem_type="regression")),
        ("span", ElectraForQuestionAnswering, dict(num_labels=2)),
        ("token", ElectraForTokenClassification,
         dict(num_labels=4, id2label=dict(enumerate(labels["token"]))))]:
    head_config = ElectraConfig.from_pretrained(f"{fixture}/discriminator", **kwargs)
    head_config.architectures = [cls.__name__]
    torch.manual_seed(12)
    folder = save(cls(head_config), os.path.join(work, f"hf-{name}"))
    model = cls.from_pretrained(folder)
    scored = score(folder, pair=name != "token")
    compare(f"HF -> ours {cls.__name__} ({name}) via score", scored["logits"], hf_logits(model, scored))
    if name in ("classification", "regression"):
        # electra evaluate's predictions are transformers' (tokenized by transformers' tokenizer).
        data = values if name == "regression" else sentences
        predictions = os.path.join(work, f"hf-{name}-predictions.tsv")
        run("evaluate", "--model", folder, "--data", data, "--predictions", predictions)
        texts = [line.split("\t")[0] for line in open(data).read().splitlines()[1:]]
        ours = [line.split("\t")[1] for line in open(predictions).read().splitlines()[1:]]
        with torch.no_grad():
            batch = tokenizer(texts, padding=True, return_tensors="pt")
            logits = model(**batch).logits
        if name == "regression":
            worst, mismatches = (torch.tensor([float(p) for p in ours]) - logits[:, 0]).abs().max().item(), 0
        else:
            worst = 0.0
            mismatches = sum(p != labels["classification"][int(i)] for p, i in zip(ours, logits.argmax(-1)))
        print(f"HF -> ours evaluate ({name}): {len(ours)} predictions, "
              + (f"max |diff| {worst:.3g}" if name == "regression" else f"{mismatches} labels differ"))
        if len(ours) != len(texts) or mismatches or worst > TOLERANCE:
            failures.append(f"evaluate ({name}) differs from transformers")

print("\n".join(failures) if failures else "hf interop: ok")
sys.exit(1 if failures else 0)
