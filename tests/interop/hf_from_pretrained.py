#!/usr/bin/env python3
"""Loads an `electra export` with HuggingFace transformers' from_pretrained and checks that no
weight is missing or unexpected and that the discriminator and generator reproduce the fixture's
outputs.
usage: hf_from_pretrained.py EXPORT_DIR FIXTURE_DIR"""
import sys

import torch
from safetensors.torch import load_file
from transformers import ElectraForMaskedLM, ElectraForPreTraining

export_dir, fixture = sys.argv[1], sys.argv[2]
expected = load_file(f"{fixture}/expected.safetensors")
inputs = dict(input_ids=expected["input_ids"], attention_mask=expected["attention_mask"],
              token_type_ids=expected["token_type_ids"])
failures = []

disc, info = ElectraForPreTraining.from_pretrained(f"{export_dir}/discriminator",
                                                   output_loading_info=True)
gen, gen_info = ElectraForMaskedLM.from_pretrained(f"{export_dir}/generator",
                                                   output_loading_info=True)
for name, loading in (("discriminator", info), ("generator", gen_info)):
    missing = [k for k in loading["missing_keys"] if k != "generator_lm_head.weight"]
    if missing or loading["unexpected_keys"]:
        failures.append(f"{name}: missing {missing}, unexpected {loading['unexpected_keys']}")
disc.eval(), gen.eval()
with torch.no_grad():
    logits = disc(**inputs).logits
    diff = (logits - expected["discriminator_logits"]).abs().max().item()
    print(f"discriminator logits: max |diff| {diff:.3g}")
    if diff > 1e-4:
        failures.append(f"discriminator logits differ by {diff}")
    gen_inputs = dict(inputs, input_ids=expected["generator_input_ids"])
    mlm = gen(**gen_inputs).logits
    rows, cols = expected["mlm_positions"][:, 0], expected["mlm_positions"][:, 1]
    diff = (mlm[rows, cols] - expected["generator_logits_at_mlm"]).abs().max().item()
    print(f"generator logits at masked positions: max |diff| {diff:.3g}")
    if diff > 1e-4:
        failures.append(f"generator logits differ by {diff}")
    tied = gen.generator_lm_head.weight.data_ptr() == gen.electra.embeddings.word_embeddings.weight.data_ptr()
    if not tied:
        failures.append("generator_lm_head.weight is not tied to the word embeddings")
print("\n".join(failures) if failures else "from_pretrained: ok")
sys.exit(1 if failures else 0)
