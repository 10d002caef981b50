"""Publishing a trained SpeechVerse checkpoint to the Hugging Face Hub as a `trust_remote_code` repo.

`assemble_repo` writes the exact folder that is uploaded: the trainable weights (safetensors), the config with
its `auto_map`, the processor files, the custom code files, the model card (`README.md`), the evaluation
`results.json` and the training recipe. `publish` assembles that folder, then creates the repo and uploads the
folder in one commit; when the upload fails it deletes the repo it has just created, so nothing is left
half-published.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch
from huggingface_hub import HfApi, get_token
from huggingface_hub.utils import HFValidationError, validate_repo_id
from safetensors import safe_open
from safetensors.torch import save_file
from transformers.dynamic_module_utils import custom_object_save
from transformers.utils import logging

from .configuration_speechverse import SpeechVerseConfig
from .evaluation.report import load_results, save_results
from .model_card import build_model_card, find_recipe, is_hub_repo_id
from .modeling_speechverse import ADAPTER_WEIGHTS_NAME, SpeechVerseForConditionalGeneration
from .processing_speechverse import SpeechVerseProcessor

logger = logging.get_logger(__name__)

RESULTS_NAME = "results.json"
GENERATION_CONFIG_NAME = "generation_config.json"


class PublishError(RuntimeError):
    """A problem on the Hub side (no token, existing repo, failed upload); the message says what the Hub holds."""


def check_repo_id(repo_id: str) -> str:
    """`repo_id` if it is a valid `namespace/name` model repo id, else a ValueError saying why."""
    if not isinstance(repo_id, str) or repo_id.count("/") != 1:
        raise ValueError(f"--repo-id must look like 'user/name', got {repo_id!r}")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise ValueError(f"--repo-id {repo_id!r} is not a valid Hub repo id: {error}") from None
    return repo_id


def _load_config(model_dir: Path) -> SpeechVerseConfig:
    config_file = model_dir / "config.json"
    if not config_file.is_file():
        raise ValueError(f"{model_dir} has no config.json; point --model at a folder written by save_pretrained")
    try:
        model_type = json.loads(config_file.read_text(encoding="utf-8")).get("model_type")
    except json.JSONDecodeError as error:
        raise ValueError(f"{config_file} is not valid JSON: {error}") from None
    if model_type != SpeechVerseConfig.model_type:
        raise ValueError(f"{model_dir} holds a {model_type!r} model, not a SpeechVerse checkpoint")
    return SpeechVerseConfig.from_pretrained(model_dir)


def _read_trainable_weights(
    model_dir: Path, expected: dict[str, torch.Tensor], adapters_only: bool
) -> dict[str, torch.Tensor]:
    """The trainable tensors of a checkpoint (adapter-only or full), checked against the model's own names/shapes."""
    files = sorted(model_dir.glob("*.safetensors"))
    if not files:
        raise ValueError(f"{model_dir} has no .safetensors weights")
    found: dict[str, torch.Tensor] = {}
    unexpected: list[str] = []
    for file in files:
        with safe_open(file, framework="pt") as handle:
            for name in handle.keys():
                if name in expected:
                    found[name] = handle.get_tensor(name)
                elif adapters_only:
                    unexpected.append(name)
    missing = sorted(set(expected) - set(found))
    mismatched = sorted(name for name in found if found[name].shape != expected[name].shape)
    if missing or unexpected or mismatched:
        raise ValueError(
            f"The weights in {model_dir} do not fit its config: missing {missing[:5]}, unexpected {unexpected[:5]}, "
            f"shape mismatch {mismatched[:5]}"
        )
    return found


def _write_adapter_checkpoint(model_dir: Path, config: SpeechVerseConfig, stage: Path) -> int:
    """Trainable weights, config (with `auto_map`) and code files, without loading the frozen backbones.

    The model is built on the `meta` device only to know its trainable weights' names and shapes. Returns the
    number of trainable parameters.
    """
    adapters_only = config.checkpoint_contents == "adapters"
    with torch.device("meta"):
        model = SpeechVerseForConditionalGeneration(config)
    weights = _read_trainable_weights(model_dir, model.adapter_state_dict(), adapters_only)
    save_file(weights, stage / ADAPTER_WEIGHTS_NAME, metadata={"format": "pt"})
    config.checkpoint_contents = "adapters"
    custom_object_save(model, stage, config=config)  # modeling file + its `auto_map` entry
    config.save_pretrained(stage)  # config file + configuration code
    if (model_dir / GENERATION_CONFIG_NAME).is_file():
        shutil.copyfile(model_dir / GENERATION_CONFIG_NAME, stage / GENERATION_CONFIG_NAME)
    return sum(tensor.numel() for tensor in weights.values())


def _write_full_checkpoint(model_dir: Path, backbone_ids: dict[str, str | None], stage: Path) -> int:
    """Every weight (the backbones are loaded through the checkpoint's own config), config and code files."""
    model = SpeechVerseForConditionalGeneration.from_pretrained(model_dir)
    for name, value in backbone_ids.items():
        setattr(model.config, name, value)
    model.save_pretrained(stage, save_full=True)
    return sum(tensor.numel() for tensor in model.adapter_state_dict().values())


def _check_backbones(config: SpeechVerseConfig, full: bool, require_hub_backbones: bool) -> None:
    if full:
        return
    for role, backbone_id in (("audio", config.audio_backbone_id), ("text", config.text_backbone_id)):
        if backbone_id is None:
            raise ValueError(
                f"The config names no {role} backbone, so a repo with only the trainable weights could not load it: "
                f"pass --{role}-backbone-id with its Hub id, or --full to publish every weight"
            )
        if not is_hub_repo_id(backbone_id):
            message = (
                f"The {role} backbone is the local folder {backbone_id!r}, which Hub users cannot load: pass "
                f"--{role}-backbone-id with the Hub id of the same weights, or --full to publish every weight"
            )
            if require_hub_backbones:
                raise ValueError(message)
            logger.warning(message + " (this folder loads on this machine only)")


def _prepare_output(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ValueError(f"{out_dir} already exists and is not an empty folder; choose a new --local-dir")


def assemble_repo(
    model_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    repo_id: str,
    *,
    results: str | os.PathLike | None = None,
    audio_backbone_id: str | None = None,
    text_backbone_id: str | None = None,
    full: bool = False,
    datasets: Sequence[str] = (),
    license: str = "apache-2.0",
    require_hub_backbones: bool = False,
) -> Path:
    """
    Write the folder that `publish` uploads: weights, config, processor, code, model card, results and recipe.

    Args:
        model_dir: A checkpoint written by `save_pretrained` (adapter-only or full) with its processor files, and
            optionally `results.json` and the training recipe (`recipe.yaml` / `training_args.json`).
        out_dir: Where to write the folder; must not exist yet or be empty. It appears only once complete.
        repo_id: The Hub repo id (`user/name`) the card and snippet name.
        results: A `results.json` to publish; defaults to `model_dir/results.json` when present.
        audio_backbone_id, text_backbone_id: Hub ids to write in the published config in place of the checkpoint's
            (e.g. when training used a local copy of `microsoft/wavlm-large`).
        full: Publish every weight (backbones included) instead of only the trainable ones.
        datasets: Hub dataset ids for the card's metadata.
        license: Licence id for the card's metadata.
        require_hub_backbones: Refuse backbone ids that are local paths (set when uploading).

    Returns:
        `out_dir` as a `Path`.
    """
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    check_repo_id(repo_id)
    if not model_dir.is_dir():
        raise ValueError(f"--model {model_dir} is not a folder")
    _prepare_output(out_dir)
    config = _load_config(model_dir)
    overrides = {
        name: value
        for name, value in (("audio_backbone_id", audio_backbone_id), ("text_backbone_id", text_backbone_id))
        if value is not None
    }
    for name, value in overrides.items():
        setattr(config, name, value)
    _check_backbones(config, full, require_hub_backbones)
    results_path = Path(results) if results is not None else model_dir / RESULTS_NAME
    if results is not None and not results_path.is_file():
        raise ValueError(f"--results {results_path} does not exist")
    loaded_results = load_results(results_path) if results_path.is_file() else None
    recipe = find_recipe(model_dir)
    try:
        processor = SpeechVerseProcessor.from_pretrained(model_dir)
    except (OSError, ValueError, TypeError) as error:
        raise ValueError(
            f"Could not load the processor from {model_dir} ({error}); save it next to the model with "
            "processor.save_pretrained(DIR)"
        ) from None

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    stage.chmod(0o755)  # mkdtemp makes it private; the finished folder is an ordinary one
    try:
        if full:
            backbone_ids = {"audio_backbone_id": config.audio_backbone_id, "text_backbone_id": config.text_backbone_id}
            trainable = _write_full_checkpoint(model_dir, backbone_ids, stage)
            config = SpeechVerseConfig.from_pretrained(stage)
        else:
            trainable = _write_adapter_checkpoint(model_dir, config, stage)
        processor.save_pretrained(stage)
        if loaded_results is not None:
            save_results(loaded_results, stage / RESULTS_NAME)
        if recipe is not None:
            shutil.copyfile(model_dir / recipe.filename, stage / recipe.filename)
        card = build_model_card(
            config,
            repo_id,
            trainable_parameters=trainable,
            results=loaded_results,
            recipe=recipe,
            datasets=datasets,
            license=license,
        )
        card.save(stage / "README.md")
        if out_dir.exists():
            out_dir.rmdir()
        os.replace(stage, out_dir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return out_dir


def resolve_token(token: str | None = None) -> str:
    """`token`, else `HF_TOKEN` / the token saved by `hf auth login`; a PublishError when there is none."""
    token = token or get_token()
    if not token:
        raise PublishError(
            "No Hugging Face token found: run `hf auth login` or set HF_TOKEN to a token with write access. "
            "Nothing was published."
        )
    return token


def publish(
    model_dir: str | os.PathLike,
    repo_id: str,
    *,
    private: bool = False,
    exist_ok: bool = False,
    token: str | None = None,
    **assemble_kwargs,
) -> str:
    """
    Assemble the repo folder, create the Hub repo and upload the folder in a single commit.

    Args:
        model_dir, repo_id, **assemble_kwargs: as for `assemble_repo`.
        private: Create the repo as private.
        exist_ok: Publish into an existing repo, replacing its files in one commit; without it an existing repo
            is an error.
        token: A Hub token; defaults to `HF_TOKEN` or the saved login.

    Returns:
        The URL of the commit.

    Raises:
        ValueError: the checkpoint cannot be published as it is (nothing was sent to the Hub).
        PublishError: no token, an existing repo, or a failed Hub call; the message says what the Hub holds.
    """
    check_repo_id(repo_id)
    api = HfApi(token=resolve_token(token))
    with tempfile.TemporaryDirectory(prefix="speechverse-publish-") as tmp:
        folder = assemble_repo(model_dir, Path(tmp) / "repo", repo_id, require_hub_backbones=True, **assemble_kwargs)
        try:
            exists = api.repo_exists(repo_id, repo_type="model")
        except Exception as error:  # any failure at the network boundary becomes one clear message
            message = f"Could not reach the Hub to check {repo_id}: {error}. Nothing was published."
            raise PublishError(message) from error
        if exists and not exist_ok:
            raise PublishError(
                f"The repo {repo_id} already exists on the Hub. Pass --exist-ok to replace its files in one commit, "
                "or choose another --repo-id. Nothing was published."
            )
        if not exists:
            try:
                api.create_repo(repo_id, repo_type="model", private=private)
            except Exception as error:
                raise PublishError(
                    f"Could not create the repo {repo_id}: {error}. Check that the token may write to that namespace. "
                    "Nothing was published."
                ) from error
        try:
            commit = api.upload_folder(
                repo_id=repo_id,
                repo_type="model",
                folder_path=folder,
                commit_message="Publish SpeechVerse checkpoint",
                delete_patterns="*",  # the repo then holds exactly this folder (.gitattributes is kept)
            )
        except Exception as error:
            raise PublishError(f"Uploading to {repo_id} failed: {error}. {_clean_up(api, repo_id, exists)}") from error
    return commit.commit_url


def _clean_up(api: HfApi, repo_id: str, existed: bool) -> str:
    """Undo a failed publication: delete the repo this run created. Returns what the Hub holds now."""
    if existed:
        return f"The upload is a single commit, so {repo_id} is unchanged."
    try:
        api.delete_repo(repo_id, repo_type="model")
    except Exception as error:
        return (
            f"The repo {repo_id} created by this run could not be deleted ({error}); it is empty. Delete it at "
            f"https://huggingface.co/{repo_id}/settings."
        )
    return f"Deleted the repo {repo_id} that this run had just created, so nothing is half-published."


__all__ = ["PublishError", "assemble_repo", "check_repo_id", "publish", "resolve_token"]
