#!/usr/bin/env python3
"""What a pretrained discriminator still sees (issue 27: the collapse explained).

For each exported pair (`electra export --checkpoint RUN --out DIR`: DIR/discriminator and
DIR/generator), on a prepared corpus's validation split: corrupt 15% of the real tokens with the
pair's own generator (as pretraining does, [MASK] then a sample), run the discriminator, and print
one JSON line with
- per layer, the mean cosine similarity between token representations (1.0: every token the same),
- per layer of the discriminator (on the corrupted text) and of the generator (on the masked text),
  where the attention goes and what the layer adds (`layer_profile`): the attention's entropy (nats;
  a uniform spread over a 128-token row is 4.85), its weight on [CLS], on [SEP], on the token itself,
  on the previous and on the next token (uniform: 1/128 = 0.008 each; a head that reads neighbours
  puts far more there), the share of feed-forward units that fire (pre-activation > 0 on more than
  1% of the tokens), and the mean norm of the layer's input, of its attention branch and of its
  feed-forward branch, each branch with the share of that norm common to all tokens (the norm of the
  mean over the mean norm: 1.0 when the branch adds the same vector to every token, which the
  following LayerNorm then makes every token's),
- the RTD head's units that are active (pre-activation > 0) on more than 1% of the tokens,
- the spread of the logits over ordinary tokens, overall and within one word ("the", ",", "of",
  "."): a discriminator that ignores its input gives every occurrence the same logit,
- the RTD AUC, and how much the replaced tokens differ from the originals by frequency alone
  (the share of the corpus's 2,000 most frequent tokens among each): when they do not, only the
  context can tell them apart.

A pair trained with `--set local_head_slope=S` (and `local_head_centre=C`) gets its local heads
back here (HuggingFace's ELECTRA has none): `reference_electra.add_attention_bias`.

  .venv/bin/python bench/probe_discriminator.py --data SHARDS EXPORT [EXPORT ...]
"""
import argparse
import json
import os

import h5py
import numpy as np
import torch
from transformers import ElectraForMaskedLM, ElectraForPreTraining


def auc(labels, scores):
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    # Ties share their average rank: a head that gives every token one logit scores 0.5.
    sorted_scores = scores[order]
    start = 0
    while start < len(scores):
        end = start
        while end + 1 < len(scores) and sorted_scores[end + 1] == sorted_scores[start]:
            end += 1
        ranks[order[start:end + 1]] = (start + end) / 2 + 1
        start = end + 1
    positives = labels.sum()
    negatives = len(labels) - positives
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def context_aucs(discriminator, generator, ids, mask, segments, ordinary, counts, mask_id, seed,
                 draws=8):
    """The two context AUCs (see the module's text), each the mean over `draws` corruptions of the
    split (one corruption of a small split scatters by about 0.02)."""
    vocab_size = generator.config.vocab_size
    frequency = counts[:vocab_size].astype(np.float64)
    frequency = frequency / frequency.sum()
    log_frequency = torch.tensor(np.log(frequency + 1e-30))
    rng = np.random.RandomState(seed)
    found = []
    for _ in range(draws):
        picked = torch.tensor(rng.rand(*ids.shape) < 0.30) & ordinary
        replace = picked & torch.tensor(rng.rand(*ids.shape) < 0.5)
        corrupted = torch.where(replace, torch.tensor(rng.choice(vocab_size, size=ids.shape, p=frequency)), ids)
        same = replace & (corrupted == ids)
        while bool(same.any()):  # never the original token
            corrupted[same] = torch.tensor(rng.choice(vocab_size, size=int(same.sum()), p=frequency))
            same = replace & (corrupted == ids)
        with torch.no_grad():
            scores = discriminator(input_ids=corrupted, attention_mask=mask, token_type_ids=segments).logits
            shown = torch.where(picked, torch.full_like(ids, mask_id), corrupted)
            log_probs = torch.log_softmax(
                generator(input_ids=shown, attention_mask=mask, token_type_ids=segments).logits, -1)
        # The generator: how much less likely than its frequency it finds the token shown there.
        surprise = log_frequency[corrupted] - log_probs.gather(-1, corrupted.unsqueeze(-1)).squeeze(-1)
        replaced = replace.numpy()
        found.append((auc(replaced[ordinary.numpy()], scores[ordinary].numpy()),
                      auc(replaced[picked.numpy()], surprise[picked].numpy())))
    return tuple(round(float(np.mean([f[i] for f in found])), 3) for i in (0, 1))


def layer_profile(model, real, cls_id, sep_id, **inputs):
    """Runs `model` (hidden states and attentions kept) and returns its output and, per encoder
    layer, where the attention goes and what each branch adds (the module's text)."""
    found = {}
    hooks = []
    for i, layer in enumerate(model.electra.encoder.layer):
        for name, module in (("attention", layer.attention.output.dense),
                             ("ffn_pre", layer.intermediate.dense), ("ffn", layer.output.dense)):
            hooks.append(module.register_forward_hook(
                lambda _m, _i, out, key=(name, i): found.__setitem__(key, out[real])))
    with torch.no_grad():
        out = model(**inputs, output_hidden_states=True, output_attentions=True)
    for hook in hooks:
        hook.remove()
    ids = inputs["input_ids"]
    length = ids.shape[1]
    places = {"cls": (ids == cls_id).float()[:, None, :], "sep": (ids == sep_id).float()[:, None, :],
              "self": torch.eye(length), "previous": torch.diag(torch.ones(length - 1), -1),
              "next": torch.diag(torch.ones(length - 1), 1)}
    common = lambda x: round(float(x.mean(0).norm() / x.norm(dim=-1).mean()), 3)
    profile = []
    for i, attention in enumerate(out.attentions):  # [batch, heads, query, key]; padding weighs 0
        plogp = torch.where(attention > 0, attention * attention.clamp_min(1e-30).log(),
                            torch.zeros_like(attention))
        row = {"attention_entropy": round(float(-plogp.sum(-1).mean(1)[real].mean()), 3)}
        heads_mean = attention.mean(1)
        for place, weights in places.items():
            row["attention_on_" + place] = round(float((heads_mean * weights).sum(-1)[real].mean()), 3)
        row["ffn_units_firing"] = round(float(((found["ffn_pre", i] > 0).float().mean(0) > 0.01).float().mean()), 3)
        row["norm_input"] = round(float(out.hidden_states[i][real].norm(dim=-1).mean()), 2)
        for branch in ("attention", "ffn"):
            row["norm_" + branch] = round(float(found[branch, i].norm(dim=-1).mean()), 2)
            row["common_" + branch] = common(found[branch, i])
        profile.append(row)
    return profile, out


def probe(pair_dir, ids, mask, segments, counts, seed):
    torch.manual_seed(seed)
    vocab = open(os.path.join(pair_dir, "discriminator", "vocab.txt"), encoding="utf-8").read().split("\n")
    token_id = {token: i for i, token in enumerate(vocab)}
    cls_id, sep_id, mask_id = token_id["[CLS]"], token_id["[SEP]"], token_id["[MASK]"]
    specials = [i for i, token in enumerate(vocab) if token.startswith("[") and token.endswith("]")]
    counts = counts.copy()
    counts[specials] = 0
    frequent_ids = torch.tensor(np.argsort(-counts, kind="stable")[:2000])
    # Eager attention: the fused kernels do not return the attention weights.
    discriminator = ElectraForPreTraining.from_pretrained(
        os.path.join(pair_dir, "discriminator"), attn_implementation="eager").eval()
    generator = ElectraForMaskedLM.from_pretrained(
        os.path.join(pair_dir, "generator"), attn_implementation="eager").eval()
    slope = getattr(discriminator.config, "local_head_slope", 0.0)
    if slope:  # electra's local heads (config.json keeps the slope; HuggingFace ignores it)
        from reference_electra import add_attention_bias
        add_attention_bias((discriminator, generator), ids.shape[1], local_slope=slope,
                           local_centre=getattr(discriminator.config, "local_head_centre", 0))
    special = (ids == cls_id) | (ids == sep_id) | (mask == 0)
    chosen = (torch.rand(ids.shape) < 0.15) & ~special
    masked = ids.clone()
    masked[chosen] = mask_id
    with torch.no_grad():
        logits = generator(input_ids=masked, attention_mask=mask, token_type_ids=segments).logits
        corrupted = ids.clone()
        corrupted[chosen] = torch.distributions.Categorical(logits=logits[chosen]).sample()
    real = mask.bool()
    # The discriminator's one pass on the corrupted text serves the layer profile and the head.
    discriminator_layers, out = layer_profile(discriminator, real, cls_id, sep_id, input_ids=corrupted,
                                              attention_mask=mask, token_type_ids=segments)
    with torch.no_grad():
        head = discriminator.discriminator_predictions.dense(out.hidden_states[-1][real])
    replaced = (corrupted != ids)[real].numpy()
    scores = out.logits[real]
    ordinary = (~special)[real]
    cosines = []
    for hidden in out.hidden_states:
        x = torch.nn.functional.normalize(hidden[real], dim=-1)
        pick = torch.randperm(len(x))[:2000]
        cosines.append(round(float((x[pick] @ x[pick].T).mean()), 3))
    generator_layers, _ = layer_profile(generator, real, cls_id, sep_id, input_ids=masked,
                                        attention_mask=mask, token_type_ids=segments)
    tokens = corrupted[real][ordinary]
    within = {}
    for word in ("the", ",", "of", "."):
        here = tokens == token_id.get(word, -1)
        if here.sum() > 1:
            within[word] = round(float(scores[ordinary][here].std()), 3)
    frequent = torch.isin(tokens, frequent_ids)
    rep = torch.tensor(replaced)[ordinary]
    context_discriminator, context_generator = context_aucs(
        discriminator, generator, ids, mask, segments, ~special, counts, mask_id, seed)
    return {
        "pair": pair_dir,
        "layer_token_cosine": cosines,
        "discriminator_layers": discriminator_layers,
        "generator_layers": generator_layers,
        "head_units_active": int(((head > 0).float().mean(0) > 0.01).sum()),
        "head_units": int(head.shape[1]),
        "logit_std_ordinary_tokens": round(float(scores[ordinary].std()), 3),
        "logit_std_within_word": within,
        "rtd_auc": round(auc(replaced, scores.numpy()), 3),
        "replaced_fraction": round(float(replaced.mean()), 3),
        "frequent_share_replaced": round(float((rep & frequent).sum() / rep.sum()), 3),
        "frequent_share_original": round(float((~rep & frequent).sum() / (~rep).sum()), 3),
        "context_auc_discriminator": context_discriminator,
        "context_auc_generator": context_generator,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="prepared corpus (electra prepare --out)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("pairs", nargs="+", help="electra export --out folders")
    args = parser.parse_args()
    manifest = json.load(open(os.path.join(args.data, "manifest.json")))
    ids, mask, segments, counts = [], [], [], None
    for shard in manifest["shards"]:
        with h5py.File(os.path.join(args.data, shard["file"]), "r") as f:
            shard_ids = f["input_ids"][:].astype(np.int64)
            real = f["input_mask"][:].astype(bool)
            found = np.bincount(shard_ids[real], minlength=65536)
            counts = found if counts is None else counts + found
            if shard["split"] == "validation":
                ids.append(shard_ids)
                mask.append(f["input_mask"][:].astype(np.int64))
                segments.append(f["segment_ids"][:].astype(np.int64))
    ids, mask = torch.tensor(np.concatenate(ids)), torch.tensor(np.concatenate(mask))
    segments = torch.tensor(np.concatenate(segments))
    for pair in args.pairs:
        print(json.dumps(probe(pair, ids, mask, segments, counts, seed=args.seed)))


if __name__ == "__main__":
    main()
