"""SpeechVerse model configuration (Das et al., 2024, Section 2.1 and Table 11)."""

from __future__ import annotations

import math
from dataclasses import field
from typing import Any

from huggingface_hub.dataclasses import strict
from transformers import AutoConfig, PretrainedConfig
from transformers.configuration_utils import SubConfigSpec

from .backbone_architectures import KNOWN_AUDIO_BACKBONES, KNOWN_TEXT_BACKBONES

LAYER_WEIGHTINGS = ("all", "last")
CHECKPOINT_CONTENTS = ("adapters", "full")

# Table 11 of the paper (plus Section 3.2 for Task-FT): architecture choices per model variant.
# Optimiser settings of the same table live in the training recipes under `configuration/`.
_MULTITASK_WLM: dict[str, Any] = {
    "audio_backbone": "microsoft/wavlm-large",
    "text_backbone": "google/flan-t5-xl",
    "layer_weighting": "last",  # Section 3.2: the WavLM models use the last layer's output
    "downsampler_kernel_sizes": [3, 3],
    "downsampler_strides": [2, 2],
    "lora_rank": 16,
}
PRESETS: dict[str, dict[str, Any]] = {
    "task-ft": {**_MULTITASK_WLM, "lora_rank": 8},  # Section 3.2: task-specific models use r = 8
    "multitask-wlm": _MULTITASK_WLM,
    "multitask-brq": {
        **_MULTITASK_WLM,
        "audio_backbone": "speechverse/best-rq-conformer",
        "layer_weighting": "all",
        "downsampler_strides": [2, 1],  # Appendix A.2: the 25 Hz encoder needs only one stride-2 block
    },
}


def _resolve_backbone_config(backbone: str | PretrainedConfig, known: dict[str, dict[str, Any]], **hub_kwargs):
    """A backbone's config from a config object, an embedded architecture, or a Hub id / local path."""
    if isinstance(backbone, PretrainedConfig):
        return backbone
    if backbone in known:
        architecture = dict(known[backbone])
        return AutoConfig.for_model(architecture.pop("model_type"), **architecture)
    return AutoConfig.from_pretrained(backbone, **hub_kwargs)


@strict(accept_kwargs=True)
class SpeechVerseConfig(PretrainedConfig):
    r"""
    Configuration of a SpeechVerse model: a frozen audio encoder and a frozen text LLM joined by a learnable
    weighted sum of the encoder layers, a 1-D convolution downsampler and LoRA adapters on the LLM.

    Args:
        audio_config (`dict` or `PretrainedConfig`, *optional*):
            Config of the audio encoder (any transformers audio encoder: WavLM, wav2vec2, HuBERT, wav2vec2-conformer,
            Whisper, ...). Defaults to a WavLM config.
        text_config (`dict` or `PretrainedConfig`, *optional*):
            Config of the LLM: an encoder-decoder (T5 / Flan-T5) or a causal LM (Llama, Qwen2, GPT-2, ...).
        audio_backbone_id (`str`, *optional*):
            Hub id or local path of the pretrained audio encoder. When set, checkpoints that hold only the adapter
            weights load the frozen encoder from here.
        text_backbone_id (`str`, *optional*):
            Hub id or local path of the pretrained LLM (and its tokenizer).
        layer_weighting (`str`, *optional*, defaults to `"all"`):
            `"all"`: Eq. 1, a softmax-normalised learnable weight per encoder transformer layer; `"last"`: the last
            layer's output only.
        downsampler_kernel_sizes (`list[int]`, *optional*, defaults to `[3, 3]`):
            Kernel size of each 1-D convolution block of the downsampler.
        downsampler_strides (`list[int]`, *optional*, defaults to `[2, 2]`):
            Stride of each block; their product takes the encoder frame rate to 12.5 Hz in the paper.
        lora_rank (`int`, *optional*, defaults to 16):
            LoRA rank on the LLM; 0 disables LoRA.
        lora_alpha (`int`, *optional*, defaults to 32):
            LoRA scaling numerator (the update is scaled by `lora_alpha / lora_rank`).
        lora_dropout (`float`, *optional*, defaults to 0.05):
            Dropout on the LoRA input.
        lora_target_modules (`list[str]`, *optional*):
            LLM modules that get LoRA adapters; `None` takes peft's default for the LLM family (`q`, `v` for T5).
        max_audio_frames (`int`, *optional*, defaults to 900):
            Longest audio accepted, in encoder frames (Appendix A.2: 900 frames, 18 s at 50 Hz).
        max_label_tokens (`int`, *optional*, defaults to 600):
            Longest target accepted, in LLM tokens (Appendix A.2).
        checkpoint_contents (`str`, *optional*, defaults to `"adapters"`):
            Set by `save_pretrained`: `"adapters"` when the checkpoint holds only the trainable weights (the frozen
            backbones are loaded from their ids), `"full"` when it holds every weight.
    """

    model_type = "speechverse"
    sub_configs_defaults = {
        "audio_config": SubConfigSpec(config_class=AutoConfig, model_type="wavlm"),
        "text_config": SubConfigSpec(config_class=AutoConfig, model_type="t5"),
    }

    audio_config: dict | PretrainedConfig | None = None
    text_config: dict | PretrainedConfig | None = None
    audio_backbone_id: str | None = None
    text_backbone_id: str | None = None
    layer_weighting: str = "all"
    downsampler_kernel_sizes: list[int] = field(default_factory=lambda: [3, 3])
    downsampler_strides: list[int] = field(default_factory=lambda: [2, 2])
    lora_rank: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: list[str] | None = None
    max_audio_frames: int = 900
    max_label_tokens: int = 600
    checkpoint_contents: str = "adapters"

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        for name in ("lora_rank", "lora_alpha", "max_audio_frames", "max_label_tokens"):
            if not isinstance(getattr(self, name), int) or isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be an integer, got {getattr(self, name)!r}")
        if self.layer_weighting not in LAYER_WEIGHTINGS:
            raise ValueError(f"layer_weighting must be one of {LAYER_WEIGHTINGS}, got {self.layer_weighting!r}")
        if len(self.downsampler_kernel_sizes) != len(self.downsampler_strides):
            raise ValueError(
                f"downsampler_kernel_sizes {self.downsampler_kernel_sizes} and downsampler_strides "
                f"{self.downsampler_strides} must have one entry per convolution block"
            )
        if any(k < 1 for k in self.downsampler_kernel_sizes) or any(s < 1 for s in self.downsampler_strides):
            raise ValueError("downsampler kernel sizes and strides must be positive")
        if self.lora_rank < 0:
            raise ValueError(f"lora_rank must be >= 0, got {self.lora_rank}")
        if self.checkpoint_contents not in CHECKPOINT_CONTENTS:
            raise ValueError(f"checkpoint_contents must be one of {CHECKPOINT_CONTENTS}")

    @property
    def is_encoder_decoder_llm(self) -> bool:
        """Whether the LLM is an encoder-decoder (T5) rather than a causal decoder."""
        return bool(getattr(self.text_config, "is_encoder_decoder", False))

    @property
    def audio_hidden_size(self) -> int:
        return self.audio_config.hidden_size

    @property
    def text_hidden_size(self) -> int:
        return self.text_config.hidden_size

    @property
    def num_audio_layers(self) -> int:
        """Number of transformer layers of the audio encoder (the L of Eq. 1)."""
        if self.audio_config.model_type == "whisper":
            return self.audio_config.encoder_layers
        return self.audio_config.num_hidden_layers

    @property
    def encoder_frame_rate(self) -> float:
        """Frames per second of the audio encoder output for 16 kHz input."""
        if self.audio_config.model_type == "whisper":
            return 50.0  # 10 ms mel hop, then a stride-2 convolution
        return 16000 / math.prod(self.audio_config.conv_stride)

    @property
    def audio_token_rate(self) -> float:
        """Frames per second of the audio features given to the LLM (12.5 Hz in the paper)."""
        return self.encoder_frame_rate / math.prod(self.downsampler_strides)

    @property
    def max_audio_seconds(self) -> float:
        return self.max_audio_frames / self.encoder_frame_rate

    @classmethod
    def from_backbones(
        cls,
        audio_backbone: str | PretrainedConfig,
        text_backbone: str | PretrainedConfig,
        **kwargs: Any,
    ) -> "SpeechVerseConfig":
        """
        Build a config around two backbones, each given as a Hub id, a local path or a config object.

        Well-known ids (`microsoft/wavlm-large`, `google/flan-t5-xl`, ... see `backbone_architectures.py`) resolve
        from embedded architecture hyperparameters, so this works offline; other ids are read with `AutoConfig`.
        Keyword arguments set the remaining fields (`layer_weighting`, `lora_rank`, ...).
        """
        hub_kwargs = {k: kwargs.pop(k) for k in ("token", "revision", "cache_dir", "local_files_only") if k in kwargs}
        audio_config = _resolve_backbone_config(audio_backbone, KNOWN_AUDIO_BACKBONES, **hub_kwargs)
        text_config = _resolve_backbone_config(text_backbone, KNOWN_TEXT_BACKBONES, **hub_kwargs)
        if text_config.model_type == "t5" and kwargs.get("lora_target_modules") is None:
            kwargs["lora_target_modules"] = ["q", "v"]
        return cls(
            audio_config=audio_config,
            text_config=text_config,
            audio_backbone_id=audio_backbone if isinstance(audio_backbone, str) else None,
            text_backbone_id=text_backbone if isinstance(text_backbone, str) else None,
            **kwargs,
        )

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> "SpeechVerseConfig":
        """One of the paper's variants (`task-ft`, `multitask-wlm`, `multitask-brq`), built offline."""
        if name not in PRESETS:
            raise ValueError(f"Unknown preset {name!r}; choose one of {sorted(PRESETS)}")
        preset = {**PRESETS[name], **overrides}
        return cls.from_backbones(preset.pop("audio_backbone"), preset.pop("text_backbone"), **preset)


__all__ = ["SpeechVerseConfig", "PRESETS"]
