"""Evaluate a SpeechVerse checkpoint and write `results.json` and a Markdown report with the paper's tables.

    python -m modeling_speechverse.evaluate --model DIR --data DIR_OR_HUB_ID --tasks all --out OUTDIR
        [--split test] [--prompts seen|unseen] [--constrained] [--joint] [--describe-labels]
        [--table 2 3 5 7 9 | --table all] [--baselines cascade gt-llm substring classifier | --baselines all]
        [--batch-size N] [--num-beams N] [--max-new-tokens N] [--max-examples N]

Either one configuration (`--prompts`, `--constrained`, `--joint`, `--describe-labels`) or the configurations
behind paper tables (`--table`). Writes OUTDIR/results.json (schema: `modeling_speechverse.evaluation.report`),
OUTDIR/report.md and OUTDIR/predictions.jsonl. Documented in docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from .evaluation.harness import (
    BASELINES,
    TABLES,
    EvalConfig,
    evaluate,
    load_corpora,
    load_model,
    results_for,
    table_configs,
    write_outputs,
)
from .evaluation.paralinguistic import ClassifierRecipe
from .evaluation.report import ResultEntry


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m modeling_speechverse.evaluate",
        description=__doc__.split("\n\n")[0],
        allow_abbrev=False,
    )
    parser.add_argument("--model", required=True, help="SpeechVerse checkpoint folder (model and processor)")
    parser.add_argument(
        "--data", required=True, nargs="+", help="corpus folder(s) (save_to_disk) or Hub id(s); NAME=PATH names one"
    )
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--tasks", default="all", help="'all' or comma-separated task codes, e.g. ASR,IC,IC-UNSEEN")
    parser.add_argument("--split", default="test")
    single = parser.add_argument_group("one configuration")
    single.add_argument("--prompts", choices=("seen", "unseen"), default=None, help="instruction bank (default seen)")
    single.add_argument("--constrained", action="store_true", help="constrained decoding over each example's labels")
    single.add_argument("--joint", action="store_true", help="joint decoding: transcript first, then the answer")
    single.add_argument("--describe-labels", action="store_true", help="label-list prompts describe each label")
    parser.add_argument(
        "--table", nargs="+", choices=(*TABLES, "all"), default=None, help="run the configurations of paper tables"
    )
    parser.add_argument(
        "--baselines", nargs="*", choices=(*BASELINES, "all"), default=[], help="paper Sec 3.2 baselines to run"
    )
    parser.add_argument("--batch-size", type=_positive_int, default=8)
    parser.add_argument("--num-beams", type=_positive_int, default=1, help="1: greedy search")
    parser.add_argument("--max-new-tokens", type=_positive_int, default=128)
    parser.add_argument("--max-examples", type=_positive_int, default=None, help="per task and corpus")
    parser.add_argument("--seed", type=int, default=0, help="seed of the drawn instructions")
    parser.add_argument("--model-name", default=None, help="results.json model name (default: the folder name)")
    parser.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    parser.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), default=None)
    parser.add_argument("--merge", action="store_true", help="merge into an existing OUTDIR/results.json")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def _configs(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[EvalConfig]:
    single = args.prompts is not None or args.constrained or args.joint or args.describe_labels
    if args.table is not None:
        if single:
            parser.error("--table runs its own configurations; drop --prompts/--constrained/--joint/--describe-labels")
        return table_configs(args.table)
    if args.joint and args.constrained:
        parser.error("--joint and --constrained cannot be combined (joint outputs are free text)")
    return [
        EvalConfig(
            prompts=args.prompts or "seen",
            constrained=args.constrained,
            joint=args.joint,
            label_descriptions=args.describe_labels,
        )
    ]


def _setting(entry: ResultEntry) -> str:
    """A short tag of an entry's decoding setting, e.g. "[prompts=unseen:H2 cd]"."""
    prompts = entry.prompts + (f":{entry.prompt_id}" if entry.prompt_id else "")
    flags = [f"prompts={prompts}", f"labels={entry.labels}"]
    flags += [
        name
        for name, on in (("desc", entry.label_descriptions), ("cd", entry.constrained), ("joint", entry.joint))
        if on
    ]
    return "[" + " ".join(flags) + "]"


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    configs = _configs(args, parser)
    tasks = None if args.tasks.strip().lower() == "all" else [code for code in args.tasks.split(",") if code.strip()]
    baselines = list(BASELINES) if "all" in args.baselines else list(dict.fromkeys(args.baselines))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        model, processor = load_model(args.model, device=args.device, dtype=args.dtype)
        corpora = load_corpora(args.data)
        evaluation = evaluate(
            model,
            processor,
            corpora,
            split=args.split,
            tasks=tasks,
            configs=configs,
            baselines=baselines,
            batch_size=args.batch_size,
            num_beams=args.num_beams,
            max_new_tokens=args.max_new_tokens,
            max_examples=args.max_examples,
            seed=args.seed,
            recipe=ClassifierRecipe(seed=args.seed),
            progress=not args.no_progress,
        )
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")
    evaluation.settings.update(device=str(model.device), dtype=str(model.dtype).removeprefix("torch."))
    results = results_for(
        args.model, args.model_name, evaluation.data, evaluation.settings, evaluation.entries, model.config
    )
    results = write_outputs(results, args.out, merge=args.merge, predictions=evaluation.predictions)
    for system, speed in evaluation.settings["throughput"].items():
        if speed["examples"]:
            print(
                f"{system}: {speed['examples']} generations in {speed['wall_seconds']:.1f} s = "
                f"{speed['examples_per_second']:.2f} examples/s, {speed['audio_seconds_per_second']:.2f} audio s/s"
            )
    for entry in evaluation.entries:
        print(
            f"{entry.system:>19} {entry.task:<4} {entry.dataset} {_setting(entry)} {entry.metric}: {entry.value:6.2f} "
            f"(n={entry.n}, unparseable={entry.n_unparseable})"
        )
    print(f"Wrote {len(results.results)} results to {args.out}/results.json and {args.out}/report.md")


if __name__ == "__main__":
    main()
