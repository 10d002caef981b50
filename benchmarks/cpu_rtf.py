"""Real-time factor of a SpeechVerse checkpoint's generate() on this CPU: seconds of compute per second of audio.

    python benchmarks/cpu_rtf.py [--model checkpoints/speechverse-mini] [--threads 2] [--repeats 3]

Each bundled Space clip is transcribed `--repeats` times (greedy, one clip at a time, after a warm-up); prints a
Markdown table and, with `--out`, JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import soundfile
import torch

from modeling_speechverse import SpeechVerseForConditionalGeneration, SpeechVerseProcessor
from modeling_speechverse.inference import DEFAULT_MODEL

CLIPS = sorted((Path(__file__).resolve().parents[1] / "space" / "examples").glob("*.wav"))


def measure(model, processor, clip: Path, instruction: str, repeats: int, max_new_tokens: int) -> dict:
    waveform, sampling_rate = soundfile.read(clip, dtype="float32")
    inputs = processor(audio=[waveform], sampling_rate=sampling_rate, text=[instruction])
    with torch.inference_mode():
        model.generate(**inputs, max_new_tokens=max_new_tokens)  # warm-up
        times, output = [], None
        for _ in range(repeats):
            start = time.perf_counter()
            output = model.generate(**inputs, max_new_tokens=max_new_tokens)
            times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    duration = len(waveform) / sampling_rate
    return {
        "clip": clip.name,
        "audio_seconds": round(duration, 3),
        "generate_seconds": round(seconds, 4),
        "rtf": round(seconds / duration, 4),
        "tokens": int(output.shape[-1]),
        "text": processor.batch_decode(output, skip_special_tokens=True)[0].strip(),
    }


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--instruction", default="Transcribe the audio")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = SpeechVerseForConditionalGeneration.from_pretrained(args.model).eval()
    processor = SpeechVerseProcessor.from_pretrained(args.model)
    rows = [measure(model, processor, clip, args.instruction, args.repeats, args.max_new_tokens) for clip in CLIPS]
    print(f"# {args.model} on {args.threads} CPU threads, median of {args.repeats}")
    print("| clip | audio s | generate s | RTF | tokens | output |\n|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['clip']} | {row['audio_seconds']} | {row['generate_seconds']} | {row['rtf']} | "
              f"{row['tokens']} | {row['text'][:60]} |")
    total = sum(r["generate_seconds"] for r in rows) / sum(r["audio_seconds"] for r in rows)
    print(f"overall RTF: {total:.4f}")
    if args.out:
        args.out.write_text(json.dumps({"model": args.model, "threads": args.threads, "rows": rows, "rtf": total}))
    return rows


if __name__ == "__main__":
    main()
