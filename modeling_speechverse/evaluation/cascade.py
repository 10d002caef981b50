"""Text-pipeline baselines of paper Section 3.2, run with the SpeechVerse model itself.

- "cascade" (ASR -> LLM): the model transcribes the audio, then the same model answers the task instruction from the
  transcript alone (text-only input, no audio).
- "gt-llm" (GT -> LLM): the text-only model on the ground-truth transcript, the upper bound of any cascade.
- "substring": keyword search (KWS) as a whole-word search for the keyword in the model's ASR hypothesis.

The paper's cascade LLM is Flan-T5 fine-tuned on the ground-truth transcripts of the same tasks; here the text-only
path of the evaluated checkpoint stands in for it, so the comparison isolates what the audio path adds.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from ..tasks import get_task
from .baselines import substring_kws
from .generation import BatchGenerator


CASCADE_SYSTEMS = ("cascade", "gt-llm", "substring")
# The SLU tasks a text pipeline can solve (paper Table 2); substring search applies to KWS only.
CASCADE_TASKS = ("ST", "IC", "SF", "KWE", "KWS")
# The transcript takes the place of the audio, which SpeechVerse puts before the instruction.
TEXT_ONLY_TEMPLATE = "{transcript}\n{instruction}"


def text_only_input(transcript: str, instruction: str) -> str:
    """The LLM input of a text pipeline: the transcript, then the task instruction."""
    return TEXT_ONLY_TEMPLATE.format(transcript=transcript.strip(), instruction=instruction)


def asr_instructions(examples: Sequence[Mapping[str, Any]], seed: int) -> list[str]:
    """A seen ASR instruction per example, drawn with a generator seeded by the example id."""
    asr = get_task("ASR")
    return [asr.sample_instruction(random.Random(f"{seed}:asr:{example['id']}")) for example in examples]


def _substring_answer(transcript: str | None, keyword: str) -> str | None:
    if transcript is None:
        return None
    try:
        return substring_kws(transcript, keyword)
    except ValueError:  # an empty keyword: nothing to search for, so no answer
        return None


def cascade_outputs(
    generator: BatchGenerator,
    code: str,
    examples: Sequence[Mapping[str, Any]],
    audio: Sequence[Any],
    instructions: Sequence[str],
    systems: Sequence[str] = CASCADE_SYSTEMS,
    seed: int = 0,
    progress=None,
) -> dict[str, list[str | None]]:
    """Outputs of the text-pipeline baselines for one group of examples of task `code`.

    Args:
        generator: Runs the SpeechVerse model (the ASR step and the text-only LLM).
        code: Task code; "substring" only applies to KWS, and the others to `CASCADE_TASKS`.
        examples: Corpus rows (`id`, `transcript`, `keyword`, `duration`).
        audio: The rows' audio values, for the ASR step.
        instructions: The task instruction of each row (the same as the end-to-end model's).
        systems: Which of `CASCADE_SYSTEMS` to run.
        seed: Seed of the ASR instructions.
        progress: A tqdm bar advanced once per generated example.

    Returns:
        System -> one output per example (None where the ASR step got no audio); systems that do not apply to the
        task are left out.
    """
    unknown = sorted(set(systems) - set(CASCADE_SYSTEMS))
    if unknown:
        raise ValueError(f"unknown cascade system(s) {unknown}; expected some of {CASCADE_SYSTEMS}")
    code = get_task(code).code
    if code not in CASCADE_TASKS:
        return {}
    wanted = [system for system in systems if system != "substring" or code == "KWS"]
    ids = [example["id"] for example in examples]
    outputs: dict[str, list[str | None]] = {}
    if "cascade" in wanted or "substring" in wanted:
        hypotheses = generator.generate(
            asr_instructions(examples, seed),
            audio,
            ids=ids,
            durations=[example["duration"] for example in examples],
            progress=progress,
        )
        if "substring" in wanted:
            outputs["substring"] = [
                _substring_answer(hypothesis, example["keyword"]) for hypothesis, example in zip(hypotheses, examples)
            ]
        if "cascade" in wanted:
            heard = [index for index, hypothesis in enumerate(hypotheses) if hypothesis is not None]
            answers = generator.generate(
                [text_only_input(hypotheses[index], instructions[index]) for index in heard],
                ids=[ids[index] for index in heard],
                progress=progress,
            )
            cascade: list[str | None] = [None] * len(examples)
            for index, answer in zip(heard, answers):
                cascade[index] = answer
            outputs["cascade"] = cascade
    if "gt-llm" in wanted:
        outputs["gt-llm"] = generator.generate(
            [
                text_only_input(example["transcript"], instruction)
                for example, instruction in zip(examples, instructions)
            ],
            ids=ids,
            progress=progress,
        )
    return {system: outputs[system] for system in wanted}
