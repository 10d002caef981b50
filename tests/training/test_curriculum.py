"""Curriculum stages (trainable sets, transitions), per-example losses, process sharding and the LR schedule."""

from __future__ import annotations

import pytest
import torch
from conftest import make_tiny, tone

from modeling_speechverse.data.pipeline import LengthGroupedBatchSampler
from modeling_speechverse.training import (
    Curriculum,
    StageRecipe,
    apply_stage,
    per_example_loss,
)
from modeling_speechverse.training.data import ProcessBatchSampler
from modeling_speechverse.training.recipe import TrainRecipe
from modeling_speechverse.training.state import TrainerState
from modeling_speechverse.training.trainer import make_scheduler

ALIGN = StageRecipe(name="align", lora=False, tasks=["ASR"], max_steps=3)
WARMUP = StageRecipe(name="lora-warmup", lora=True, tasks=["ASR"], patience=2)
MULTITASK = StageRecipe(name="multitask", lora=True, patience=2)


def _logits(model, processor):
    inputs = processor(audio=[tone(0.5)], sampling_rate=16000, text=["Transcribe the audio"], text_target=["hi"])
    with torch.no_grad():
        return model(**inputs).logits


def test_each_stage_trains_exactly_the_papers_parameters():
    model, processor = make_tiny(lora_rank=4, layer_weighting="all")
    adapters = set(model.adapter_state_dict())
    lora = {name for name in adapters if "lora_" in name}
    assert lora and "layer_weighting.layer_logits" in adapters

    # Stage 1: downsampler and layer weights only; the adapters are switched out of the forward pass.
    assert set(apply_stage(model, ALIGN)) == adapters - lora
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.add_(1.0)
    before = _logits(model, processor)
    # Stage 2: the LoRA adapters join; the frozen backbones stay frozen.
    assert set(apply_stage(model, WARMUP)) == adapters
    assert not torch.allclose(_logits(model, processor), before)
    assert all(not p.requires_grad for n, p in model.named_parameters() if n not in adapters)
    # Back to stage 1 (a resumed run), the adapters drop out again.
    apply_stage(model, ALIGN)
    assert torch.equal(_logits(model, processor), before)


def test_last_layer_models_train_only_the_downsampler_in_stage_1():
    model, _ = make_tiny(lora_rank=4, layer_weighting="last")
    assert all(name.startswith("downsampler.") for name in apply_stage(model, ALIGN))


def _curriculum(*stages: StageRecipe, min_delta: float = 0.0) -> Curriculum:
    curriculum = Curriculum(list(stages), TrainerState(), min_delta=min_delta)
    curriculum.begin_stage(["ASR"], ["downsampler.convs.0.weight"])
    return curriculum


def test_a_stage_ends_at_its_step_budget():
    curriculum = _curriculum(ALIGN, WARMUP)
    state = curriculum.state
    reasons = []
    for _ in range(3):
        state.global_step += 1
        reasons.append(curriculum.on_step_end())
    assert reasons == [None, None, "step budget of 3 reached"]
    state.epoch, state.batches_in_epoch = 2, 5
    assert curriculum.end_stage(reasons[-1])
    assert (state.stage, state.epoch, state.batches_in_epoch) == (1, 0, 0)
    assert state.stages[0] | {"trainable_parameters": None} == {
        "name": "align",
        "index": 0,
        "lora": False,
        "tasks": ["ASR"],
        "trainable_parameters": None,
        "start_step": 0,
        "end_step": 3,
        "end_reason": "step budget of 3 reached",
    }
    assert not curriculum.stage_started  # the trainer begins stage 2a next


def test_a_stage_ends_when_validation_loss_stops_improving():
    curriculum = _curriculum(WARMUP, MULTITASK, min_delta=0.01)
    verdicts = []
    for loss in (5.0, 4.0, 3.995, float("nan"), 3.0, 3.5, 3.2):
        curriculum.state.global_step += 1
        curriculum.on_evaluate(loss)
        verdicts.append(curriculum.on_step_end())
    # 3.995 improves by less than min_delta and NaN never improves: two evaluations without improvement.
    assert verdicts[:4] == [None, None, None, "validation loss did not improve for 2 evaluations"]
    assert curriculum.end_stage(verdicts[3])
    # The next stage starts from a clean slate, then stops after its own patience: the last stage ends training.
    curriculum.begin_stage(["ASR", "SC"], [])
    for loss in (3.0, 3.5, 3.2):
        curriculum.on_evaluate(loss)
    assert curriculum.state.best_loss == 3.0
    assert curriculum.on_step_end() == "validation loss did not improve for 2 evaluations"
    assert not curriculum.end_stage("early stop")
    assert [s["end_reason"] for s in curriculum.state.stages] == [verdicts[3], "early stop"]


@pytest.mark.parametrize("text", ["t5", "llama"])
def test_per_example_losses_add_up_to_the_models_loss(text):
    model, processor = make_tiny(text=text)
    clips = [tone(0.4, 220.0), tone(0.7, 440.0), tone(0.5, 880.0)]
    instructions = ["Transcribe the audio", "what is being said", "Transcribe"]
    targets = ["turn on the radio now", "yes", "play some music please"]
    batch = processor(audio=clips, sampling_rate=16000, text=instructions, text_target=targets)
    with torch.no_grad():
        outputs = model(**batch)
        sums, counts = per_example_loss(outputs.logits, batch["labels"], model.config.is_encoder_decoder_llm)
        torch.testing.assert_close(sums.sum() / counts.sum(), outputs.loss)
        # Each row's share is that example's own loss, padding and all.
        for i in range(3):
            alone = processor(audio=[clips[i]], sampling_rate=16000, text=[instructions[i]], text_target=[targets[i]])
            torch.testing.assert_close(sums[i] / counts[i], model(**alone).loss, rtol=1e-4, atol=1e-4)


def _shards(lengths, batch_size, processes, pad):
    samplers = [
        ProcessBatchSampler(LengthGroupedBatchSampler(lengths, batch_size, shuffle=not pad), processes, rank, pad)
        for rank in range(processes)
    ]
    return samplers, [list(sampler) for sampler in samplers]


def test_training_shards_are_disjoint_and_equally_long():
    samplers, shards = _shards([float(i % 7) for i in range(40)], batch_size=3, processes=3, pad=False)
    # 14 batches: 4 rounds of 3 processes, the last 2 batches of the epoch dropped.
    assert [len(shard) for shard in shards] == [4, 4, 4] == [len(s) for s in samplers]
    indices = [i for shard in shards for batch in shard for i in batch]
    assert len(indices) == len(set(indices)) >= 40 - 2 * 3
    samplers[1].set_epoch(1)
    assert list(samplers[1]) != shards[1]  # a new grouping every epoch
    samplers[1].set_epoch(0)
    samplers[1].start = 3
    assert list(samplers[1]) == shards[1][3:] and list(samplers[1]) == shards[1]  # `start` holds for one pass


def test_evaluation_shards_cover_every_example_once():
    samplers, shards = _shards([1.0] * 10, batch_size=3, processes=3, pad=True)
    # 4 batches padded to 6 so every process runs 2; the 2 repeats are flagged.
    assert [len(shard) for shard in shards] == [2, 2, 2] == [len(s) for s in samplers]
    real = [
        i
        for sampler, shard in zip(samplers, shards)
        for k, b in enumerate(shard)
        if not sampler.is_padding(k)
        for i in b
    ]
    assert sorted(real) == list(range(10))


@pytest.mark.parametrize("schedule", ["constant", "linear", "cosine"])
def test_a_rebuilt_optimizer_continues_the_schedule(schedule):
    train = TrainRecipe(
        lr=1.0, max_steps=20, effective_batch_size=1, per_device_batch_size=1, warmup_steps=4, schedule=schedule
    )
    first = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=train.lr)
    scheduler = make_scheduler(first, train, step=0)
    rates = []
    for _ in range(10):
        first.step()
        scheduler.step()
        rates.append(scheduler.get_last_lr()[0])
    rebuilt = make_scheduler(torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=train.lr), train, step=6)
    assert rebuilt.get_last_lr()[0] == rates[5]
    assert rates[2] == 0.75  # warm-up 3/4 of the way
