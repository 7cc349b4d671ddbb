#!/usr/bin/env python3
"""Fine-tune a sentence task with HuggingFace transformers, from an exported discriminator or from
random weights of its configuration, with the settings of `electra sweep` in
bench/learning_benefit.sh (AdamW lr 3e-4, weight decay 0.01 but not on biases and LayerNorms,
epsilon 1e-6, layer-wise decay 0.8, 10% linear warmup then linear decay, clip 1.0, 3 epochs,
batch 32, 128 tokens). A cross-check that ours fine-tunes pretrained weights as HF does (issue 27:
pretrained tiny models fine-tune worse than random weights at CPU scale). Prints the dev accuracy
after each epoch and the best.

  .venv/bin/python bench/hf_finetune_check.py --model EXPORT/discriminator --train TSV --dev TSV
      [--init pretrained|random] [--seed 1]
TSV: a header, then text<TAB>label (0/1), as bench/learning_benefit.sh writes SST-2.
"""
import argparse
import random

import torch
from transformers import BertTokenizerFast, ElectraConfig, ElectraForSequenceClassification
from transformers.utils import logging


def read(path):
    rows = [line.rstrip("\n").split("\t") for line in open(path, encoding="utf-8")][1:]
    return [r[0] for r in rows], [int(r[1]) for r in rows]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--train", required=True)
    parser.add_argument("--dev", required=True)
    parser.add_argument("--init", choices=["pretrained", "random"], default="pretrained")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    logging.set_verbosity_error()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    tokenizer = BertTokenizerFast(args.model + "/vocab.txt")
    train_x, train_y = read(args.train)
    dev_x, dev_y = read(args.dev)
    config = ElectraConfig.from_pretrained(args.model)
    config.num_labels = 2
    model = (ElectraForSequenceClassification.from_pretrained(args.model, config=config)
             if args.init == "pretrained" else ElectraForSequenceClassification(config))
    layers = config.num_hidden_layers
    groups = {}
    for name, parameter in model.named_parameters():
        if "embeddings" in name:
            depth = 0
        elif ".layer." in name:
            depth = int(name.split(".layer.")[1].split(".")[0]) + 1
        else:
            depth = layers + 1
        decay = 0.0 if ("bias" in name or "LayerNorm" in name) else 0.01
        groups.setdefault((depth, decay), []).append(parameter)
    optimizer = torch.optim.AdamW(
        [{"params": p, "lr": args.lr * 0.8 ** (layers + 1 - d), "weight_decay": wd}
         for (d, wd), p in groups.items()], eps=1e-6)
    peak = [g["lr"] for g in optimizer.param_groups]
    steps = len(train_x) // 32 * args.epochs
    warmup = int(0.1 * steps)

    def accuracy():
        model.eval()
        right = 0
        with torch.no_grad():
            for i in range(0, len(dev_x), 64):
                batch = tokenizer(dev_x[i:i + 64], truncation=True, max_length=128, padding=True,
                                  return_tensors="pt")
                right += (model(**batch).logits.argmax(-1) == torch.tensor(dev_y[i:i + 64])).sum().item()
        model.train()
        return right / len(dev_x)

    step, best = 0, 0.0
    for epoch in range(args.epochs):
        order = list(range(len(train_x)))
        random.shuffle(order)
        for i in range(0, len(order) - 31, 32):
            chosen = order[i:i + 32]
            batch = tokenizer([train_x[j] for j in chosen], truncation=True, max_length=128,
                              padding=True, return_tensors="pt")
            factor = step / max(1, warmup) if step < warmup else max(0.0, (steps - step) / max(1, steps - warmup))
            for group, lr in zip(optimizer.param_groups, peak):
                group["lr"] = lr * factor
            loss = model(**batch, labels=torch.tensor([train_y[j] for j in chosen])).loss
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            step += 1
        dev = accuracy()
        best = max(best, dev)
        print(f"{args.init} epoch {epoch + 1} dev accuracy {dev:.4f}", flush=True)
    print(f"{args.model} {args.init} seed {args.seed}: best dev accuracy {best:.4f}")


if __name__ == "__main__":
    main()
