"""Speed and memory of SpeechVerse's training step and generate() against the reference loop, in one run.

GPU (paper scale, bf16):   python benchmarks/run.py --preset multitask-wlm --batch-sizes 8 32 64 128
CPU smoke (tiny configs):  python benchmarks/run.py --tiny --device cpu --batch-sizes 2 --steps 2

Prints Markdown tables (samples/s, audio-hours per GPU-hour, MFU, peak memory, padding, ratio to the reference) and
writes them with the raw numbers to `--out` (JSON).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generation import format_generate_table, measure_generate  # noqa: E402
from speed import Levers, format_table, measure_training  # noqa: E402

from modeling_speechverse import SpeechVerseConfig  # noqa: E402


def tiny_config() -> SpeechVerseConfig:
    from modeling_speechverse.testing_utils import tiny_audio_config, tiny_text_config

    return SpeechVerseConfig.from_backbones(tiny_audio_config("wavlm"), tiny_text_config("t5"), layer_weighting="all")


def _oom(error: Exception) -> bool:
    return isinstance(error, torch.cuda.OutOfMemoryError) or "out of memory" in str(error).lower()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="multitask-wlm")
    parser.add_argument("--tiny", action="store_true", help="tiny random backbones (CPU smoke test)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[8, 32, 64, 128])
    parser.add_argument("--workloads", nargs="+", default=["fixed10", "mix"], choices=["fixed10", "mix"])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--generate-batch-sizes", type=int, nargs="*", default=[1, 32])
    parser.add_argument("--clip-seconds", type=float, default=10.0)
    parser.add_argument("--no-reference", action="store_true", help="skip the reference loop")
    for lever in dataclasses.fields(Levers):
        parser.add_argument(f"--{lever.name.replace('_', '-')}", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    config = tiny_config() if args.tiny else SpeechVerseConfig.from_preset(args.preset)
    levers = Levers(**{lever.name: getattr(args, lever.name) for lever in dataclasses.fields(Levers)})
    systems = ["speechverse"] if args.no_reference else ["reference", "speechverse"]
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"# {device_name}, {args.dtype}, {'tiny' if args.tiny else args.preset}, levers: {levers}")

    training, failures = [], []
    for workload in args.workloads:
        for batch_size in args.batch_sizes:
            for system in systems:
                try:
                    training.append(measure_training(config, system, workload, batch_size, args.steps, device, dtype,
                                                     levers if system == "speechverse" else Levers(), args.warmup))
                except Exception as error:  # an out-of-memory batch size is a result, not a crash
                    if not _oom(error):
                        raise
                    failures.append(f"{system} {workload} batch {batch_size}: out of memory")
                finally:
                    if device.type == "cuda":
                        torch.cuda.empty_cache()
    baseline = {(m.workload, m.batch_size): m for m in training if m.system == "reference"}
    print(format_table(training, baseline))
    for failure in failures:
        print(f"- {failure}")

    generation = []
    for batch_size in args.generate_batch_sizes:
        for system in systems:
            generation.append(measure_generate(config, system, batch_size, device, dtype, args.clip_seconds,
                                               levers=levers if system == "speechverse" else Levers(),
                                               first_token=batch_size == 1))
    gen_baseline = {m.batch_size: m for m in generation if m.system == "reference"}
    print(format_generate_table(generation, gen_baseline))

    report = {
        "device": device_name,
        "dtype": args.dtype,
        "config": "tiny" if args.tiny else args.preset,
        "levers": dataclasses.asdict(levers),
        "training": [dict(dataclasses.asdict(m), samples_per_second=m.samples_per_second, mfu=m.mfu,
                          audio_hours_per_gpu_hour=m.audio_hours_per_gpu_hour) for m in training],
        "failures": failures,
        "generation": [dict(dataclasses.asdict(m), tokens_per_second=m.tokens_per_second,
                            real_time_factor=m.real_time_factor) for m in generation],
    }
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
