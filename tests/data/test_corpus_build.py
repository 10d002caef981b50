"""The espeak-ng corpus builder, checked on one `--scale tiny` build per session (plus two small subset builds)."""

from __future__ import annotations

import io
import json
import re

import datasets
import pytest
import soundfile as sf

from modeling_speechverse.data import build as build_module
from modeling_speechverse.data.build import INFO_FILE, SHARDS_DIR, build_corpus, main
from modeling_speechverse.data.planning import SCALES, split_sizes
from modeling_speechverse.data.schema import ALL_TASKS, COLUMNS, HELD_OUT_TASKS, TRAINING_TASKS
from modeling_speechverse.data.voices import TEST_VARIANTS, voices_for_split

SUBSET = ("SC", "SNS")  # two cheap tasks for the determinism / resume builds


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("speechverse-synth") / "tiny"
    main(["--out", str(out), "--scale", "tiny", "--workers", "2"])
    return out


@pytest.fixture(scope="session")
def tiny(tiny_dir):
    return datasets.load_from_disk(str(tiny_dir))


@pytest.fixture(scope="session")
def info(tiny_dir):
    return json.loads((tiny_dir / INFO_FILE).read_text())


def _rows(dataset, task=None):
    undecoded = dataset.cast_column("audio", datasets.Audio(decode=False))
    return [row for row in undecoded if task is None or row["task"] == task]


def test_every_task_in_every_split_it_belongs_to(tiny):
    assert set(tiny) == {"train", "validation", "test"}
    assert set(tiny["train"].unique("task")) == set(TRAINING_TASKS)
    assert set(tiny["validation"].unique("task")) == set(TRAINING_TASKS)
    assert set(tiny["test"].unique("task")) == set(ALL_TASKS)
    for split, dataset in tiny.items():
        counts = {task: dataset["task"].count(task) for task in ALL_TASKS}
        expected = {task: split_sizes(task, SCALES["tiny"]).get(split, 0) for task in ALL_TASKS}
        assert counts == expected, split
    assert 200 <= sum(len(d) for d in tiny.values()) <= 500
    assert list(tiny["train"].features) == list(COLUMNS)


def test_audio_is_16khz_flac_that_decodes(tiny):
    for dataset in tiny.values():
        for row in _rows(dataset):
            info = sf.info(io.BytesIO(row["audio"]["bytes"]))
            assert (info.samplerate, info.channels, info.format) == (16000, 1, "FLAC"), row["id"]
            assert info.frames > 1600 and abs(info.frames / 16000 - row["duration"]) < 1e-3, row["id"]
    decoded = tiny["test"][0]["audio"].get_all_samples()
    assert decoded.sample_rate == 16000 and decoded.data.shape[-1] > 1600


def test_targets_and_label_sets(tiny):
    for dataset in tiny.values():
        for row in _rows(dataset):
            assert row["target"].strip(), row["id"]
            assert bool(row["labels"]) == (row["task"] not in ("ASR", "ST", "KWE", "INSTRUCT")), row["id"]
            if row["labels"] and row["task"] not in ("SF", "SF-UNSEEN"):
                assert row["target"] in row["labels"], row["id"]
            assert row["seen"] == (row["task"] not in HELD_OUT_TASKS)
            assert bool(row["transcript"]) == (row["target"] != "non-speech"), row["id"]
            assert bool(row["instruction"]) == (row["task"] == "INSTRUCT")
            assert bool(row["keyword"]) == (row["task"] == "KWS")
            assert (row["target_language"] in ("German", "French")) == (row["task"] == "ST")
    slot_pair = re.compile(r"^[a-z_]+ = [^;]+$")
    for row in _rows(tiny["train"], "SF") + _rows(tiny["test"], "SF-UNSEEN"):
        pairs = row["target"].split("; ")
        assert row["target"] == "none" or all(slot_pair.match(p) and p.split(" = ")[0] in row["labels"] for p in pairs)


def test_task_specific_rows(tiny):
    for dataset in tiny.values():
        for row in _rows(dataset, "KWS"):
            words = set(re.findall(r"[a-z]+(?:'[a-z]+)?", row["transcript"].lower()))
            assert (row["keyword"] in words) == (row["target"] == "yes"), row["id"]
        for row in _rows(dataset, "SC"):
            assert len(row["voice"].split(",")) == {"one": 1, "two": 2}[row["target"]], row["id"]
        for row in _rows(dataset, "AC"):
            assert row["accent"] == row["target"]
        for row in _rows(dataset, "SNS"):
            assert (row["voice"] == "") == (row["target"] == "non-speech")
    targets = [row["target"] for row in _rows(tiny["train"], "KWS")]
    assert targets.count("yes") == round(0.7 * len(targets))


def test_unseen_labels_only_in_test(tiny, info):
    assert len(info["seen_intents"]) == 10 and len(info["seen_slots"]) == 4
    assert not set(info["seen_intents"]) & set(info["unseen_intents"])
    for split in ("train", "validation"):
        rows = _rows(tiny[split])
        assert not [row for row in rows if not row["seen"]]
        assert {row["target"] for row in rows if row["task"] == "IC"} <= set(info["seen_intents"])
        slot_types = {pair.split(" = ")[0] for row in rows if row["task"] == "SF" for pair in row["target"].split("; ")}
        assert slot_types - {"none"} <= set(info["seen_slots"])
    unseen = _rows(tiny["test"], "IC-UNSEEN")
    assert unseen and all(row["target"] in info["unseen_intents"] and not row["seen"] for row in unseen)


def test_test_voices_never_in_train_or_validation(tiny):
    test_only = set(voices_for_split("test"))
    for split, dataset in tiny.items():
        voices = {voice for row in _rows(dataset) for voice in row["voice"].split(",") if voice}
        if split == "test":
            assert voices <= test_only
        else:
            assert voices and not voices & test_only
            assert not {voice.split("+")[1] for voice in voices} & set(TEST_VARIANTS)


def test_rerun_with_same_arguments_is_cached(tiny_dir, info):
    before = (tiny_dir / INFO_FILE).stat().st_mtime_ns
    corpus = build_corpus(tiny_dir, "tiny", progress=False)
    assert (tiny_dir / INFO_FILE).stat().st_mtime_ns == before
    assert len(corpus["train"]) == info["splits"]["train"]["num_rows"]
    with pytest.raises(ValueError, match="overwrite"):
        build_corpus(tiny_dir, "tiny", seed=1, progress=False)


def test_interrupted_build_resumes_and_is_deterministic(tmp_path, tiny, info, monkeypatch):
    """A crash mid-build keeps finished shards; the rerun renders only the rest and matches the full build."""
    rendered = []
    real_render = build_module._render_shard

    def flaky_render(job):
        if job[0].name == "test-00000" and not rendered.count("crashed"):
            rendered.append("crashed")
            raise RuntimeError("simulated crash")
        rendered.append(job[0].name)
        return real_render(job)

    monkeypatch.setattr(build_module, "_render_shard", flaky_render)
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_corpus(tmp_path / "resumed", "tiny", tasks=SUBSET, workers=1, progress=False)
    finished = sorted(p.name for p in (tmp_path / "resumed" / SHARDS_DIR).iterdir() if p.is_dir())
    assert finished == ["train-00000", "validation-00000"]
    resumed = build_corpus(tmp_path / "resumed", "tiny", tasks=SUBSET, workers=1, progress=False)
    assert rendered == ["train-00000", "validation-00000", "crashed", "test-00000"]
    assert not (tmp_path / "resumed" / SHARDS_DIR).exists()

    monkeypatch.setattr(build_module, "_render_shard", real_render)
    fresh = build_corpus(tmp_path / "fresh", "tiny", tasks=SUBSET, workers=2, progress=False)
    fresh_info = json.loads((tmp_path / "fresh" / INFO_FILE).read_text())
    resumed_info = json.loads((tmp_path / "resumed" / INFO_FILE).read_text())
    assert fresh_info["splits"] == resumed_info["splits"]
    for split in ("train", "validation", "test"):
        assert _rows(fresh[split]) == _rows(resumed[split])
        # The same examples inside the full build are byte-identical: tasks do not depend on each other.
        full = {row["id"]: row for row in _rows(tiny[split]) if row["task"] in SUBSET}
        assert {row["id"]: row for row in _rows(fresh[split])} == full


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale": "huge"}, "unknown scale"),
        ({"tasks": ["ASR", "XYZ"]}, "unknown or no tasks"),
        ({"workers": 0}, "workers"),
    ],
)
def test_bad_arguments_are_clear_errors(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_corpus(tmp_path / "out", **{"scale": "tiny", **kwargs})
    assert not (tmp_path / "out").exists()
