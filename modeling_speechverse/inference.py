"""One request at a time, as the Space and the `infer` command line serve it: load the model, check the audio, build
the instruction (from the prompt bank, with joint decoding and constrained decoding), and stream the generated text.

Every problem with the user's input raises a `DemoError` whose message is written for a person, not a traceback.
"""

from __future__ import annotations

import math
import os
import random
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
import torch
from transformers import LogitsProcessorList, TextIteratorStreamer

from .decoding import constrain_slot_labels, constrain_to_labels
from .modeling_speechverse import SpeechVerseForConditionalGeneration
from .processing_speechverse import SpeechVerseProcessor
from .tasks import TRAINING_TASKS, build_joint_instruction, get_task, parse_joint

MODEL_ENV_VAR = "SPEECHVERSE_MODEL"
# The embedded default: the mini model trained offline and shipped in the repository.
DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "checkpoints" / "speechverse-mini"
# The paper's 11 tasks (the training tasks without spoken instruction following).
DEMO_TASKS = tuple(code for code in TRAINING_TASKS if code != "INSTRUCT")
# Labels offered where a task takes its label list from the instruction (editable in the page).
DEFAULT_LABELS = {
    "IC": ("alarm_set", "play_radio", "weather_query", "calendar_set", "iot_hue_lightoff"),
    "SF": ("date", "time", "place_name", "person"),
}
DEFAULT_FIELDS = {"keyword": "radio", "language": "German"}
# RMS below -60 dBFS: a microphone that recorded nothing but its own noise floor.
SILENCE_RMS = 1e-3
# Seconds to wait for the next streamed piece before deciding the generation thread is stuck.
STREAM_TIMEOUT_S = 300.0


class DemoError(ValueError):
    """A problem with the user's input (or the model's availability), phrased for a person."""


@dataclass(frozen=True)
class Decoding:
    """Decoding settings from the page. `temperature` 0 means greedy (or plain beam search)."""

    max_new_tokens: int = 64
    num_beams: int = 1
    temperature: float = 0.0

    def generate_kwargs(self) -> dict:
        kwargs: dict = {"max_new_tokens": int(self.max_new_tokens), "num_beams": int(self.num_beams)}
        if self.temperature > 0:
            kwargs.update(do_sample=True, temperature=float(self.temperature))
        else:
            kwargs["do_sample"] = False
        return kwargs


@dataclass(frozen=True)
class Request:
    """One prepared request: the model inputs and what is needed to read the answer."""

    inputs: dict[str, torch.Tensor]
    instruction: str
    task_code: str
    labels: tuple[str, ...]
    joint: bool
    logits_processor: LogitsProcessorList | None


def resolve_model_path(cli_value: str | None = None) -> str:
    """The model to use: `--model`, else `$SPEECHVERSE_MODEL`, else `checkpoints/speechverse-mini` of the repo."""
    return cli_value or os.environ.get(MODEL_ENV_VAR) or str(DEFAULT_MODEL)


def parse_labels(text: str | None) -> list[str]:
    """Labels typed as a comma- or newline-separated list, stripped, empty entries and repeats dropped."""
    labels = [label.strip() for label in re.split(r"[,\n]", text or "")]
    return list(dict.fromkeys(label for label in labels if label))


def default_labels(task_code: str) -> str:
    """The label list shown for a task: its closed label set, or example labels where the prompt lists them."""
    task = get_task(task_code)
    return ", ".join(task.labels or DEFAULT_LABELS.get(task.code, ()))


def fill_instruction(task_code: str, labels_text: str, rng: random.Random) -> str:
    """An instruction for `task_code` drawn from its training prompt bank, with the page's labels filled in."""
    task = get_task(task_code)
    labels = parse_labels(labels_text) or list(task.labels or DEFAULT_LABELS.get(task.code, ()))
    fields = {name: value for name, value in DEFAULT_FIELDS.items() if name in task.fields}
    fields.update({name: labels for name in ("labels", "slots") if name in task.fields and labels})
    return task.sample_instruction(rng, "train", **fields)


def read_audio(path: str | os.PathLike | None, max_seconds: float) -> tuple[np.ndarray, int]:
    """A clip from the page as a mono float32 waveform and its rate, after the page-level checks."""
    if not path:
        raise DemoError("Record or upload an audio clip first.")
    try:
        info = soundfile.info(os.fspath(path))
        waveform, sampling_rate = soundfile.read(os.fspath(path), dtype="float32", always_2d=True)
    except (soundfile.SoundFileError, RuntimeError, OSError):
        raise DemoError(
            "This file is not audio that can be read. Upload a WAV, FLAC, OGG or MP3 file, or record with the "
            "microphone."
        ) from None
    if info.frames == 0 or waveform.size == 0:
        raise DemoError("The recording is empty. Record or upload a clip with speech in it.")
    duration = waveform.shape[0] / sampling_rate
    if duration > max_seconds:
        raise DemoError(
            f"The clip is {duration:.1f} s long, but this model takes at most {max_seconds:.1f} s. "
            "Trim it and try again."
        )
    mono = waveform.mean(axis=1)
    if not np.all(np.isfinite(mono)):
        raise DemoError("The clip holds invalid (NaN or infinite) samples. Try another file.")
    if float(np.sqrt(np.mean(np.square(mono)))) < SILENCE_RMS:
        raise DemoError("The recording is silent. Check the microphone (or the file) and try again.")
    return mono, int(sampling_rate)


class SpeechVerseDemo:
    """A loaded model and processor, and the steps the page runs for one request."""

    def __init__(self, model: SpeechVerseForConditionalGeneration, processor: SpeechVerseProcessor):
        self.model = model.eval()
        self.processor = processor

    @classmethod
    def load(cls, path: str) -> SpeechVerseDemo:
        """Load a checkpoint folder or Hub id; a DemoError that says how to point at a model."""
        if not Path(path).exists() and (os.path.isabs(path) or path.startswith(".") or path.count("/") != 1):
            raise DemoError(
                f"No model found at {path}. Set {MODEL_ENV_VAR} (or pass --model) to a SpeechVerse checkpoint "
                "folder or Hub id."
            )
        try:
            model = SpeechVerseForConditionalGeneration.from_pretrained(path)
            processor = SpeechVerseProcessor.from_pretrained(path)
        except (OSError, ValueError) as error:
            raise DemoError(f"Could not load the model at {path}: {error}") from None
        device = "cuda" if torch.cuda.is_available() else "cpu"
        return cls(model.to(device), processor)

    @property
    def max_audio_seconds(self) -> float:
        """The longest clip accepted: the model's limit, or the processor's if it is stricter."""
        limits = [self.model.config.max_audio_seconds, self.processor.max_audio_seconds or math.inf]
        return float(min(limits))

    def prepare(
        self,
        audio_path: str | None,
        task_code: str,
        instruction: str,
        labels_text: str = "",
        constrained: bool = False,
        joint: bool = False,
        num_beams: int = 1,
        rng: random.Random | None = None,
    ) -> Request:
        """Check the page's inputs and build the model inputs (audio, the instruction, the decoding constraint)."""
        task = get_task(task_code)
        instruction = (instruction or "").strip()
        if not instruction:
            raise DemoError("The instruction is empty. Pick a task to fill one in, or write your own.")
        labels = parse_labels(labels_text)
        if constrained and not labels:
            raise DemoError("Constrained decoding needs labels: list the allowed answers, separated by commas.")
        if constrained and joint:
            raise DemoError("Constrained decoding and joint decoding cannot be combined; switch one of them off.")
        if joint and task.code == "ASR":
            raise DemoError("Joint decoding adds a transcript to another task's answer; pick a task other than ASR.")
        if joint:
            rng = rng or random.Random()
            asr_instruction = get_task("ASR").sample_instruction(rng)
            instruction = build_joint_instruction(task, asr_instruction, instruction, rng)
        waveform, sampling_rate = read_audio(audio_path, self.max_audio_seconds)
        try:
            inputs = self.processor(audio=[waveform], sampling_rate=sampling_rate, text=[instruction])
        except ValueError as error:
            raise DemoError(str(error)) from None
        logits_processor = None
        if constrained:
            build = constrain_slot_labels if task.format == "slots" else constrain_to_labels
            try:
                logits_processor = build(self.processor.tokenizer, labels, num_beams=num_beams)
            except ValueError as error:
                raise DemoError(f"These labels cannot be used for constrained decoding: {error}") from None
        inputs = {name: tensor.to(self.model.device) for name, tensor in inputs.items()}
        return Request(inputs, instruction, task.code, tuple(labels), joint, logits_processor)

    def stream(self, request: Request, decoding: Decoding) -> Iterator[str]:
        """The answer as it grows. Beam search cannot stream, so it yields once, at the end."""
        kwargs = decoding.generate_kwargs()
        if request.logits_processor is not None:
            kwargs["logits_processor"] = request.logits_processor
        if decoding.num_beams > 1:
            generated = self.model.generate(**request.inputs, **kwargs)
            yield self.processor.batch_decode(generated, skip_special_tokens=True)[0].strip()
            return
        streamer = TextIteratorStreamer(
            self.processor.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=STREAM_TIMEOUT_S
        )
        failure: list[BaseException] = []

        def generate() -> None:
            try:
                self.model.generate(**request.inputs, **kwargs, streamer=streamer)
            except BaseException as error:  # re-raised in the page's thread below
                failure.append(error)
                streamer.end()

        thread = threading.Thread(target=generate, daemon=True)
        thread.start()
        text = ""
        for piece in streamer:
            text += piece
            yield text.strip()
        thread.join()
        if failure:
            raise DemoError(f"Generation failed: {failure[0]}")

    @staticmethod
    def describe(request: Request, text: str) -> str:
        """Markdown under the answer: the transcript and answer of a joint output, or the parsed label."""
        task = get_task(request.task_code)
        if request.joint:
            parts = parse_joint(text, task.code)
            transcript, answer = parts.transcript or "(missing)", parts.answer or "(missing)"
            return f"**Transcript:** {transcript}  \n**{task.name}:** {answer}"
        if task.format == "label":
            value = task.parse_prediction(text, task.labels or request.labels or None)
            return f"**{task.name}:** {value}" if value is not None else "The answer is not one of the labels."
        return ""
