"""The benchmark scripts: derived figures from measured times, and a CPU run on tiny configs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import run  # noqa: E402
from generation import GenerateMeasurement  # noqa: E402
from speed import Measurement, clip_lengths, format_table  # noqa: E402


def test_derived_figures_follow_from_the_timings():
    reference = Measurement("reference", "fixed10", 64, 0.68, 640.0, 64 * 1.4e12, 62.0, 790e12, 0.0)
    ours = Measurement("speechverse", "fixed10", 64, 0.34, 640.0, 64 * 1.4e12, 40.0, 790e12, 0.0)
    assert reference.samples_per_second == pytest.approx(94.1, abs=0.1)  # the B=64 row
    assert reference.audio_hours_per_gpu_hour == pytest.approx(640 / 0.68)
    assert reference.mfu == pytest.approx(64 * 1.4e12 / 0.68 / 790e12)
    table = format_table([reference, ours], {("fixed10", 64): reference})
    assert "| speechverse | fixed10 | 64 | 0.340 | 188.2 |" in table and "2.00x" in table
    latency = GenerateMeasurement("speechverse", 1, 10.0, 30, 0.4, 0.04)
    assert latency.tokens_per_second == pytest.approx(75.0) and latency.real_time_factor == pytest.approx(0.04)


def test_length_mix_is_librispeech_like():
    lengths = clip_lengths("mix", 2000, seed=0)
    assert min(lengths) >= 2.0 and max(lengths) <= 20.0
    assert 11.0 < sum(lengths) / len(lengths) < 13.0
    with pytest.raises(ValueError, match="unknown workload"):
        clip_lengths("long", 4)


def test_cpu_run_on_tiny_configs(tmp_path):
    out = tmp_path / "bench.json"
    report = run.main(["--tiny", "--device", "cpu", "--dtype", "float32", "--batch-sizes", "2", "--steps", "1",
                       "--warmup", "0", "--workloads", "mix", "--generate-batch-sizes", "1", "--clip-seconds", "1",
                       "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(report))
    systems = {row["system"] for row in saved["training"]}
    assert systems == {"reference", "speechverse"}
    ours = next(row for row in saved["training"] if row["system"] == "speechverse")
    reference = next(row for row in saved["training"] if row["system"] == "reference")
    assert ours["padding"] <= reference["padding"]  # length-grouped batches against the reference's arrival order
    assert all(row["seconds"] > 0 and row["first_token_seconds"] > 0 for row in saved["generation"])


def test_cpu_real_time_factor_script(tiny_checkpoint, tmp_path):
    import cpu_rtf

    out = tmp_path / "rtf.json"
    rows = cpu_rtf.main(["--model", str(tiny_checkpoint), "--repeats", "1", "--max-new-tokens", "4", "--out", str(out)])
    assert [row["clip"] for row in rows] == [clip.name for clip in cpu_rtf.CLIPS] and len(rows) == 3
    for row in rows:
        assert row["rtf"] == pytest.approx(row["generate_seconds"] / row["audio_seconds"], rel=1e-2)
    saved = json.loads(out.read_text())
    total = sum(r["generate_seconds"] for r in rows) / sum(r["audio_seconds"] for r in rows)
    assert saved["rtf"] == pytest.approx(total)
