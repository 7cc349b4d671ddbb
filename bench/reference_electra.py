#!/usr/bin/env python3
"""An independent ELECTRA pre-training reference on the same shards and sizes as `electra pretrain`.

HuggingFace transformers' ElectraForMaskedLM (generator) + ElectraForPreTraining (discriminator),
the embeddings shared as the paper does (the discriminator uses the generator's embedding module:
word, position and token-type tables and their LayerNorm; the generator's output layer is tied
to the word embeddings), trained as richarddwang/electra_pytorch reproduces the official recipe:
- 15% of the real tokens (never [CLS]/[SEP]/[PAD]) chosen; 85% of those become [MASK], 15% keep
  their token, none random;
- the generator's tokens sampled by Gumbel-max from its fp32 logits at the chosen positions; a
  sampled token equal to the original is "original" for the discriminator;
- loss = MLM cross-entropy over the chosen positions + 50 x binary cross-entropy over every real
  token;
- Adam without bias correction (beta 0.9/0.999, eps 1e-6), decoupled weight decay 0.01 (not on
  biases and LayerNorm weights, as official ELECTRA), gradient clipping at 1.0, linear warmup then
  linear decay to 0.

`--relative-bias BUCKETS` is a hypothesis test, not the paper's architecture (issue 27: no layer
of either network learns to attend to its neighbours at CPU scale): every attention layer of both
networks gets a learned bias per head and per bucket of the key's offset from the query (T5's
bidirectional buckets: offsets -7..7 exact, log-spaced beyond up to 128), added to the attention
scores; it starts at zero, so the pair starts as the paper's. `--local-heads SLOPE` instead fixes
heads on the neighbours: a bias of -SLOPE x |offset|, never trained, in the first head of every
layer (`add_attention_bias`). `--probe` then writes RUN/probe.json
at the end: `bench/probe_discriminator.py`'s context AUCs and, per layer, where the attention goes.

It writes RUN/metrics.jsonl in `electra pretrain`'s format (train records every --log-every steps,
eval records every --eval-every steps on the corpus's validation split), so that
`electra plot --run OURS --run REFERENCE` draws both. Not a test: a benchmark of learning.

  .venv/bin/python bench/reference_electra.py --data runs/quickstart/shards --out /tmp/ref \\
      --size tiny --steps 2000 --batch-size 16 --lr 5e-4 --warmup 200 --seed 1
"""
import argparse
import json
import math
import os
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F
from transformers import ElectraConfig, ElectraForMaskedLM, ElectraForPreTraining
from transformers.models.electra import modeling_electra

HERE = os.path.dirname(os.path.abspath(__file__))
PAD, CLS, SEP, MASK = 0, 101, 102, 103  # BERT uncased ids; checked against vocab_size below


def read_split(data_dir, split):
    manifest = json.load(open(os.path.join(data_dir, "manifest.json")))
    ids, masks, segments = [], [], []
    for shard in manifest["shards"]:
        if shard["split"] != split:
            continue
        with h5py.File(os.path.join(data_dir, shard["file"]), "r") as f:
            ids.append(f["input_ids"][:].astype(np.int64))
            masks.append(f["input_mask"][:].astype(np.int64))
            segments.append(f["segment_ids"][:].astype(np.int64))
    if not ids:
        raise SystemExit(f"{data_dir}: no {split} shards")
    return (torch.from_numpy(np.concatenate(ids)), torch.from_numpy(np.concatenate(masks)),
            torch.from_numpy(np.concatenate(segments)), manifest["vocab_size"])


def hf_configs(size, vocab_size):
    spec = json.load(open(os.path.join(HERE, "..", "configs", "model", size + ".json")))
    if spec["vocab_size"] != vocab_size:
        raise SystemExit(f"the shards' vocab_size {vocab_size} is not the {size} preset's")

    def config(encoder):
        return ElectraConfig(
            vocab_size=vocab_size, embedding_size=spec["embedding_size"],
            hidden_size=encoder["hidden_size"], num_hidden_layers=encoder["num_hidden_layers"],
            num_attention_heads=encoder["num_attention_heads"],
            intermediate_size=encoder["intermediate_size"],
            max_position_embeddings=spec["max_position_embeddings"],
            type_vocab_size=spec["type_vocab_size"], layer_norm_eps=spec["layer_norm_eps"],
            hidden_dropout_prob=spec["hidden_dropout_prob"],
            attention_probs_dropout_prob=spec["attention_probs_dropout_prob"],
            initializer_range=spec["initializer_range"], pad_token_id=spec["pad_token_id"])

    return config(spec["generator"]), config(spec["discriminator"])


class Pair(torch.nn.Module):
    def __init__(self, generator_config, discriminator_config):
        super().__init__()
        self.generator = ElectraForMaskedLM(generator_config)
        self.discriminator = ElectraForPreTraining(discriminator_config)
        self.discriminator.electra.embeddings = self.generator.electra.embeddings
        self.generator.generator_lm_head.weight = (
            self.generator.electra.embeddings.word_embeddings.weight)


def offset_buckets(length, buckets):
    """[query, key] -> T5's bidirectional bucket of key - query: half the buckets per direction,
    the first half of those exact offsets, the rest log-spaced up to an offset of 128."""
    offset = torch.arange(length)[None, :] - torch.arange(length)[:, None]
    half = buckets // 2
    exact = half // 2
    distance = offset.abs()
    far = exact + (torch.log(distance.clamp_min(1).float() / exact) / math.log(128 / exact) *
                   (half - exact)).long()
    return (offset > 0).long() * half + torch.where(distance < exact, distance,
                                                    far.clamp_max(half - 1))


def add_attention_bias(networks, length, buckets=0, local_slope=0.0, local_centre=0):
    """Makes eager attention (which the networks then use) add a bias to the scores:
    - buckets > 0: every self-attention layer learns one per head and offset bucket, started at 0
      (so the pair starts as the paper's);
    - local_slope > 0: a fixed -local_slope x ||offset| - local_centre|, never trained (centre 0:
      peaked on the token itself; centre 1: on its two neighbours), in the first head of every
      layer (of a network with one head, in the first half of its layers, so that it keeps layers
      that can see the whole sequence): heads that cannot help but read their neighbours, as
      `electra pretrain --set local_head_slope=SLOPE` builds them (app/model/encoder.cpp)."""
    table = offset_buckets(length, buckets) if buckets else None
    offset = (torch.arange(length)[None, :] - torch.arange(length)[:, None]).abs().float()
    distance = (offset - local_centre).abs()
    for network in networks:
        network.config._attn_implementation = "eager"
        layers = network.electra.encoder.layer
        for index, layer in enumerate(layers):
            attention = layer.attention.self
            heads = attention.num_attention_heads
            if buckets:
                attention.relative_bias = torch.nn.Parameter(torch.zeros(heads, buckets))
                attention.offset_table = table
            if local_slope and (heads > 1 or index < len(layers) // 2):
                fixed = torch.zeros(heads, length, length)
                fixed[0] = -local_slope * distance
                attention.register_buffer("fixed_bias", fixed, persistent=False)
    # Once per process: the bias lives on each module, so further networks (more exports in one
    # probe) need no second wrapper, which would add it twice.
    if not getattr(modeling_electra.eager_attention_forward, "adds_module_bias", False):
        modeling_electra.eager_attention_forward = eager_with_module_bias(
            modeling_electra.eager_attention_forward)


def eager_with_module_bias(plain):
    """HuggingFace's eager attention, plus the module's relative_bias (by its offset_table) and
    fixed_bias where add_attention_bias gave it them."""

    def with_bias(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
        n = query.shape[2]
        bias = torch.zeros(())
        if hasattr(module, "relative_bias"):
            bias = bias + module.relative_bias[:, module.offset_table[:n, :n]]  # [heads, q, k]
        if hasattr(module, "fixed_bias"):
            bias = bias + module.fixed_bias[:, :n, :n]
        if bias.dim():
            bias = bias[None]
            attention_mask = bias if attention_mask is None else bias + attention_mask
        return plain(module, query, key, value, attention_mask, scaling, dropout, **kwargs)

    with_bias.adds_module_bias = True
    return with_bias


def choose_positions(ids, mask, generator, mask_prob=0.15, keep_prob=0.15):
    real = (mask == 1) & (ids != CLS) & (ids != SEP) & (ids != PAD)
    chosen = (torch.rand(ids.shape, generator=generator) < mask_prob) & real
    keep = torch.rand(ids.shape, generator=generator) < keep_prob
    masked = ids.masked_fill(chosen & ~keep, MASK)
    return masked, chosen


def forward(pair, ids, mask, segments, masked, chosen, gumbel_generator):
    # The MLM head at the chosen positions only, as the official code gathers them first (the
    # head works position by position: the same logits, without the other 85% of the vocabulary
    # projections).
    hidden = pair.generator.electra(input_ids=masked, attention_mask=mask,
                                    token_type_ids=segments).last_hidden_state
    head = pair.generator
    chosen_logits = head.generator_lm_head(head.generator_predictions(hidden[chosen])).float()
    mlm_loss = F.cross_entropy(chosen_logits, ids[chosen])
    with torch.no_grad():
        uniform = torch.rand(chosen_logits.shape, generator=gumbel_generator).clamp_(1e-9, 1 - 1e-9)
        sampled = (chosen_logits - torch.log(-torch.log(uniform))).argmax(-1)
        corrupted = masked.clone()
        corrupted[chosen] = sampled
        replaced = chosen.clone()
        replaced[chosen] = sampled != ids[chosen]
    disc_logits = pair.discriminator(input_ids=corrupted, attention_mask=mask,
                                     token_type_ids=segments).logits
    real = mask == 1
    disc_loss = F.binary_cross_entropy_with_logits(disc_logits[real].float(),
                                                   replaced[real].float())
    return mlm_loss, disc_loss, chosen_logits, disc_logits[real], replaced[real]


class AdamNoBiasCorrection(torch.optim.Optimizer):
    """Adam as official ELECTRA (and BERT) run it: no bias correction, decoupled weight decay."""

    def __init__(self, groups, lr, betas=(0.9, 0.999), eps=1e-6):
        super().__init__(groups, dict(lr=lr, betas=betas, eps=eps, weight_decay=0.0))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["m"], state["v"] = torch.zeros_like(p), torch.zeros_like(p)
                m, v = state["m"], state["v"]
                m.mul_(b1).add_(p.grad, alpha=1 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                update = m / (v.sqrt() + group["eps"])
                if group["weight_decay"]:
                    update.add_(p, alpha=group["weight_decay"])
                p.add_(update, alpha=-group["lr"])


def auc(scores, labels):
    order = torch.argsort(scores)
    ranks = torch.empty_like(order, dtype=torch.float64)
    ranks[order] = torch.arange(1, len(scores) + 1, dtype=torch.float64)
    positives = labels.sum().item()
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    return (ranks[labels].sum().item() - positives * (positives + 1) / 2) / (positives * negatives)


@torch.no_grad()
def evaluate(pair, data, examples, batch, seed):
    pair.eval()
    ids, mask, segments = (t[:examples] for t in data)
    generator, gumbel = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed + 1)
    sums = dict(mlm_loss=0.0, mlm_right=0, chosen=0, disc_loss=0.0, tokens=0)
    all_scores, all_labels = [], []
    for start in range(0, len(ids), batch):
        part = slice(start, start + batch)
        masked, chosen = choose_positions(ids[part], mask[part], generator)
        mlm_loss, disc_loss, chosen_logits, scores, labels = forward(
            pair, ids[part], mask[part], segments[part], masked, chosen, gumbel)
        n = int(chosen.sum())
        sums["mlm_loss"] += mlm_loss.item() * n
        sums["mlm_right"] += int((chosen_logits.argmax(-1) == ids[part][chosen]).sum())
        sums["chosen"] += n
        sums["disc_loss"] += disc_loss.item() * len(labels)
        sums["tokens"] += len(labels)
        all_scores.append(scores.float())
        all_labels.append(labels)
    pair.train()
    scores, labels = torch.cat(all_scores), torch.cat(all_labels)
    predicted = scores > 0
    true_positive = int((predicted & labels).sum())
    return dict(kind="eval", examples=float(len(ids)), tokens=float(sums["tokens"]),
                mlm_loss=sums["mlm_loss"] / sums["chosen"],
                mlm_accuracy=sums["mlm_right"] / sums["chosen"],
                disc_loss=sums["disc_loss"] / sums["tokens"],
                disc_accuracy=float((predicted == labels).float().mean()),
                disc_precision=true_positive / max(int(predicted.sum()), 1),
                disc_recall=true_positive / max(int(labels.sum()), 1),
                disc_auc=auc(scores, labels),
                replaced_fraction=float(labels.float().mean()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--size", default="tiny")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-every", type=int, default=20)
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--eval-examples", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--relative-bias", type=int, default=0, metavar="BUCKETS",
                        help="hypothesis test: learned relative-offset attention bias (0: none)")
    parser.add_argument("--local-heads", type=float, default=0.0, metavar="SLOPE",
                        help="hypothesis test: a fixed -SLOPE x ||offset| - CENTRE| bias in "
                        "first heads (0: none)")
    parser.add_argument("--local-centre", type=int, default=0, choices=(0, 1),
                        help="the local heads' peak: 0 the token itself, 1 its two neighbours")
    parser.add_argument("--probe", action="store_true",
                        help="write RUN/probe.json at the end (context AUCs, attention by layer)")
    a = parser.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    train = read_split(a.data, "train")
    validation = read_split(a.data, "validation")
    pair = Pair(*hf_configs(a.size, train[3]))
    if a.relative_bias or a.local_heads:
        add_attention_bias((pair.generator, pair.discriminator), train[0].shape[1],
                           a.relative_bias, a.local_heads, a.local_centre)
    decay, no_decay = [], []
    for name, p in pair.named_parameters():  # shared tensors appear once
        (no_decay if name.endswith("bias") or "LayerNorm" in name else decay).append(p)
    optimizer = AdamNoBiasCorrection([dict(params=decay, weight_decay=0.01),
                                      dict(params=no_decay, weight_decay=0.0)], lr=a.lr)
    os.makedirs(a.out, exist_ok=True)
    log = open(os.path.join(a.out, "metrics.jsonl"), "w")
    json.dump(dict(reference="HF transformers ElectraForMaskedLM + ElectraForPreTraining, "
                             "richarddwang/electra_pytorch's recipe", **vars(a)),
              open(os.path.join(a.out, "reference_config.json"), "w"), indent=2)
    rows = len(train[0])
    order = torch.Generator().manual_seed(a.seed)
    masking, gumbel = torch.Generator().manual_seed(a.seed + 7), torch.Generator().manual_seed(
        a.seed + 11)
    permutation, cursor, epoch = torch.randperm(rows, generator=order), 0, 0
    started, window = time.time(), dict(loss=0.0, mlm=0.0, disc=0.0, n=0, tokens=0)
    for step in range(1, a.steps + 1):
        if cursor + a.batch_size > rows:
            permutation, cursor, epoch = torch.randperm(rows, generator=order), 0, epoch + 1
        index = permutation[cursor:cursor + a.batch_size]
        cursor += a.batch_size
        ids, mask, segments = (t[index] for t in train[:3])
        lr = a.lr * (step / a.warmup if step <= a.warmup else
                     max(0.0, (a.steps - step) / max(1, a.steps - a.warmup)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        masked, chosen = choose_positions(ids, mask, masking)
        mlm_loss, disc_loss, *_ = forward(pair, ids, mask, segments, masked, chosen, gumbel)
        loss = mlm_loss + 50.0 * disc_loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(pair.parameters(), 1.0)
        optimizer.step()
        window["loss"] += loss.item()
        window["mlm"] += mlm_loss.item()
        window["disc"] += disc_loss.item()
        window["n"] += 1
        window["tokens"] += int(mask.sum())
        if step % a.log_every == 0:
            seconds = time.time() - started
            log.write(json.dumps(dict(kind="train", step=step, epoch=epoch, lr=lr,
                                      loss=window["loss"] / window["n"],
                                      mlm_loss=window["mlm"] / window["n"],
                                      disc_loss=window["disc"] / window["n"],
                                      tokens_per_s=window["tokens"] / max(seconds, 1e-9))) + "\n")
            log.flush()
            started, window = time.time(), dict(loss=0.0, mlm=0.0, disc=0.0, n=0, tokens=0)
        if a.eval_every and (step % a.eval_every == 0 or step == a.steps):
            record = dict(step=step, **evaluate(pair, validation[:3], a.eval_examples, 32, 12345))
            log.write(json.dumps(record) + "\n")
            log.flush()
            print(json.dumps(record), flush=True)
            started = time.time()
    if a.probe:
        json.dump(probe_in_memory(pair, train, validation, a.seed), open(
            os.path.join(a.out, "probe.json"), "w"), indent=1)


def probe_in_memory(pair, train, validation, seed):
    """probe_discriminator.py's context AUCs and attention profile (here on the clean text), on the trained pair as it is
    (no export: an attention bias has no place in HuggingFace's files)."""
    import sys
    sys.path.insert(0, HERE)
    from probe_discriminator import context_aucs, layer_profile
    pair.eval()
    for network in (pair.generator, pair.discriminator):
        network.config._attn_implementation = "eager"  # the weights come back only from eager
    ids, mask, segments = validation[:3]
    counts = np.zeros(train[3], dtype=np.int64)
    for split in (train, validation):
        np.add.at(counts, split[0][split[1].bool()].numpy(), 1)
    special = (ids == CLS) | (ids == SEP) | (mask == 0)
    counts[[PAD, CLS, SEP, MASK]] = 0
    real = mask.bool()
    torch.manual_seed(seed)
    found = {}
    for name, network in (("discriminator", pair.discriminator), ("generator", pair.generator)):
        layers, _ = layer_profile(network, real, CLS, SEP, input_ids=ids, attention_mask=mask,
                                  token_type_ids=segments)
        found[name + "_layers"] = layers
    found["context_auc_discriminator"], found["context_auc_generator"] = context_aucs(
        pair.discriminator, pair.generator, ids, mask, segments, ~special, counts, MASK, seed)
    return found


if __name__ == "__main__":
    main()
