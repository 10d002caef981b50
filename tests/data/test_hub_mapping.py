"""Hub dataset mappings, run on local fixtures that carry each Hub dataset's own column names (no download)."""

from __future__ import annotations

import warnings

import datasets
import numpy as np
import pytest

from modeling_speechverse.data.audio import encode_flac
from modeling_speechverse.data.hub import HUB_DATASETS, get_hub_spec, load_hub_dataset, map_to_schema
from modeling_speechverse.data.schema import FEATURES


def _audio(seconds: float = 0.5, sampling_rate: int = 16000, name: str = "clip.flac") -> dict:
    time = np.arange(int(seconds * sampling_rate)) / sampling_rate
    waveform = (0.2 * np.sin(2 * np.pi * 220 * time)).astype(np.float32)
    return {"bytes": encode_flac(waveform, sampling_rate), "path": name}


def _fixture(columns: dict) -> datasets.Dataset:
    return datasets.Dataset.from_dict(columns).cast_column("audio", datasets.Audio())


def _map(name: str, columns: dict) -> datasets.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return map_to_schema(_fixture(columns), HUB_DATASETS[name])


def test_librispeech_from_local_parquet_with_bad_rows(tmp_path):
    columns = {  # openslr/librispeech_asr columns
        "file": ["a.flac", "b.flac", "c.flac", "d.flac", "e.flac"],
        "audio": [_audio(), {"bytes": b"garbage", "path": "b.flac"}, _audio(), _audio(0.5, 22050), _audio(0.5, 4000)],
        "text": ["HELLO  WORLD", "BAD AUDIO", "", "RESAMPLED CLIP", "TOO LOW A RATE"],
        "speaker_id": [1, 2, 3, 4, 5],
        "chapter_id": [10, 20, 30, 40, 50],
        "id": ["1-10-0000", "2-20-0000", "3-30-0000", "4-40-0000", "5-50-0000"],
    }
    _fixture(columns).to_parquet(str(tmp_path / "test.parquet"))
    with pytest.warns(
        UserWarning,
        match=r"librispeech: skipped 3 of 5 items "
        r"\(missing_label=1, unreadable=1, wrong_sampling_rate=1\)",
    ):
        dataset = load_hub_dataset(
            "openslr/librispeech_asr",
            "test",
            path="parquet",
            data_files={"test": str(tmp_path / "test.parquet")},
            cache_dir=str(tmp_path / "cache"),
        )
    assert dataset.features == FEATURES
    assert dataset["id"] == ["1-10-0000", "4-40-0000"]
    assert dataset["target"] == dataset["transcript"] == ["hello world", "resampled clip"]
    assert dataset["task"] == ["ASR", "ASR"] and dataset["voice"] == ["1", "4"]
    assert dataset["duration"] == pytest.approx([0.5, 0.5])
    decoded = dataset[1]["audio"].get_all_samples()
    assert decoded.sample_rate == 16000 and decoded.data.shape[-1] == pytest.approx(8000, abs=2)


def test_streamed_dataset_is_mapped_lazily():
    columns = {
        "file": ["a.flac", "b.flac", "c.flac"],
        "audio": [_audio(), {"bytes": b"garbage", "path": "b.flac"}, _audio(0.25)],
        "text": ["FIRST", "SECOND", "THIRD"],
        "speaker_id": [1, 2, 3],
        "chapter_id": [1, 1, 1],
        "id": ["a", "b", "c"],
    }
    stream = map_to_schema(_fixture(columns).to_iterable_dataset(), HUB_DATASETS["librispeech"])
    assert isinstance(stream, datasets.IterableDataset)
    rows = list(stream)
    assert [(row["id"], row["target"], row["duration"]) for row in rows] == [("a", "first", 0.5), ("c", "third", 0.25)]
    assert rows[1]["audio"].get_all_samples().sample_rate == 16000


def test_common_voice_asr_and_accent_mapping():
    columns = {  # mozilla-foundation/common_voice_5_1 columns
        "client_id": ["c1", "c2", "c3"],
        "path": ["x1.mp3", "x2.mp3", "x3.mp3"],
        "audio": [_audio(), _audio(), _audio()],
        "sentence": ["It is raining.", "Good morning.", "See you."],
        "up_votes": [2, 2, 2],
        "down_votes": [0, 0, 0],
        "age": ["", "", ""],
        "gender": ["", "", ""],
        "accent": ["england", "wales", "us"],
        "locale": ["en", "en", "en"],
        "segment": ["", "", ""],
    }
    asr = _map("common_voice", columns)
    assert asr["target"] == ["It is raining.", "Good morning.", "See you."] and asr["id"][0] == "x1.mp3"
    with pytest.warns(UserWarning, match="missing_label=1"):
        accents = map_to_schema(_fixture(columns), get_hub_spec("mozilla-foundation/common_voice_5_1", task="AC"))
    assert accents["target"] == ["british", "american"]  # "wales" is not one of the paper's five accents
    assert accents["task"] == ["AC", "AC"] and accents["labels"][0] == list(HUB_DATASETS["common_voice_accent"].labels)


def test_voxpopuli_and_covost2_mapping():
    vox = _map(
        "voxpopuli",
        {  # facebook/voxpopuli columns
            "audio_id": ["20180101-0900-PLENARY-1_en"],
            "language": [0],
            "audio": [_audio()],
            "raw_text": ["Thank you, Madam President."],
            "normalized_text": ["thank you madam president"],
            "gender": ["female"],
            "speaker_id": ["96736"],
            "is_gold_transcript": [True],
            "accent": ["None"],
        },
    )
    assert vox["target"] == ["thank you madam president"] and vox["id"] == ["20180101-0900-PLENARY-1_en"]
    covost = _map(
        "covost2_en_de",
        {  # facebook/covost2 columns
            "client_id": ["c9"],
            "file": ["common_voice_en_1.mp3"],
            "audio": [_audio()],
            "sentence": ["The cat sleeps."],
            "translation": ["Die Katze schläft."],
            "id": ["common_voice_en_1"],
        },
    )
    assert covost[0]["target"] == "Die Katze schläft." and covost[0]["transcript"] == "The cat sleeps."
    assert covost[0]["task"] == "ST" and covost[0]["target_language"] == "German"


def test_slurp_intent_and_slots_from_its_own_fields():
    columns = {
        "slurp_id": [1, 2],
        "audio": [_audio(), _audio()],
        "sentence": ["wake me up at nine am on friday", "how are you"],
        "sentence_annotation": ["wake me up at [time : nine am] on [date : friday]", "how are you"],
        "scenario": ["alarm", "general"],
        "action": ["set", "quirky"],
    }
    assert _map("slurp_ic", columns)["target"] == ["alarm_set", "general_quirky"]
    assert _map("slurp_sf", columns)["target"] == ["time = nine am; date = friday", "none"]
    with pytest.raises(ValueError, match="no official Hub copy"):
        load_hub_dataset("slurp_ic", "test")


def test_unknown_dataset_and_missing_columns_are_clear_errors():
    with pytest.raises(ValueError, match="no mapping"):
        get_hub_spec("someone/unknown_corpus")
    with pytest.raises(ValueError, match=r"no column\(s\) \['text'"):
        map_to_schema(_fixture({"audio": [_audio()], "sentence": ["x"], "id": ["1"]}), HUB_DATASETS["librispeech"])
