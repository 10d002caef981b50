"""The training input pipeline: instructions, joint examples, length filters, mixing, collation, batching."""

from __future__ import annotations

import io
import sys
from collections import Counter
from pathlib import Path

import datasets
import numpy as np
import pytest
import soundfile
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import make_tiny, tone  # noqa: E402

from modeling_speechverse.data.pipeline import (  # noqa: E402
    LengthGroupedBatchSampler,
    add_transcript_asr_examples,
    SpeechVerseCollator,
    mix_tasks,
    padding_fraction,
    prepare_split,
)
from modeling_speechverse.tasks import get_task  # noqa: E402


def wav_bytes(samples: np.ndarray, sampling_rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, sampling_rate, format="WAV")
    return buffer.getvalue()


def corpus(n_per_task: int = 6) -> datasets.Dataset:
    rows = []
    specs = [
        ("ASR", "turn on the radio", {}),
        ("KWS", "yes", {"keyword": "radio"}),
        ("IC", "play_radio", {"labels": ["play_radio", "weather_query"]}),
        ("SC", "one", {}),
    ]
    for task, target, extra in specs:
        for i in range(n_per_task):
            seconds = 0.2 + 0.1 * i
            rows.append(
                {
                    "id": f"{task}-{i}",
                    "audio": {"bytes": wav_bytes(tone(seconds, 200 + 50 * i)), "path": None},
                    "task": task,
                    "target": target,
                    "transcript": "turn on the radio" if task != "SC" else "",
                    "instruction": "",
                    "keyword": extra.get("keyword", ""),
                    "target_language": "",
                    "labels": extra.get("labels", []),
                    "duration": seconds,
                }
            )
    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "audio": datasets.Audio(sampling_rate=16000, decode=False),
            "task": datasets.Value("string"),
            "target": datasets.Value("string"),
            "transcript": datasets.Value("string"),
            "instruction": datasets.Value("string"),
            "keyword": datasets.Value("string"),
            "target_language": datasets.Value("string"),
            "labels": datasets.List(datasets.Value("string")),
            "duration": datasets.Value("float32"),
        }
    )
    return datasets.Dataset.from_list(rows, features=features)


@pytest.fixture(scope="module")
def tiny():
    return make_tiny()


def test_instructions_are_seeded_and_filled():
    prepared, _ = prepare_split(corpus(), seed=3)
    again, _ = prepare_split(corpus(), seed=3)
    assert list(prepared["instruction"]) == list(again["instruction"])
    by_id = {row["id"]: row for row in prepared}
    assert "radio" in by_id["KWS-0"]["instruction"]
    assert "play_radio" in by_id["IC-0"]["instruction"] or "play radio" in by_id["IC-0"]["instruction"].lower()
    train_prompts = {get_task("SC").fill_instruction(t) for t in get_task("SC").instructions("train")}
    assert by_id["SC-0"]["instruction"] in train_prompts


def test_heldout_prompts_and_task_selection():
    prepared, _ = prepare_split(corpus(), tasks=["SC"], prompt_split="heldout")
    heldout = {get_task("SC").fill_instruction(t) for t in get_task("SC").instructions("heldout")}
    assert set(prepared["task"]) == {"SC"} and set(prepared["instruction"]) <= heldout


def test_joint_examples_put_the_transcript_first():
    prepared, _ = prepare_split(corpus(), tasks=["KWS", "ASR", "SC"], joint_rate=1.0)
    rows = {row["id"]: row for row in prepared}
    assert rows["KWS-0"]["joint"] and rows["KWS-0"]["target"].startswith("ASR: turn on the radio")
    assert not rows["ASR-0"]["joint"] and not rows["SC-0"]["joint"]  # nothing to add / no words spoken


def test_length_filters_drop_and_count(tiny):
    _, processor = tiny
    prepared, dropped = prepare_split(
        corpus(), tokenizer=processor.tokenizer, max_audio_seconds=0.45, max_label_tokens=4
    )
    assert dropped["audio_too_long"] == 4 * 3  # durations 0.5, 0.6, 0.7 of each task
    assert dropped["label_too_long"] > 0
    assert max(prepared["duration"]) <= 0.45
    assert all(len(ids) <= 4 for ids in processor.tokenizer(list(prepared["target"]))["input_ids"])


def test_mix_tasks_uses_per_sample_weights():
    data = corpus(n_per_task=6)
    only_asr = mix_tasks(data, {"ASR": 1.0, "KWS": 0.0})
    assert set(only_asr["task"]) == {"ASR"} and len(only_asr) == 6
    mixed = mix_tasks(data, {"ASR": 3.0, "SC": 1.0}, stopping_strategy="first_exhausted")
    counts = Counter(mixed["task"])
    assert counts["ASR"] > counts["SC"]
    with pytest.raises(ValueError, match="absent from the data"):
        mix_tasks(data, {"ER": 1.0})


def test_transcribed_clips_of_other_tasks_become_asr_examples():
    data = corpus(n_per_task=2)  # ASR, KWS and IC clips have a transcript, SC clips none
    extended = add_transcript_asr_examples(data)
    added = extended.select(range(len(data), len(extended)))
    assert sorted(added["id"]) == ["IC-0", "IC-1", "KWS-0", "KWS-1"]
    assert set(added["task"]) == {"ASR"} and set(added["target"]) == {"turn on the radio"}
    assert all(not labels for labels in added["labels"]) and set(added["keyword"]) == {""}
    assert list(extended.select(range(len(data)))["target"]) == list(data["target"])
    prepared, _ = prepare_split(extended, ["ASR"])
    assert len(prepared) == 6  # 2 ASR clips + 4 added


def test_collator_pads_masks_and_skips_bad_audio(tiny, caplog):
    _, processor = tiny
    prepared, _ = prepare_split(corpus(), tasks=["ASR", "SC"])
    examples = [prepared[0], prepared[len(prepared) - 1]]
    broken = dict(examples[0], id="broken", audio={"bytes": b"not audio at all", "path": None})
    silent = dict(examples[0], id="silent", audio={"bytes": wav_bytes(np.zeros(1600, np.float32)), "path": None})
    collator = SpeechVerseCollator(processor)
    batch = collator(examples + [broken, silent])
    assert batch["tasks"] == ["ASR", "SC"]
    assert batch["input_features"].shape[0] == 2
    labels = batch["labels"]
    assert (labels[1] == -100).any() and (labels[0] != -100).all()  # "one" is shorter than the transcript
    assert sum(collator.skipped.values()) == 2
    assert collator([broken]) is None


def test_length_grouped_batches_cover_everything_and_pad_less():
    rng = np.random.default_rng(0)
    lengths = rng.uniform(2, 20, size=400).tolist()
    sampler = LengthGroupedBatchSampler(lengths, batch_size=16, seed=1)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(400)) and len(batches) == len(sampler)
    random_batches = [list(range(i, min(i + 16, 400))) for i in range(0, 400, 16)]
    assert padding_fraction(lengths, batches) < 0.5 * padding_fraction(lengths, random_batches)
    assert list(LengthGroupedBatchSampler(lengths, 16, seed=1)) == batches
    sampler.set_epoch(1)
    assert list(sampler) != batches
    assert padding_fraction([1.0, 3.0], [[0, 1]]) == pytest.approx(1 - 4 / 6)
    assert torch.is_tensor(torch.tensor(batches[0]))
