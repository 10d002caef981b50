"""Ask a SpeechVerse model about one audio clip from the command line.

    python -m modeling_speechverse.infer --audio clip.wav --instruction "Transcribe the audio"
    python -m modeling_speechverse.infer --audio clip.wav --task KWS --labels yes,no --constrained
    python -m modeling_speechverse.infer --audio clip.wav --task KWE --joint

The model is `--model`, else `$SPEECHVERSE_MODEL`, else the embedded default `checkpoints/speechverse-mini`. Without
`--instruction` one is drawn from the task's prompt bank. The answer streams to standard output; problems with the
input are reported in one line on standard error (exit status 2).
"""

from __future__ import annotations

import argparse
import random
import sys

from .inference import Decoding, DemoError, SpeechVerseDemo, default_labels, fill_instruction, resolve_model_path
from .tasks import TASKS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", required=True, help="audio file (WAV, FLAC, OGG, MP3...), any sampling rate")
    parser.add_argument("--instruction", help="what to do with the audio; default: drawn from --task's prompts")
    parser.add_argument("--task", default="ASR", type=str.upper, choices=sorted(TASKS), help="task (default ASR)")
    parser.add_argument("--labels", default="", help="comma-separated labels (intents, slot names, answers)")
    parser.add_argument("--constrained", action="store_true", help="answer with exactly one of --labels")
    parser.add_argument("--joint", action="store_true", help="transcribe first, then answer (joint decoding)")
    parser.add_argument("--model", help="checkpoint folder or Hub id")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--num-beams", type=int, default=1)
    parser.add_argument("--temperature", type=float, default=0.0, help="0: greedy")
    parser.add_argument("--seed", type=int, default=0, help="seed of the drawn instruction")
    args = parser.parse_args(argv)
    try:
        demo = SpeechVerseDemo.load(resolve_model_path(args.model))
        labels = args.labels or default_labels(args.task)
        instruction = args.instruction or fill_instruction(args.task, labels, random.Random(args.seed))
        request = demo.prepare(args.audio, args.task, instruction, labels, args.constrained, args.joint,
                               args.num_beams, random.Random(args.seed))
        print(f"[{request.instruction}]", file=sys.stderr)
        shown = ""
        for text in demo.stream(request, Decoding(args.max_new_tokens, args.num_beams, args.temperature)):
            sys.stdout.write(text[len(shown):] if text.startswith(shown) else "\n" + text)
            sys.stdout.flush()
            shown = text
        print()
        description = demo.describe(request, shown)
        if description:
            print(description.replace("**", "").replace("  \n", "\n"), file=sys.stderr)
    except DemoError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
