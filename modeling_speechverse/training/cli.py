"""Command line of `train.py`: a recipe, `--set` overrides and `--resume`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .recipe import Recipe, load_recipe


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="train.py",
        description="Train SpeechVerse with the curriculum of Section 2.3 (run it under `accelerate launch`).",
    )
    parser.add_argument("--recipe", required=True, help="recipe YAML, e.g. configuration/tiny.yaml")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help="override a recipe field (YAML value), e.g. --set train.lr=1e-4 --set data.tasks=[ASR,SC]; repeatable",
    )
    parser.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=False,
        metavar="CHECKPOINT",
        help="continue from a checkpoint folder, or (no value) from the latest one in the recipe's output_dir",
    )
    return parser


def parse_args(argv: Sequence[str] | None = None) -> tuple[Recipe, bool | str]:
    """The validated recipe and the `--resume` value; a bad recipe exits with its problems listed."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        recipe = load_recipe(args.recipe, args.overrides)
    except ValueError as error:
        parser.error(str(error))
    return recipe, args.resume
