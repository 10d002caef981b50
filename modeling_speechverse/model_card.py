"""The Hub model card of a SpeechVerse checkpoint: YAML metadata (with `model-index` from `results.json`) and a body.

The training recipe is read from the checkpoint folder (`recipe.yaml`, written by the training script, or
`training_args.json`). Its top-level `curriculum` mapping is shown as the curriculum, its top-level `data` mapping
as the training data, and every other field as a hyperparameter; without a recipe the card says the training
settings were not recorded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from .configuration_speechverse import SpeechVerseConfig
from .evaluation.report import Results, model_index_results, render_markdown
from .tasks import TASKS, TRAINING_TASKS

RECIPE_FILENAMES = ("recipe.yaml", "training_args.json")
CURRICULUM_KEY = "curriculum"
DATA_KEY = "data"
PIPELINE_TAG = "audio-text-to-text"
TAGS = ("speechverse", "audio", "speech", "speech-recognition", "spoken-language-understanding", "lora")
PAPER_URL = "https://arxiv.org/abs/2405.08295"
PAPER_BIBTEX = """@misc{das2024speechverse,
  title         = {SpeechVerse: A Large-scale Generalizable Audio Language Model},
  author        = {Nilaksh Das and Saket Dingliwal and Srikanth Ronanki and Rohit Paturi and Zhaocheng Huang and
                   Prashant Mathur and Jie Yuan and Dhanush Bekal and Xing Niu and Sai Muralidhar Jayanthi and
                   Xilai Li and Karel Mundnich and Monica Sunkara and Sravan Bodapati and Sundararajan Srinivasan and
                   Daniel Garcia-Romero and Kyu J. Han and Katrin Kirchhoff},
  year          = {2024},
  eprint        = {2405.08295},
  archivePrefix = {arXiv},
  primaryClass  = {cs.CL},
  url           = {https://arxiv.org/abs/2405.08295}
}"""
# The paper's 11 tasks: the training tasks without spoken instruction following (INSTRUCT).
PAPER_TASKS = tuple(code for code in TRAINING_TASKS if code != "INSTRUCT")


@dataclass(frozen=True)
class Recipe:
    """A training recipe found next to a checkpoint: its file name and parsed contents."""

    filename: str
    values: dict[str, Any]


def find_recipe(model_dir: str | os.PathLike) -> Recipe | None:
    """The first of `RECIPE_FILENAMES` in `model_dir`, parsed; `None` when there is none.

    Raises:
        ValueError: if the file is not valid YAML/JSON or does not hold a mapping.
    """
    for filename in RECIPE_FILENAMES:
        path = Path(model_dir) / filename
        if not path.is_file():
            continue
        try:
            values = yaml.safe_load(path.read_text(encoding="utf-8"))  # YAML is a superset of JSON
        except yaml.YAMLError as error:
            raise ValueError(f"{path} is not valid YAML/JSON: {error}") from None
        if not isinstance(values, dict):
            raise ValueError(f"{path} must hold a mapping of recipe fields, got {type(values).__name__}")
        return Recipe(filename, values)
    return None


def is_hub_repo_id(name: str | None) -> bool:
    """Whether `name` reads as a Hub repo id (`org/name`) rather than a path on this machine."""
    if not name or os.path.exists(name) or name.startswith((".", "/", "~")) or os.path.isabs(name):
        return False
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Leaves of nested mappings and lists as (`a.b[0].c`, value) pairs."""
    if isinstance(value, Mapping) and value:
        return [item for key, sub in value.items() for item in _flatten(sub, f"{prefix}.{key}" if prefix else str(key))]
    if isinstance(value, list) and value and any(isinstance(sub, (Mapping, list)) for sub in value):
        return [item for index, sub in enumerate(value) for item in _flatten(sub, f"{prefix}[{index}]")]
    return [(prefix, value)]


def _cell(value: Any) -> str:
    """A value as a Markdown table cell (JSON spelling; `|` escaped so it cannot split the row)."""
    return "`" + json.dumps(value, ensure_ascii=False, default=str).replace("|", "\\|") + "`"


def _settings_table(values: Mapping[str, Any], prefix: str = "") -> str:
    rows = [f"| `{key}` | {_cell(value)} |" for key, value in _flatten(values, prefix)]
    return "\n".join(["| Setting | Value |", "|---|---|", *rows])


def _stages_table(stages: list[Mapping[str, Any]]) -> str:
    """One row per curriculum stage, one column per field any stage sets (`-` where a stage leaves it unset)."""
    columns = list(dict.fromkeys(key for stage in stages for key in stage))
    rows = [f"| {index + 1} | " + " | ".join(_cell(stage[key]) if key in stage else "-" for key in columns) + " |"
            for index, stage in enumerate(stages)]
    return "\n".join(["| Stage | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|", *rows])


def _curriculum_table(curriculum: Any) -> str:
    if isinstance(curriculum, list) and curriculum and all(isinstance(stage, Mapping) for stage in curriculum):
        return _stages_table(curriculum)
    return _settings_table(curriculum, CURRICULUM_KEY)


def _backbone_line(role: str, backbone_id: str | None, sub_config: Any) -> str:
    name = f"[`{backbone_id}`](https://huggingface.co/{backbone_id})" if is_hub_repo_id(backbone_id) else (
        f"`{backbone_id}` (a local folder when this card was written)" if backbone_id else "not recorded"
    )
    return f"| {role} | {name}, `{sub_config.model_type}` |"


def _architecture_section(config: SpeechVerseConfig, trainable_parameters: int) -> str:
    lora = (
        f"rank {config.lora_rank}, alpha {config.lora_alpha}, dropout {config.lora_dropout}, on "
        f"`{', '.join(config.lora_target_modules or ['peft default'])}`"
        if config.lora_rank
        else "none"
    )
    weighting = (
        f"learnable softmax weights over all {config.num_audio_layers} encoder layers (Eq. 1)"
        if config.layer_weighting == "all"
        else "last encoder layer"
    )
    contents = (
        "trainable weights only; the frozen backbones are loaded from their ids"
        if config.checkpoint_contents == "adapters"
        else "every weight (backbones included)"
    )
    return "\n".join(
        [
            "| Part | Value |",
            "|---|---|",
            _backbone_line("Speech encoder (frozen)", config.audio_backbone_id, config.audio_config),
            _backbone_line("LLM (frozen)", config.text_backbone_id, config.text_config),
            f"| Layer weighting | {weighting} |",
            f"| Downsampler | 1-D convolutions, kernels {config.downsampler_kernel_sizes}, strides "
            f"{config.downsampler_strides}, LayerNorm after each: {config.encoder_frame_rate:g} Hz -> "
            f"{config.audio_token_rate:g} Hz |",
            f"| LoRA | {lora} |",
            f"| Trainable parameters | {trainable_parameters:,} |",
            f"| Longest audio | {config.max_audio_seconds:g} s ({config.max_audio_frames} encoder frames) |",
            f"| Weights in this repo | {contents} |",
        ]
    )


def usage_snippet(repo_id: str, instruction: str) -> str:
    """Python that loads the repo with remote code and answers one instruction about `speech.wav`."""
    return f'''```python
from transformers import AutoModel, AutoProcessor

repo_id = "{repo_id}"
model = AutoModel.from_pretrained(repo_id, trust_remote_code=True)
processor = AutoProcessor.from_pretrained(repo_id, trust_remote_code=True)

# Any audio file: it is down-mixed to mono and resampled to the encoder's rate by the processor.
inputs = processor(audio="speech.wav", text="{instruction}")
generated = model.generate(**inputs, max_new_tokens=64, num_beams=1)
print(processor.batch_decode(generated, skip_special_tokens=True)[0])
```'''


def _tasks_table() -> str:
    rows = []
    for code in PAPER_TASKS:
        task = TASKS[code]
        if task.labels:
            labels = ", ".join(task.labels)
        elif task.format == "keywords":
            labels = "comma-separated keywords"
        elif task.format == "slots":
            labels = "`slot = value; ...` over the listed slots, or `none`"
        else:
            labels = "one of the listed labels" if "labels" in task.fields else "free text"
        rows.append(f"| {code} | {task.description} | {task.train_instructions[0]} | {labels} |")
    return "\n".join(["| Task | What | Example instruction | Answers |", "|---|---|---|---|", *rows])


def _training_section(recipe: Recipe | None) -> str:
    paper = (
        "The paper's curriculum (Section 2.3): stage 1 trains only the convolution downsampler and the layer "
        "weights, on ASR only; stage 2 adds the LoRA adapters, warms them up on ASR only, then adds the other "
        "tasks. The speech encoder and the LLM stay frozen throughout."
    )
    if recipe is None:
        return (
            f"{paper}\n\nNo training recipe (`{'`, `'.join(RECIPE_FILENAMES)}`) was found next to this checkpoint, "
            "so the curriculum and hyperparameters used for it are not recorded here."
        )
    parts = [paper, "", f"The settings below are the resolved training recipe, `{recipe.filename}` in this repo."]
    curriculum = recipe.values.get(CURRICULUM_KEY)
    parts += ["", "### Curriculum used", ""]
    parts.append(_curriculum_table(curriculum) if curriculum else "The recipe has no `curriculum` field.")
    others = {key: value for key, value in recipe.values.items() if key not in (CURRICULUM_KEY, DATA_KEY)}
    parts += ["", "### Hyperparameters", "", _settings_table(others) if others else "The recipe has no other fields."]
    return "\n".join(parts)


def _data_section(recipe: Recipe | None, datasets: Sequence[str]) -> str:
    parts = []
    if datasets:
        links = ", ".join(f"[`{name}`](https://huggingface.co/datasets/{name})" for name in datasets)
        parts.append(f"Hub datasets: {links}.")
    data = recipe.values.get(DATA_KEY) if recipe is not None else None
    if data:
        parts += ["The recipe's data settings:", "", _settings_table(data, DATA_KEY)]
    elif not datasets:
        parts.append("The training data of this checkpoint is not recorded (no `data` field in a recipe).")
    parts += [
        "",
        "The project's embedded offline corpus, which its recipes use by default, is *synthetic speech of real "
        "text*: public text corpora (SLURP and NLU-Evaluation-Data, CC BY 4.0; Multi30k EN/DE/FR; GoEmotions, "
        "CC BY 4.0; Stanford Alpaca, CC BY-NC 4.0, for spoken instructions) spoken by espeak-ng with several "
        "accents, voices, speeds and pitches, plus speech/non-speech and two-speaker mixtures made from it, and "
        "real human recordings of spoken digits (Free Spoken Digit Dataset, CC BY-SA 4.0) for evaluation. Models "
        "trained with the spoken-instruction task inherit Alpaca's non-commercial licence.",
    ]
    return "\n".join(parts)


def _evaluation_section(results: Results | None) -> str:
    if results is None:
        return "No evaluation results (`results.json`) were published with this checkpoint."
    report = render_markdown(results)
    # Nest the report's headings under this card's "Evaluation" heading.
    body = "\n".join("#" + line if line.startswith("#") else line for line in report.splitlines()[1:]).strip()
    return (
        "Measured with the project's evaluation harness; the raw numbers are in `results.json` and in the "
        f"`model-index` metadata of this card.\n\n{body}"
    )


LIMITATIONS = """- Unless the data section above names real recordings, the model was trained on synthetic (espeak-ng)
  speech: expect much worse results on natural, noisy or conversational speech, and on voices, accents and emotions
  expressed differently from the synthesiser's. Emotion labels of synthetic speech come from rendered prosody,
  not from human affect.
- It follows instructions close to its prompt banks best; free-form instructions far from them, unseen tasks and
  unseen labels work less reliably (the paper's Section 4.2). Constrained decoding (the project's
  `constrain_to_labels`) keeps classification answers inside a label set.
- English speech only; translation targets are limited to the languages in the training data.
- Clips longer than the limit above are rejected; split long audio first.
- Outputs can be wrong with full confidence. Do not use it for decisions about people (e.g. inferring emotion or
  accent) without human review."""


def build_model_card(
    config: SpeechVerseConfig,
    repo_id: str,
    *,
    trainable_parameters: int,
    results: Results | None = None,
    recipe: Recipe | None = None,
    datasets: Sequence[str] = (),
    license: str = "apache-2.0",
) -> ModelCard:
    """The model card (`README.md`) of a SpeechVerse repo.

    Args:
        config: The config published in the repo (its backbone ids become `base_model` where they are Hub ids).
        repo_id: The Hub repo id, used in the title and the usage snippet.
        trainable_parameters: Number of trainable (adapter) parameters.
        results: Evaluation results; their end-to-end entries fill `model-index`.
        recipe: The training recipe, for the curriculum, hyperparameters and data sections.
        datasets: Hub dataset ids trained on, for the `datasets` metadata.
        license: SPDX-style licence id of the weights.
    """
    model_name = repo_id.split("/")[-1]
    eval_results = [EvalResult(**kwargs) for kwargs in model_index_results(results)] if results else []
    base_models = [i for i in (config.audio_backbone_id, config.text_backbone_id) if is_hub_repo_id(i)]
    card_data = ModelCardData(
        model_name=model_name,
        library_name="transformers",
        pipeline_tag=PIPELINE_TAG,
        base_model=base_models or None,
        tags=list(TAGS),
        datasets=list(datasets) or None,
        license=license,
        language=["en"],
        eval_results=eval_results or None,
    )
    instruction = TASKS["ASR"].train_instructions[0]
    body = f"""
# {model_name}

A [SpeechVerse]({PAPER_URL}) model (Das et al., 2024): a frozen pretrained speech encoder and a frozen LLM joined
by a small set of trained weights: a softmax-weighted sum of the encoder layers, 1-D convolution blocks that
downsample the audio features and map them into the LLM's embedding space, and LoRA adapters on the LLM. The audio
features are placed before the instruction's token embeddings, and a natural-language instruction selects the task.

## Model details

{_architecture_section(config, trainable_parameters)}

The code is in this repo (`trust_remote_code=True`); it comes from the `speechverse` project.

## How to use

{usage_snippet(repo_id, instruction)}

Batches work too: pass lists of clips and instructions. `generate` forwards greedy, beam search, sampling and
`TextIteratorStreamer` to the LLM. Constrained decoding over a label set and joint decoding with ASR are in the
`speechverse` package (`modeling_speechverse.decoding.constrain_to_labels`, `modeling_speechverse.tasks`).

### Tasks and instructions

{_tasks_table()}

`{{labels}}`, `{{slots}}`, `{{keyword}}` and `{{language}}` stand for the label list, the slot names, the keyword and
the target language.

## Training

{_training_section(recipe)}

## Training data

{_data_section(recipe, datasets)}

## Evaluation

{_evaluation_section(results)}

## Limitations

{LIMITATIONS}

## Citation

```bibtex
{PAPER_BIBTEX}
```
"""
    return ModelCard(f"---\n{card_data.to_yaml()}\n---\n{body}")


__all__ = ["PAPER_BIBTEX", "Recipe", "build_model_card", "find_recipe", "is_hub_repo_id", "usage_snippet"]
