"""The paralinguistic baseline classifier of paper Section 3.2, trained and evaluated on a corpus.

    python -m modeling_speechverse.evaluation.paralinguistic --model DIR --data DIR --task ER --out OUTDIR

The frozen audio encoder of a SpeechVerse checkpoint turns each clip into its last-layer features (computed once per
split); a `ParalinguisticClassifier` (feed-forward -> 2-layer GRU -> mean pooling -> 2 feed-forward layers) is trained
on the train split with AdamW and cross-entropy, stopped early on the validation split's task metric (UAR for ER, ASC,
SC, AC and SNS), and scored on the evaluation split. The entries (system "baseline-classifier") are merged into
`OUTDIR/results.json`, replacing earlier entries of the same setting, and `OUTDIR/report.md` is rewritten.
"""

from __future__ import annotations

import argparse
import copy
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import datasets
import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..data.pipeline import decode_audio
from ..tasks import get_task
from .baselines import ParalinguisticClassifier
from .generation import encoded_audio
from .report import PARALINGUISTIC_TASKS, ResultEntry
from .scoring import Score, parse_references, score_outputs


logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassifierRecipe:
    """Training settings of the baseline classifier."""

    hidden_size: int = 256
    dropout: float = 0.1
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    batch_size: int = 16
    max_epochs: int = 30
    patience: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("hidden_size", "batch_size", "max_epochs", "patience"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")


@dataclass
class Features:
    """Encoder features of one split's examples of one task: `frames[i]` is (T_i, D) and `targets[i]` a class index
    for the usable clips; `unusable` holds the examples whose audio the processor rejected."""

    frames: list[torch.Tensor]
    targets: list[int]
    examples: list[dict[str, Any]]
    unusable: list[dict[str, Any]]


def encoder_features(model, processor, audio: Any) -> torch.Tensor:
    """Last-layer features `(frames, hidden)` of the model's frozen audio encoder for one clip.

    Raises:
        ValueError: if the processor rejects the clip (unreadable, empty, silent or too long).
    """
    samples, sampling_rate = decode_audio(audio)
    clip = processor.load_audio(samples, sampling_rate)
    inputs = processor(audio=[clip], sampling_rate=processor.sampling_rate)
    encoded, lengths = model.encode_audio(
        inputs["input_features"].to(model.device), inputs["feature_attention_mask"].to(model.device)
    )
    # Whisper pads every clip to 30 s: keep the frames of real audio only.
    hidden, length = encoded.last_hidden_state[0], int(lengths[0])
    return hidden[:length].float().cpu()


def split_features(
    model, processor, dataset: datasets.Dataset, code: str, max_examples: int | None = None, progress: bool = True
) -> Features:
    """Features and class indices of the examples of task `code` in one split (the first `max_examples` if given);
    clips the processor rejects are set aside in `Features.unusable`."""
    task = get_task(code)
    rows = [index for index, value in enumerate(dataset["task"]) if value == task.code][:max_examples]
    subset = encoded_audio(dataset.select(rows))
    examples = subset.remove_columns("audio").to_list()
    classes = {label: index for index, label in enumerate(task.labels)}
    targets = []
    for example, value in zip(examples, parse_references(code, examples)):
        if value not in classes:
            raise ValueError(
                f"example {example['id']!r}: label {value!r} is not one of the {code} labels {task.labels}"
            )
        targets.append(classes[value])
    features = Features([], [], [], [])
    for example, target, audio in zip(
        examples, targets, tqdm(subset["audio"], desc=f"{code} features", disable=not progress, leave=False)
    ):
        try:
            features.frames.append(encoder_features(model, processor, audio))
        except ValueError as error:
            logger.debug("No features for example %s: %s", example["id"], error)
            features.unusable.append(example)
            continue
        features.targets.append(target)
        features.examples.append(example)
    return features


def _pad(frames: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T, D) zero-padded features and the (B, T) mask of real frames."""
    lengths = torch.tensor([len(item) for item in frames])
    padded = nn.utils.rnn.pad_sequence(list(frames), batch_first=True)
    return padded, torch.arange(padded.shape[1])[None, :] < lengths[:, None]


def predict(classifier: ParalinguisticClassifier, frames: Sequence[torch.Tensor], batch_size: int) -> list[int]:
    """Class index predicted for each clip's features."""
    classifier.eval()
    predictions: list[int] = []
    with torch.no_grad():
        for start in range(0, len(frames), batch_size):
            padded, mask = _pad(frames[start : start + batch_size])
            predictions += classifier(padded, mask).argmax(dim=-1).tolist()
    return predictions


def _score(code: str, classifier, features: Features, batch_size: int) -> list[Score]:
    """Scores over every example; unusable clips have no prediction and count as unparseable (wrong)."""
    labels = get_task(code).labels
    outputs: list[str | None] = [labels[index] for index in predict(classifier, features.frames, batch_size)]
    outputs += [None] * len(features.unusable)
    return score_outputs(code, outputs, features.examples + features.unusable)


def train_classifier(
    code: str, train: Features, validation: Features, recipe: ClassifierRecipe = ClassifierRecipe()
) -> tuple[ParalinguisticClassifier, list[dict[str, float]]]:
    """Train a classifier on `train`, keeping the weights of the epoch with the best validation metric.

    Training stops after `recipe.patience` epochs without improvement. Returns the classifier and the per-epoch
    history (`epoch`, `train_loss`, `validation`).
    """
    if not train.frames or not validation.frames:
        raise ValueError(f"{code}: the baseline classifier needs usable train and validation clips; none are left")
    torch.manual_seed(recipe.seed)
    classifier = ParalinguisticClassifier(
        train.frames[0].shape[-1], len(get_task(code).labels), recipe.hidden_size, dropout=recipe.dropout
    )
    optimizer = torch.optim.AdamW(classifier.parameters(), lr=recipe.learning_rate, weight_decay=recipe.weight_decay)
    loss_function = nn.CrossEntropyLoss()
    rng = random.Random(recipe.seed)
    best_value, best_state, stale, history = -1.0, None, 0, []
    for epoch in range(1, recipe.max_epochs + 1):
        classifier.train()
        order = list(range(len(train.frames)))
        rng.shuffle(order)
        losses = []
        for start in range(0, len(order), recipe.batch_size):
            batch = order[start : start + recipe.batch_size]
            padded, mask = _pad([train.frames[index] for index in batch])
            loss = loss_function(classifier(padded, mask), torch.tensor([train.targets[index] for index in batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        value = _score(code, classifier, validation, recipe.batch_size)[0].value
        history.append({"epoch": epoch, "train_loss": float(np.mean(losses)), "validation": value})
        if value > best_value:
            best_value, best_state, stale = value, copy.deepcopy(classifier.state_dict()), 0
        else:
            stale += 1
            if stale >= recipe.patience:
                break
    classifier.load_state_dict(best_state)
    return classifier.eval(), history


def run_classifier_baseline(
    model,
    processor,
    corpus: Mapping[str, datasets.Dataset],
    code: str,
    dataset_name: str,
    split: str = "test",
    recipe: ClassifierRecipe = ClassifierRecipe(),
    max_examples: int | None = None,
    progress: bool = True,
) -> tuple[list[ResultEntry], dict[str, Any]]:
    """Train the baseline classifier for one paralinguistic task and score it on `split`.

    Args:
        model: A SpeechVerse model; only its frozen audio encoder is used.
        processor: Its processor (feature extractor).
        corpus: Splits by name; needs "train", "validation" and `split`, with an encoded or decoded `audio` column.
        code: One of ER, ASC, SC, AC, SNS.
        dataset_name: The `dataset` of the result entries.
        split: The split scored.
        recipe: Training settings.
        max_examples: Score only the first this many examples of `split` (training uses every example).
        progress: Show progress bars for the feature extraction.

    Returns:
        The result entries (system "baseline-classifier") and a summary for the results' settings.
    """
    code = get_task(code).code
    if code not in PARALINGUISTIC_TASKS:
        raise ValueError(f"the baseline classifier is for the paralinguistic tasks {PARALINGUISTIC_TASKS}, not {code}")
    missing = [name for name in dict.fromkeys(("train", "validation", split)) if name not in corpus]
    if missing:
        raise ValueError(f"the baseline classifier needs the split(s) {missing}; the corpus has {list(corpus)}")
    features = {}
    for name in dict.fromkeys(("train", "validation", split)):
        limit = max_examples if name == split else None
        features[name] = split_features(model, processor, corpus[name], code, limit, progress)
        if not features[name].frames + features[name].unusable:
            raise ValueError(f"{code}: no {name} examples in {dataset_name}")
    classifier, history = train_classifier(code, features["train"], features["validation"], recipe)
    entries = [
        ResultEntry(
            task=code,
            dataset=dataset_name,
            split=split,
            metric=score.metric,
            value=score.value,
            n=score.n,
            n_unparseable=score.n_unparseable,
            prompts="seen",
            constrained=False,
            joint=False,
            system="baseline-classifier",
        )
        for score in _score(code, classifier, features[split], recipe.batch_size)
    ]
    summary = {
        "recipe": asdict(recipe),
        "examples": {name: len(value.frames) for name, value in features.items()},
        "unusable_audio": {name: len(value.unusable) for name, value in features.items()},
        "epochs": len(history),
        "best_validation": max(item["validation"] for item in history),
    }
    return entries, summary


def _run_tasks(args: argparse.Namespace, recipe: ClassifierRecipe) -> None:
    from .harness import load_corpora, load_model, results_for, write_outputs

    tasks = PARALINGUISTIC_TASKS if args.task == ["all"] else tuple(dict.fromkeys(get_task(c).code for c in args.task))
    unknown = [code for code in tasks if code not in PARALINGUISTIC_TASKS]
    if unknown:
        raise ValueError(f"the baseline classifier is for {', '.join(PARALINGUISTIC_TASKS)}; got {unknown}")
    model, processor = load_model(args.model, device=args.device)
    corpora = load_corpora(args.data)
    entries, summaries = [], {}
    for dataset_name, corpus in corpora.items():
        present = set(corpus[args.split]["task"]) if args.split in corpus else set()
        for code in tasks:
            if code not in present:
                logger.warning("No %s examples in %s %s; skipped", code, dataset_name, args.split)
                continue
            try:
                task_entries, summary = run_classifier_baseline(
                    model, processor, corpus, code, dataset_name, args.split, recipe
                )
            except ValueError as error:  # one task's data problem does not stop the others
                logger.error("%s %s not evaluated: %s", dataset_name, code, error)
                continue
            entries += task_entries
            summaries[f"{dataset_name}/{code}"] = summary
            for entry in task_entries:
                print(f"{dataset_name} {code} {entry.metric}: {entry.value:.2f} (n={entry.n})")
    if not entries:
        raise ValueError(f"no {'/'.join(tasks)} examples could be evaluated in {', '.join(corpora)} {args.split}")
    results = results_for(
        args.model,
        args.model_name,
        {name: {"split": args.split} for name in corpora},
        {"baseline_classifier": summaries},
        entries,
        model.config,
    )
    write_outputs(results, args.out, merge=True)
    print(f"Merged {len(entries)} results into {args.out}/results.json and {args.out}/report.md")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m modeling_speechverse.evaluation.paralinguistic",
        description=__doc__.split("\n\n")[0],
        allow_abbrev=False,
    )
    parser.add_argument("--model", required=True, help="SpeechVerse checkpoint folder (its audio encoder is used)")
    parser.add_argument("--data", required=True, nargs="+", help="corpus folder(s) or Hub id(s); NAME=PATH names one")
    parser.add_argument(
        "--task", required=True, nargs="+", help=f"task code(s) among {', '.join(PARALINGUISTIC_TASKS)}, or all"
    )
    parser.add_argument("--out", required=True, help="folder of results.json / report.md (merged into)")
    parser.add_argument("--split", default="test", help="split scored (train and validation are used for training)")
    parser.add_argument("--model-name", default=None, help="results.json model name (default: the model folder name)")
    parser.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    for field_name, default in asdict(ClassifierRecipe()).items():
        parser.add_argument(f"--{field_name.replace('_', '-')}", type=type(default), default=default)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        recipe = ClassifierRecipe(**{name: getattr(args, name) for name in asdict(ClassifierRecipe())})
        _run_tasks(args, recipe)
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")


if __name__ == "__main__":
    main()
