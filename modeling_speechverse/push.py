"""Publish a trained SpeechVerse checkpoint to the Hugging Face Hub.

    python -m modeling_speechverse.push --model DIR --repo-id user/name [--private] [--exist-ok]
        [--local-dir OUT] [--results results.json] [--full] [--audio-backbone-id ID] [--text-backbone-id ID]

With `--local-dir` the repo folder is written to OUT and nothing is uploaded. The token comes from `HF_TOKEN` or
`hf auth login`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .hub import PublishError, assemble_repo, publish


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m modeling_speechverse.push",
        description="Publish a SpeechVerse checkpoint (trainable weights, config, processor, code, model card, "
        "evaluation results) to the Hugging Face Hub in one commit.",
    )
    parser.add_argument("--model", required=True, help="checkpoint folder written by save_pretrained")
    parser.add_argument("--repo-id", required=True, help="Hub model repo, 'user/name'")
    parser.add_argument("--private", action="store_true", help="create the repo as private")
    parser.add_argument(
        "--exist-ok", action="store_true", help="publish into an existing repo, replacing its files in one commit"
    )
    parser.add_argument("--local-dir", help="write the repo folder here and upload nothing")
    parser.add_argument("--results", help="evaluation results.json (default: MODEL/results.json if present)")
    parser.add_argument("--full", action="store_true", help="publish every weight, the frozen backbones included")
    parser.add_argument("--audio-backbone-id", help="Hub id of the speech encoder, written in the published config")
    parser.add_argument("--text-backbone-id", help="Hub id of the LLM, written in the published config")
    parser.add_argument("--dataset", action="append", default=[], help="Hub dataset id trained on (repeatable)")
    parser.add_argument("--license", default="apache-2.0", help="licence of the weights (default: apache-2.0)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    options = dict(
        results=args.results,
        full=args.full,
        audio_backbone_id=args.audio_backbone_id,
        text_backbone_id=args.text_backbone_id,
        datasets=args.dataset,
        license=args.license,
    )
    try:
        if args.local_dir:
            folder = assemble_repo(args.model, args.local_dir, args.repo_id, **options)
            print(f"Wrote the repo folder for {args.repo_id} to {folder} (nothing uploaded).")
        else:
            url = publish(args.model, args.repo_id, private=args.private, exist_ok=args.exist_ok, **options)
            print(f"Published {args.model} to https://huggingface.co/{args.repo_id} ({url}).")
    except (ValueError, PublishError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
