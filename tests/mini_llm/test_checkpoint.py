"""The shipped `checkpoints/mini-t5`: loads with the Auto classes, small fp16 shards, and does the simple tasks."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

from modeling_speechverse.mini_llm import format_text_input

CHECKPOINT = Path(__file__).resolve().parents[2] / "checkpoints" / "mini-t5"


@pytest.fixture(scope="module")
def mini_t5():
    torch.set_num_threads(1)
    return AutoModelForSeq2SeqLM.from_pretrained(CHECKPOINT).eval(), AutoTokenizer.from_pretrained(CHECKPOINT)


def _generate(mini_t5, transcript: str, instruction: str) -> str:
    model, tokenizer = mini_t5
    inputs = tokenizer(format_text_input(transcript, instruction), return_tensors="pt")
    with torch.no_grad():
        ids = model.generate(**inputs, max_new_tokens=32, num_beams=1, do_sample=False)
    return tokenizer.decode(ids[0], skip_special_tokens=True).strip()


def test_shards_are_float16_and_under_15_mb():
    shards = sorted(CHECKPOINT.glob("*.safetensors"))
    assert len(shards) >= 2
    for shard in shards:
        assert shard.stat().st_size < 15_000_000, shard.name
        with safe_open(shard, "pt") as handle:
            assert {handle.get_slice(name).get_dtype() for name in handle.keys()} == {"F16"}


def test_loads_as_a_float32_t5_of_about_ten_million_parameters(mini_t5):
    model, tokenizer = mini_t5
    assert model.config.model_type == "t5" and model.dtype == torch.float32
    assert 9_000_000 < model.num_parameters() < 13_000_000
    assert model.config.vocab_size == len(tokenizer) == 8000
    assert (model.config.decoder_start_token_id, model.config.eos_token_id) == (0, 1)
