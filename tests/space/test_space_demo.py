"""The Space's request handling (modeling_speechverse/inference.py) on a tiny random model, without a browser."""

from __future__ import annotations

import random

import numpy as np
import pytest
import soundfile
import space_testing  # noqa: F401  (puts space/ on sys.path)
from conftest import make_tiny
from modeling_speechverse.inference import (
    DEFAULT_MODEL,
    DEMO_TASKS,
    MODEL_ENV_VAR,
    Decoding,
    DemoError,
    SpeechVerseDemo,
    default_labels,
    fill_instruction,
    parse_labels,
    resolve_model_path,
)

from modeling_speechverse.tasks import get_task

SR = 16000


@pytest.fixture(scope="module")
def demo():
    model, processor = make_tiny()  # processor limit: 2.5 s
    return SpeechVerseDemo(model, processor)


def write_clip(path, seconds: float = 1.0, amplitude: float = 0.4):
    t = np.arange(int(seconds * SR)) / SR
    soundfile.write(path, (amplitude * np.sin(2 * np.pi * 220 * t * (1 + t))).astype(np.float32), SR)
    return str(path)


@pytest.fixture
def clip(tmp_path):
    return write_clip(tmp_path / "clip.wav")


def test_task_menu_holds_the_papers_11_tasks():
    assert DEMO_TASKS == ("ASR", "ST", "IC", "SF", "KWE", "KWS", "ER", "ASC", "SC", "AC", "SNS")


@pytest.mark.parametrize("code", DEMO_TASKS)
def test_instruction_is_drawn_from_the_tasks_training_prompt_bank(code):
    task = get_task(code)
    labels = default_labels(code)
    fields = {"keyword": "radio", "language": "German", "labels": parse_labels(labels), "slots": parse_labels(labels)}
    fields = {name: value for name, value in fields.items() if name in task.fields and value}
    bank = {task.fill_instruction(template, **fields) for template in task.instructions("train")}
    drawn = {fill_instruction(code, labels, random.Random(seed)) for seed in range(40)}
    assert drawn <= bank and len(drawn) > 1


def test_label_list_fills_the_instruction_and_defaults_follow_the_task():
    assert default_labels("ER") == "neutral, happy, sad, angry"
    assert default_labels("ASR") == ""
    assert "play_radio" in default_labels("IC")
    assert parse_labels(" a_b ,c-d\n\n a_b, ") == ["a_b", "c-d"]
    for seed in range(10):
        assert "order_pizza, book_taxi" in fill_instruction("IC", "order_pizza, book_taxi", random.Random(seed))


def test_model_path_comes_from_the_argument_then_the_environment_then_the_default(monkeypatch):
    monkeypatch.delenv(MODEL_ENV_VAR, raising=False)
    assert resolve_model_path() == str(DEFAULT_MODEL)
    assert DEFAULT_MODEL.parts[-2:] == ("checkpoints", "speechverse-mini")
    monkeypatch.setenv(MODEL_ENV_VAR, "/models/from-env")
    assert resolve_model_path() == "/models/from-env"
    assert resolve_model_path("/models/from-cli") == "/models/from-cli"


def test_missing_model_is_a_clear_message(tmp_path):
    with pytest.raises(DemoError, match=f"No model found at .*{MODEL_ENV_VAR}"):
        SpeechVerseDemo.load(str(tmp_path / "checkpoints" / "speechverse-mini"))


def _not_audio(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("this is a text file with an audio extension")
    return str(path)


def _empty(tmp_path):
    soundfile.write(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32), SR)
    return str(tmp_path / "empty.wav")


def _silent(tmp_path):
    soundfile.write(tmp_path / "silent.wav", np.zeros(SR, dtype=np.float32), SR)
    return str(tmp_path / "silent.wav")


def _room_hiss(tmp_path):
    noise = np.random.default_rng(0).normal(0.0, 10 ** (-75 / 20), SR).astype(np.float32)
    soundfile.write(tmp_path / "hiss.wav", noise, SR)
    return str(tmp_path / "hiss.wav")


@pytest.mark.parametrize(
    ("make_audio", "overrides", "message"),
    [
        (lambda tmp: None, {}, "Record or upload an audio clip first"),
        (_not_audio, {}, "not audio that can be read"),
        (_empty, {}, "The recording is empty"),
        (_silent, {}, "The recording is silent"),
        (_room_hiss, {}, "The recording is silent"),
        (lambda tmp: write_clip(tmp / "long.wav", seconds=3.0), {}, r"3\.0 s long, but this model takes at most 2\.5"),
        (lambda tmp: write_clip(tmp / "ok.wav"), {"instruction": "   "}, "The instruction is empty"),
        (lambda tmp: write_clip(tmp / "ok.wav"), {"constrained": True, "labels_text": " , "}, "needs labels"),
        (lambda tmp: write_clip(tmp / "ok.wav"), {"constrained": True, "joint": True}, "cannot be combined"),
        (lambda tmp: write_clip(tmp / "ok.wav"), {"task_code": "ASR", "joint": True}, "other than ASR"),
    ],
)
def test_bad_input_gives_a_message_for_the_page(demo, tmp_path, make_audio, overrides, message):
    request = dict(task_code="ER", instruction="How does the speaker feel?", labels_text="happy, sad")
    request.update(overrides)
    with pytest.raises(DemoError, match=message):
        demo.prepare(make_audio(tmp_path), **request)


def test_stream_grows_and_ends_with_what_generate_returns(demo, clip):
    request = demo.prepare(clip, "ASR", "Transcribe the preceding audio.")
    pieces = list(demo.stream(request, Decoding(max_new_tokens=24)))
    generated = demo.model.generate(**request.inputs, max_new_tokens=24, do_sample=False)
    expected = demo.processor.batch_decode(generated, skip_special_tokens=True)[0]
    assert len(pieces) > 1
    assert all(later.startswith(earlier) for earlier, later in zip(pieces, pieces[1:]))
    assert " ".join(pieces[-1].split()) == " ".join(expected.split()) != ""


def test_beam_search_answers_once(demo, clip):
    request = demo.prepare(clip, "ASR", "Transcribe the preceding audio.")
    pieces = list(demo.stream(request, Decoding(max_new_tokens=12, num_beams=3)))
    expected = demo.model.generate(**request.inputs, max_new_tokens=12, num_beams=3, do_sample=False)
    assert pieces == [demo.processor.batch_decode(expected, skip_special_tokens=True)[0].strip()]


@pytest.mark.parametrize("num_beams", [1, 3])
def test_constrained_decoding_makes_a_random_model_answer_with_a_label(demo, clip, num_beams):
    labels = ["play_radio", "weather_query", "alarm_set"]
    request = demo.prepare(
        clip, "IC", "Which intent?", ", ".join(labels), constrained=True, num_beams=num_beams
    )
    *_, answer = demo.stream(request, Decoding(max_new_tokens=20, num_beams=num_beams))
    assert answer in labels
    assert demo.describe(request, answer) == f"**Intent:** {answer}"


def test_joint_decoding_asks_for_the_transcript_first_and_splits_the_answer(demo, clip):
    request = demo.prepare(clip, "ER", "How does the speaker feel?", "neutral, happy", joint=True, rng=random.Random(1))
    assert "==== Task: ASR ====" in request.instruction
    assert "==== Task: Emotion ==== How does the speaker feel?" in request.instruction
    described = demo.describe(request, "ASR: turn on the radio   Emotion: happy")
    assert described == "**Transcript:** turn on the radio  \n**Emotion:** happy"


def test_sampling_settings_reach_generate():
    assert Decoding(10, 1, 0.0).generate_kwargs() == {"max_new_tokens": 10, "num_beams": 1, "do_sample": False}
    assert Decoding(10, 2, 0.7).generate_kwargs() == {
        "max_new_tokens": 10, "num_beams": 2, "do_sample": True, "temperature": 0.7
    }


def test_generation_failure_in_the_thread_is_reported(demo, clip, monkeypatch):
    request = demo.prepare(clip, "ASR", "Transcribe the preceding audio.")

    def broken_generate(**kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(demo.model, "generate", broken_generate)
    with pytest.raises(DemoError, match="Generation failed: out of memory"):
        list(demo.stream(request, Decoding()))
