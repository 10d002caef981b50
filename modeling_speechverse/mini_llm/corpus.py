"""The plain text the mini LLM learns from: the public corpora in `data_sources/` and the task prompt banks.

Only the `train` / `validation` splits of `modeling_speechverse.data.planning.Corpora` are read, so no sentence of
any speech test set (SLURP test, Multi30k test_2016_flickr, GoEmotions test, the Alpaca test share) is ever seen by
the tokenizer, the pretraining or the instruction tuning.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from importlib import resources

import yaml

from ..data.planning import Corpora
from ..tasks import FORMATS, TASKS, humanize_label, make_joint_example


def corpus_texts(corpora: Corpora, split: str = "train") -> list[str]:
    """Every sentence of one split, source by source: SLURP / NLU-Eval commands, Multi30k EN, DE and FR captions,
    GoEmotions comments and Alpaca instructions, inputs and outputs (in a fixed order)."""
    if split not in ("train", "validation"):
        raise ValueError(f"the mini LLM only reads the train and validation splits, got {split!r}")
    texts = list(corpora.commands[split])
    texts += [utterance.text for utterance in corpora.slu[split]]
    for language in ("en", "de", "fr"):
        texts += [getattr(pair, language) for pair in corpora.captions[split]]
    texts += [text for text, _ in corpora.sentiment[split]]
    for item in corpora.alpaca[split]:
        texts += [item.instruction, item.input, item.output]
    return [text for text in texts if text.strip()]


def prompt_texts() -> list[str]:
    """The instruction templates of every task (fields left as their names), every closed label, the SLURP label
    names with their descriptions, and sample renderings of the slot / keyword / joint-decoding target formats."""
    texts = []
    for task in TASKS.values():
        for template in task.train_instructions + task.heldout_instructions:
            texts.append(template.replace("{", "").replace("}", ""))
        texts += list(task.labels or ())
    descriptions = yaml.safe_load(
        resources.files("modeling_speechverse.tasks").joinpath("slurp_descriptions.yaml").read_text(encoding="utf-8")
    )
    for table in descriptions.values():
        for label, description in table.items():
            texts.append(f"- {label}: {description};")
            texts.append(humanize_label(label))
    texts.append(FORMATS["slots"].render([("place_name", "paris"), ("date", "tomorrow")]))
    texts.append(FORMATS["keywords"].render(["red hat", "dog"]))
    texts += make_joint_example("KWE", "a dog in a red hat", "red hat, dog", random.Random(0))
    return texts


def tokenizer_texts(corpora: Corpora, extra: Sequence[str] = ()) -> list[str]:
    """What the SentencePiece model is trained on: the train-split corpus text, the prompt banks and `extra`."""
    return corpus_texts(corpora, "train") + prompt_texts() + list(extra)
