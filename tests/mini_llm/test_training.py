"""The resumable training loop: a run killed after a checkpoint and resumed ends with the same weights."""

from __future__ import annotations

import pytest
import torch
from transformers import T5ForConditionalGeneration

from modeling_speechverse.mini_llm.pretrain import mini_t5_config
from modeling_speechverse.mini_llm.training import TrainingConfig, length_grouped_batches, pad_seq2seq, train_seq2seq

CONFIG = TrainingConfig(steps=4, batch_size=2, learning_rate=1e-3, warmup_steps=1, log_every=1, save_every=2)


def _model() -> T5ForConditionalGeneration:
    torch.manual_seed(0)
    return T5ForConditionalGeneration(
        mini_t5_config(64, d_model=16, d_kv=4, d_ff=32, num_layers=1, num_decoder_layers=1, num_heads=2)
    )


def _batch(step: int) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(step)
    inputs = torch.randint(3, 64, (2, 6), generator=generator).tolist()
    return pad_seq2seq(inputs, [row[:3] + [1] for row in inputs], pad_token_id=0)


class Killed(Exception):
    pass


def test_resumed_run_matches_uninterrupted_run(tmp_path):
    straight = _model()
    history = train_seq2seq(straight, _batch, CONFIG, tmp_path / "straight", log=lambda _: None)
    assert [record["step"] for record in history] == [1, 2, 3, 4]
    assert history[-1]["loss"] < history[0]["loss"]

    def dies_at_step_3(step: int) -> dict[str, torch.Tensor]:
        if step == 2:  # after the step-2 checkpoint
            raise Killed
        return _batch(step)

    with pytest.raises(Killed):
        train_seq2seq(_model(), dies_at_step_3, CONFIG, tmp_path / "resumed", log=lambda _: None)
    resumed = _model()
    messages = []
    train_seq2seq(resumed, _batch, CONFIG, tmp_path / "resumed", log=messages.append)
    assert messages[0].startswith("resumed") and "step 2" in messages[0]
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_resuming_with_another_config_is_refused(tmp_path):
    train_seq2seq(_model(), _batch, CONFIG, tmp_path, log=lambda _: None)
    other = TrainingConfig(steps=8, batch_size=2, learning_rate=1e-3, warmup_steps=1)
    with pytest.raises(ValueError, match="another training config"):
        train_seq2seq(_model(), _batch, other, tmp_path, log=lambda _: None)


def test_pad_seq2seq_pads_inputs_and_labels_differently():
    batch = pad_seq2seq([[5, 6, 1], [7, 1]], [[8, 1], [9, 10, 11, 1]], pad_token_id=0)
    assert batch["input_ids"].tolist() == [[5, 6, 1], [7, 1, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch["labels"].tolist() == [[8, 1, -100, -100], [9, 10, 11, 1]]
    with pytest.raises(ValueError, match="as many label rows"):
        pad_seq2seq([[5, 1]], [], pad_token_id=0)


def test_invalid_config_is_a_value_error():
    with pytest.raises(ValueError, match="invalid training config"):
        TrainingConfig(steps=10, batch_size=2, learning_rate=1e-3, warmup_steps=20)


def test_length_grouped_batches_cover_each_epoch_once_and_depend_only_on_the_step():
    lengths = [(7 * i) % 23 for i in range(60)]
    rows = length_grouped_batches(lengths, batch_size=3, seed=0)
    first_epoch = [rows(step) for step in range(20)]
    second_epoch = [rows(step) for step in range(20, 40)]
    for epoch in (first_epoch, second_epoch):
        assert sorted(i for batch in epoch for i in batch) == list(range(60))
    assert first_epoch != second_epoch
    fresh = length_grouped_batches(lengths, batch_size=3, seed=0)
    assert fresh(25) == second_epoch[5] and fresh(3) == first_epoch[3]
    other_seed = length_grouped_batches(lengths, batch_size=3, seed=1)
    assert [other_seed(step) for step in range(20)] != first_epoch
    with pytest.raises(ValueError, match="fewer than one batch"):
        length_grouped_batches([1, 2], batch_size=3, seed=0)
