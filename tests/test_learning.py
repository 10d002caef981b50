"""Proof of learning: training only the adapters makes a tiny model generate each clip's label exactly."""

from __future__ import annotations

import torch
from conftest import make_tiny, tone


def test_adapters_learn_to_generate_the_labels():
    model, processor = make_tiny("wavlm", "t5", lora_rank=8)
    clips = [tone(0.3, freq) for freq in (220.0, 440.0, 880.0, 1760.0)]
    labels = ["one", "two", "radio now", "yes"]
    batch = processor(audio=clips, sampling_rate=16000, text=["Transcribe the audio"] * 4, text_target=labels)
    generate_inputs = {k: v for k, v in batch.items() if k != "labels"}
    frozen_before = {n: p.clone() for n, p in model.named_parameters() if not p.requires_grad}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)

    decoded = []
    for step in range(200):
        model.train()
        model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step % 10 == 9:
            model.eval()
            decoded = processor.batch_decode(model.generate(**generate_inputs, max_new_tokens=8), skip_special_tokens=True)
            if decoded == labels:
                break
    assert decoded == labels
    assert all(torch.equal(p, frozen_before[n]) for n, p in model.named_parameters() if not p.requires_grad)
