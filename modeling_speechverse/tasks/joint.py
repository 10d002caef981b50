"""Joint decoding (paper Sec. 4.3.2, Table 8): transcribe first, then answer, in one generation.

The target is ``"ASR: <transcript>   <Name>: <answer>"`` where ``<Name>`` is the task's display name
(``"Emotion"`` for ER, ``"KWE"`` for KWE). Parsing does not rely on the three-space separator, which
SentencePiece tokenizers collapse; it finds the ``ASR:`` and ``<Name>:`` headers instead.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .registry import TASKS, get_task
from .task import Task

ASR_HEADER = "ASR"
JOINT_SEPARATOR = "   "

_PREAMBLES = (
    "Carry out the following audio tasks one after the other.",
    "Complete these tasks about the preceding audio, in the order given.",
    "Do the tasks below on the recording, strictly in this order.",
    "Work through the following steps for the audio, one at a time.",
    "Handle the following two tasks on the spoken input, in sequence.",
)
_FORMAT_LINES = (
    'Write the output in the form "{example}"',
    'Format the answer exactly as "{example}"',
    'Reply using the layout "{example}"',
    'Give your output as "{example}"',
)


@dataclass(frozen=True)
class JointPrediction:
    """The two parts of a joint-decoding output; ``None`` where a part is missing or empty."""

    transcript: str | None
    answer: str | None


def joint_target(task_code: str, transcript: str, target_text: str) -> str:
    """The training target ``"ASR: <transcript>   <Name>: <target_text>"``."""
    task = _joint_task(task_code)
    return f"{ASR_HEADER}: {transcript.strip()}{JOINT_SEPARATOR}{task.name}: {target_text.strip()}"


def build_joint_instruction(task: Task, asr_instruction: str, task_instruction: str, rng: random.Random) -> str:
    """The compound instruction: a preamble, the ASR step, the task step and the output format line."""
    example = f"{ASR_HEADER}: ...{JOINT_SEPARATOR}{task.name}: ..."
    return " ".join(
        (
            rng.choice(_PREAMBLES),
            f"==== Task: {ASR_HEADER} ==== {asr_instruction}",
            f"==== Task: {task.name} ==== {task_instruction}",
            rng.choice(_FORMAT_LINES).format(example=example),
        )
    )


def make_joint_example(
    task_code: str,
    transcript: str,
    target_text: str,
    rng: random.Random,
    split: str = "train",
    **fields: str | Sequence[str],
) -> tuple[str, str]:
    """A compound (instruction, target) pair for a task decoded jointly with ASR.

    Args:
        task_code: The second task (anything but ASR), e.g. ``"KWE"``.
        transcript: The reference transcript of the audio.
        target_text: The task's rendered target (``task.render_target(value)``).
        rng: Random generator for prompt sampling.
        split: Prompt split, ``"train"`` or ``"heldout"``.
        **fields: The task's instruction fields (e.g. ``labels=`` for IC, ``keyword=`` for KWS); see
            :meth:`Task.sample_instruction`.
    """
    task = _joint_task(task_code)
    instruction = build_joint_instruction(
        task,
        get_task(ASR_HEADER).sample_instruction(rng, split),
        task.sample_instruction(rng, split, **fields),
        rng,
    )
    return instruction, joint_target(task_code, transcript, target_text)


def parse_joint(text: str, task_code: str | None = None) -> JointPrediction:
    """Split a joint-decoding generation into transcript and answer; never raises.

    Args:
        text: The decoded generation, e.g. ``"ASR: can you shut up   Emotion: angry"``.
        task_code: The expected second task; without it any registered task name or code is accepted
            as the answer header.
    """
    if not isinstance(text, str):
        return JointPrediction(None, None)
    try:
        names = _answer_names(task_code)
    except ValueError:
        names = _answer_names(None)
    answer_header = re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, names)) + r")\s*:", re.IGNORECASE)
    asr_match = re.search(rf"(?<![\w-]){ASR_HEADER}\s*:", text, re.IGNORECASE)
    search_from = asr_match.end() if asr_match else 0
    answer_matches = list(answer_header.finditer(text, search_from))
    # The last header wins: an answer rarely contains a header, while the transcript may, e.g. "emotion:".
    answer_match = answer_matches[-1] if answer_matches else None
    transcript = None
    if asr_match:
        transcript = text[asr_match.end() : answer_match.start() if answer_match else len(text)]
    answer = text[answer_match.end() :] if answer_match else None
    return JointPrediction(_clean(transcript), _clean(answer))


def _clean(part: str | None) -> str | None:
    part = " ".join(part.split()) if part else ""
    return part or None


def _joint_task(task_code: str) -> Task:
    task = get_task(task_code)
    if task.code == ASR_HEADER:
        raise ValueError("joint decoding pairs ASR with another task; got ASR itself")
    return task


def _answer_names(task_code: str | None) -> list[str]:
    tasks = [_joint_task(task_code)] if task_code is not None else [t for t in TASKS.values() if t.code != ASR_HEADER]
    # Longest first so that, e.g., "IC-UNSEEN" is not read as "IC".
    return sorted({name for task in tasks for name in (task.name, task.code)}, key=len, reverse=True)
