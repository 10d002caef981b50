"""`python -m modeling_speechverse.push`: the assembled repo folder, its model card, and the upload with the Hub's
network calls stubbed (`HfApi` methods)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import huggingface_hub
import numpy as np
import pytest
import soundfile
import torch
from huggingface_hub import HfApi, ModelCard
from safetensors.torch import load_file
from tiny_checkpoint import RECIPE_YAML, RESULTS, build_model, save_checkpoint

from modeling_speechverse import SpeechVerseForConditionalGeneration, push
from modeling_speechverse.evaluation.report import Results, model_index_results
from modeling_speechverse.hub import assemble_repo

REPO_ID = "me/speechverse-tiny"
HUB_IDS = ["--audio-backbone-id", "microsoft/wavlm-base-plus", "--text-backbone-id", "google/flan-t5-small"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def checkpoint(tiny, tmp_path_factory):
    model, processor = tiny
    return save_checkpoint(model, processor, tmp_path_factory.mktemp("run") / "checkpoint")


@pytest.fixture(scope="module")
def published(checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp("published") / "repo"
    assert push.main(["--model", str(checkpoint), "--repo-id", REPO_ID, "--local-dir", str(out)]) == 0
    return out


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def trainable_weights(model) -> dict[str, torch.Tensor]:
    return {name: param.detach() for name, param in model.named_parameters() if param.requires_grad}


# ------------------------------------------------------------------------------------------------- the folder


def test_published_folder_holds_weights_config_processor_code_card_results_and_recipe(published, tiny):
    model, _ = tiny
    names = set(files_of(published))
    assert {
        "model.safetensors", "config.json", "generation_config.json", "processor_config.json", "tokenizer.json",
        "configuration_speechverse.py", "modeling_speechverse.py", "processing_speechverse.py",
        "backbone_architectures.py", "README.md", "results.json", "recipe.yaml",
    } <= names
    weights = load_file(published / "model.safetensors")
    expected = trainable_weights(model)
    assert set(weights) == set(expected)
    assert all(torch.equal(weights[name], expected[name]) for name in expected)
    config = json.loads((published / "config.json").read_text())
    assert config["auto_map"] == {
        "AutoConfig": "configuration_speechverse.SpeechVerseConfig",
        "AutoModel": "modeling_speechverse.SpeechVerseForConditionalGeneration",
    }
    assert config["checkpoint_contents"] == "adapters"
    processor_config = json.loads((published / "processor_config.json").read_text())
    assert processor_config["auto_map"]["AutoProcessor"] == "processing_speechverse.SpeechVerseProcessor"
    assert Results.from_dict(json.loads((published / "results.json").read_text())) == Results.from_dict(RESULTS)
    assert (published / "recipe.yaml").read_text() == RECIPE_YAML
    assert not [p for p in published.parent.iterdir() if ".partial-" in p.name]


def test_published_folder_runs_the_card_snippet_where_the_package_is_not_importable(published, tiny, tmp_path):
    """The card's usage snippet, pointed at the folder, loads it as remote code and generates what the model does."""
    model, processor = tiny
    t = np.arange(16000) / 16000
    soundfile.write(tmp_path / "speech.wav", (0.3 * np.sin(2 * np.pi * 300 * t * (1 + t))).astype(np.float32), 16000)
    snippet = re.search(r"```python\n(.*?)```", (published / "README.md").read_text(), re.S).group(1)
    instruction = re.search(r'text="([^"]+)"', snippet).group(1)
    inputs = processor(audio=str(tmp_path / "speech.wav"), text=instruction)
    generated = model.generate(**inputs, max_new_tokens=64, num_beams=1)
    expected = processor.batch_decode(generated, skip_special_tokens=True)[0]
    script = textwrap.dedent(
        f"""
        import re, sys
        sys.modules["modeling_speechverse"] = None  # the package is not importable here
        snippet = re.search(r"```python\\n(.*?)```", open({str(published / "README.md")!r}).read(), re.S).group(1)
        assert snippet.count({REPO_ID!r}) == 1, snippet
        exec(snippet.replace({REPO_ID!r}, {str(published)!r}))
        assert type(model).__module__.startswith("transformers_modules"), type(model).__module__
        print("REMOTE-CODE-OK")
        """
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert lines[-1:] == ["REMOTE-CODE-OK"], result.stderr[-3000:]
    assert lines[-2] == expected


# ------------------------------------------------------------------------------------------------- the card


def test_card_metadata_parses_and_holds_the_results(published):
    card = ModelCard.load(published / "README.md")
    data = card.data
    assert data.library_name == "transformers"
    assert data.pipeline_tag == "audio-text-to-text"
    assert data.license == "apache-2.0"
    assert "speechverse" in data.tags
    assert data.base_model is None  # the checkpoint's backbones are local folders, not Hub ids
    expected = model_index_results(Results.from_dict(RESULTS))
    assert len(expected) == 3  # the cascade baseline's entry is not this model's result
    got = [
        dict(task_type=r.task_type, dataset_name=r.dataset_name, dataset_split=r.dataset_split,
             metric_type=r.metric_type, metric_value=r.metric_value, metric_config=r.metric_config)
        for r in data.eval_results
    ]
    assert got == [
        dict(task_type=e["task_type"], dataset_name=e["dataset_name"], dataset_split=e["dataset_split"],
             metric_type=e["metric_type"], metric_value=e["metric_value"], metric_config=e.get("metric_config"))
        for e in expected
    ]
    assert [r.metric_value for r in data.eval_results] == [12.5, 81.0, 55.5]


def test_card_body_has_recipe_curriculum_data_limitations_and_citation(published, tiny):
    text = ModelCard.load(published / "README.md").text
    sections = re.findall(r"^## (.+)$", text, re.M)
    expected = ["Model details", "How to use", "Training", "Training data", "Evaluation", "Limitations", "Citation"]
    assert sections == expected
    assert "| Stage | name | lora | tasks | max_steps | patience |" in text
    assert '| 1 | `"align"` | `false` | `["ASR"]` | `1200` | - |' in text
    assert '| 3 | `"multitask"` | `true` | - | - | `5` |' in text
    assert "| `train.lr` | `0.00031` |" in text
    assert "| `data.task_weights.ASR` | `3` |" in text
    assert "synthetic" in text.split("## Limitations")[1]
    assert "@misc{das2024speechverse" in text and "eprint        = {2405.08295}" in text
    trainable = sum(param.numel() for param in trainable_weights(tiny[0]).values())
    assert f"| Trainable parameters | {trainable:,} |" in text
    assert "### Table 2: ASR and SLU tasks" in text.split("## Evaluation")[1]


def test_card_without_recipe_or_results_says_so(tiny, tmp_path):
    model, processor = tiny
    checkpoint = save_checkpoint(model, processor, tmp_path / "bare", recipe=False, results=False)
    out = assemble_repo(checkpoint, tmp_path / "repo", REPO_ID)
    assert not (out / "results.json").exists() and not (out / "recipe.yaml").exists()
    card = ModelCard.load(out / "README.md")
    assert card.data.eval_results is None
    assert "not recorded" in card.text.split("## Training")[1]
    assert "No evaluation results" in card.text


# ------------------------------------------------------------------------------------------------- weights


def test_full_checkpoint_is_published_as_its_trainable_weights(tiny, tmp_path):
    model, processor = tiny
    checkpoint = save_checkpoint(model, processor, tmp_path / "full", save_full=True)
    out = assemble_repo(checkpoint, tmp_path / "repo", REPO_ID)
    weights = load_file(out / "model.safetensors")
    expected = trainable_weights(model)
    assert set(weights) == set(expected) and all(torch.equal(weights[k], expected[k]) for k in expected)
    assert json.loads((out / "config.json").read_text())["checkpoint_contents"] == "adapters"


def test_full_option_publishes_every_weight(checkpoint, tiny, tmp_path):
    model, processor = tiny
    out = assemble_repo(checkpoint, tmp_path / "repo", REPO_ID, full=True)
    assert json.loads((out / "config.json").read_text())["checkpoint_contents"] == "full"
    assert any(name.startswith("audio_encoder.") for name in load_file(out / "model.safetensors"))
    loaded = SpeechVerseForConditionalGeneration.from_pretrained(out)
    inputs = processor(audio=[np.sin(np.arange(12000) / 7).astype(np.float32)], sampling_rate=16000, text=["hi"])
    assert torch.equal(loaded.generate(**inputs, max_new_tokens=5), model.generate(**inputs, max_new_tokens=5))


# ------------------------------------------------------------------------------------------------- bad input


def _without_processor(checkpoint: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "no-processor"
    folder.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(checkpoint / name, folder / name)
    return folder


def _bad_results(checkpoint: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "bad-results"
    shutil.copytree(checkpoint, folder)
    results = json.loads((folder / "results.json").read_text())
    results["results"][0]["metric"] = "accuracy_typo"
    (folder / "results.json").write_text(json.dumps(results))
    return folder


def _weights_do_not_fit(checkpoint: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "rank-mismatch"
    shutil.copytree(checkpoint, folder)
    config = json.loads((folder / "config.json").read_text())
    config["lora_rank"] = 8
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize(
    ("make_model_dir", "repo_id", "message"),
    [
        (lambda checkpoint, tmp: tmp / "missing", REPO_ID, "is not a folder"),
        (lambda checkpoint, tmp: tmp, REPO_ID, "has no config.json"),
        (lambda checkpoint, tmp: checkpoint, "no-namespace", "must look like 'user/name'"),
        (_without_processor, REPO_ID, "Could not load the processor"),
        (_bad_results, REPO_ID, "metric 'accuracy_typo' is not one of"),
        (_weights_do_not_fit, REPO_ID, "do not fit its config"),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(checkpoint, tmp_path, capsys, make_model_dir, repo_id, message):
    out = tmp_path / "out" / "repo"
    model_dir = make_model_dir(checkpoint, tmp_path)
    assert push.main(["--model", str(model_dir), "--repo-id", repo_id, "--local-dir", str(out)]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()
    assert not (out.parent.exists() and list(out.parent.iterdir()))


def test_local_dir_that_is_not_empty_is_refused(checkpoint, tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert push.main(["--model", str(checkpoint), "--repo-id", REPO_ID, "--local-dir", str(tmp_path)]) == 1
    assert "not an empty folder" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


# ------------------------------------------------------------------------------------------------- upload


class FakeHub:
    """Stands in for the Hub behind `HfApi`'s network methods and records what they receive."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.exists = False
        self.create_error: Exception | None = None
        self.upload_error: Exception | None = None
        self.delete_error: Exception | None = None
        self.uploaded: dict[str, bytes] = {}
        self.upload_kwargs: dict = {}

    def install(self, monkeypatch) -> None:
        hub = self

        def repo_exists(api, repo_id, *, repo_type=None, token=None):
            hub.calls.append(("repo_exists", repo_id, api.token))
            return hub.exists

        def create_repo(api, repo_id, *, private=None, repo_type=None, exist_ok=False, **kwargs):
            hub.calls.append(("create_repo", repo_id, private))
            if hub.create_error:
                raise hub.create_error
            return SimpleNamespace(repo_id=repo_id)

        def upload_folder(api, *, repo_id, folder_path, **kwargs):
            hub.calls.append(("upload_folder", repo_id))
            hub.uploaded, hub.upload_kwargs = files_of(Path(folder_path)), kwargs
            if hub.upload_error:
                raise hub.upload_error
            return SimpleNamespace(commit_url=f"https://huggingface.co/{repo_id}/commit/0123abc")

        def delete_repo(api, repo_id, *, repo_type=None, token=None, missing_ok=False):
            hub.calls.append(("delete_repo", repo_id))
            if hub.delete_error:
                raise hub.delete_error

        for name, method in [("repo_exists", repo_exists), ("create_repo", create_repo),
                             ("upload_folder", upload_folder), ("delete_repo", delete_repo)]:
            monkeypatch.setattr(HfApi, name, method)

    @property
    def names(self) -> list[str]:
        return [call[0] for call in self.calls]


@pytest.fixture
def hub(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    fake = FakeHub()
    fake.install(monkeypatch)
    return fake


def upload(checkpoint: Path, *extra: str) -> int:
    return push.main(["--model", str(checkpoint), "--repo-id", REPO_ID, *HUB_IDS, *extra])


def test_upload_sends_the_folder_that_local_dir_writes(checkpoint, hub, tmp_path, capsys):
    assert upload(checkpoint, "--private") == 0
    assert hub.calls == [
        ("repo_exists", REPO_ID, "hf_test_token"),
        ("create_repo", REPO_ID, True),
        ("upload_folder", REPO_ID),
    ]
    assert "0123abc" in capsys.readouterr().out
    assert hub.upload_kwargs["delete_patterns"] == "*"  # the repo then holds exactly the folder
    assert upload(checkpoint, "--local-dir", str(tmp_path / "local")) == 0
    assert hub.names == ["repo_exists", "create_repo", "upload_folder"]  # --local-dir uploads nothing
    assert hub.uploaded == files_of(tmp_path / "local")
    config = json.loads(hub.uploaded["config.json"])
    assert config["audio_backbone_id"] == "microsoft/wavlm-base-plus"
    assert config["text_backbone_id"] == "google/flan-t5-small"
    card = ModelCard(hub.uploaded["README.md"].decode())
    assert card.data.base_model == ["microsoft/wavlm-base-plus", "google/flan-t5-small"]
    assert f'repo_id = "{REPO_ID}"' in card.text


def test_missing_token_is_refused_before_any_hub_call(checkpoint, hub, monkeypatch, tmp_path, capsys):
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    assert upload(checkpoint) == 1
    error = capsys.readouterr().err
    assert "No Hugging Face token" in error and "HF_TOKEN" in error
    assert hub.calls == []


def test_local_backbone_folders_are_refused_for_upload(checkpoint, hub, capsys):
    assert push.main(["--model", str(checkpoint), "--repo-id", REPO_ID]) == 1
    error = capsys.readouterr().err
    assert "local folder" in error and "--audio-backbone-id" in error and "--full" in error
    assert hub.calls == []


def test_existing_repo_is_refused_without_exist_ok(checkpoint, hub, capsys):
    hub.exists = True
    assert upload(checkpoint) == 1
    error = capsys.readouterr().err
    assert "already exists" in error and "--exist-ok" in error
    assert hub.names == ["repo_exists"]
    assert upload(checkpoint, "--exist-ok") == 0
    assert hub.names == ["repo_exists", "repo_exists", "upload_folder"]


def test_failed_upload_deletes_the_repo_it_created(checkpoint, hub, capsys):
    hub.upload_error = OSError("connection reset")
    assert upload(checkpoint) == 1
    error = capsys.readouterr().err
    assert "connection reset" in error and f"Deleted the repo {REPO_ID}" in error
    assert hub.names == ["repo_exists", "create_repo", "upload_folder", "delete_repo"]


def test_failed_upload_and_failed_delete_says_what_is_left(checkpoint, hub, capsys):
    hub.upload_error, hub.delete_error = OSError("connection reset"), OSError("still down")
    assert upload(checkpoint) == 1
    error = capsys.readouterr().err
    assert "could not be deleted" in error and f"https://huggingface.co/{REPO_ID}/settings" in error


def test_failed_upload_to_an_existing_repo_leaves_it_unchanged(checkpoint, hub, capsys):
    hub.exists, hub.upload_error = True, OSError("connection reset")
    assert upload(checkpoint, "--exist-ok") == 1
    assert f"{REPO_ID} is unchanged" in capsys.readouterr().err
    assert "delete_repo" not in hub.names


def test_failed_repo_creation_uploads_nothing(checkpoint, hub, capsys):
    hub.create_error = PermissionError("403 Forbidden: you cannot write to 'me'")
    assert upload(checkpoint) == 1
    error = capsys.readouterr().err
    assert "Could not create the repo" in error and "403 Forbidden" in error
    assert hub.names == ["repo_exists", "create_repo"]
