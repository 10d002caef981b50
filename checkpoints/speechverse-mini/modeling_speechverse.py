"""SpeechVerse: a frozen audio encoder and a frozen LLM joined by learnable layer weights, a convolution
downsampler and LoRA (Das et al., 2024, Section 2.1, Eq. 1 and Eq. 2)."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from transformers import (
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    GenerationMixin,
    PretrainedConfig,
    PreTrainedModel,
)
from transformers.modeling_outputs import ModelOutput
from transformers.utils import cached_file, logging

from .configuration_speechverse import SpeechVerseConfig

logger = logging.get_logger(__name__)

ADAPTER_WEIGHTS_NAME = "model.safetensors"
# Fields that must agree between a config and the backbone weights loaded for it.
_ARCHITECTURE_FIELDS = ("model_type", "hidden_size", "num_hidden_layers", "vocab_size")


@dataclass
class SpeechVerseAudioFeatures(ModelOutput):
    """
    Audio features ready to be placed before the instruction's token embeddings.

    Args:
        embeds (`torch.FloatTensor` of shape `(batch_size, audio_frames, text_hidden_size)`):
            Downsampled audio features in the LLM's embedding space; frames past `lengths` are padding.
        lengths (`torch.LongTensor` of shape `(batch_size,)`):
            Number of valid frames of each item.
    """

    embeds: torch.FloatTensor | None = None
    lengths: torch.LongTensor | None = None


class SpeechVerseLayerWeighting(nn.Module):
    """Eq. 1: a softmax-normalised learnable weight per encoder transformer layer, summed over layers."""

    def __init__(self, num_layers: int):
        super().__init__()
        # Zeros give equal weights at the start, the usual initialisation of a SUPERB-style weighted sum.
        self.layer_logits = nn.Parameter(torch.zeros(num_layers))

    def forward(self, hidden_states: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """`hidden_states`: one `(batch, frames, dim)` tensor per layer -> `(batch, frames, dim)`."""
        if len(hidden_states) != self.layer_logits.numel():
            raise ValueError(f"Expected {self.layer_logits.numel()} layer outputs, got {len(hidden_states)}")
        weights = torch.softmax(self.layer_logits, dim=0).to(hidden_states[0].dtype)
        # A running sum keeps one extra activation alive instead of a stacked (layers, ...) tensor.
        weighted = weights[0] * hidden_states[0]
        for weight, hidden in zip(weights[1:], hidden_states[1:]):
            weighted = weighted + weight * hidden
        return weighted


class SpeechVerseDownsampler(nn.Module):
    """
    Successive 1-D convolution blocks, each a convolution followed by LayerNorm (Section 2.1), taking the encoder
    frame rate down to the LLM's audio token rate. Padding frames are zeroed before every convolution so a padded
    batch computes exactly what each item computes alone.
    """

    def __init__(self, input_size: int, output_size: int, kernel_sizes: list[int], strides: list[int]):
        super().__init__()
        self.kernel_sizes = list(kernel_sizes)
        self.strides = list(strides)
        self.convs = nn.ModuleList(
            nn.Conv1d(input_size if i == 0 else output_size, output_size, k, stride=s, padding=k // 2)
            for i, (k, s) in enumerate(zip(kernel_sizes, strides))
        )
        self.norms = nn.ModuleList(nn.LayerNorm(output_size) for _ in kernel_sizes)

    def output_lengths(self, lengths: torch.LongTensor) -> torch.LongTensor:
        """Frames out of the downsampler for `lengths` frames in."""
        for k, s in zip(self.kernel_sizes, self.strides):
            lengths = torch.div(lengths + 2 * (k // 2) - k, s, rounding_mode="floor") + 1
        return lengths

    def forward(self, features: torch.Tensor, lengths: torch.LongTensor) -> tuple[torch.Tensor, torch.LongTensor]:
        """`features`: `(batch, frames, input_size)` -> `((batch, frames_out, output_size), lengths_out)`."""
        for conv, norm, k, s in zip(self.convs, self.norms, self.kernel_sizes, self.strides):
            valid = torch.arange(features.shape[1], device=features.device)[None, :] < lengths[:, None]
            features = features.masked_fill(~valid[..., None], 0.0)
            features = norm(conv(features.transpose(1, 2)).transpose(1, 2))
            lengths = torch.div(lengths + 2 * (k // 2) - k, s, rounding_mode="floor") + 1
        return features, lengths


def pack_segments(
    segments: list[tuple[torch.Tensor, torch.Tensor]], left_pad: bool
) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """
    Concatenate each item's valid entries of several segments (Eq. 2: audio, then instruction, ...) and pad the
    batch at the end (`left_pad=False`, encoder-decoder LLMs) or at the start (`left_pad=True`, causal LMs).

    Args:
        segments: `(values, valid)` pairs; `values` of shape `(batch, length_i, ...)`, `valid` a bool mask
            `(batch, length_i)`. Valid entries keep their order; padding may sit anywhere.
        left_pad: where the padding of the packed batch goes.

    Returns:
        `packed` `(batch, total, ...)`, its `attention_mask` `(batch, total)`, and for each segment the packed
        position of each of its entries `(batch, length_i)` (meaningful where `valid`).
    """
    lengths = [valid.sum(dim=1) for _, valid in segments]
    totals = torch.stack(lengths).sum(dim=0)
    width = int(totals.max())
    reference = segments[0][0]
    packed = reference.new_zeros((reference.shape[0], width, *reference.shape[2:]))
    start = width - totals if left_pad else torch.zeros_like(totals)
    first = start
    positions = []
    for (values, valid), length in zip(segments, lengths):
        position = start[:, None] + valid.long().cumsum(dim=1) - 1
        rows, cols = valid.nonzero(as_tuple=True)
        packed = packed.index_put((rows, position[rows, cols]), values[rows, cols])
        positions.append(position)
        start = start + length
    columns = torch.arange(width, device=totals.device)[None, :]
    attention_mask = ((columns >= first[:, None]) & (columns < start[:, None])).long()
    return packed, attention_mask, positions


def build_audio_encoder(audio_config: PretrainedConfig) -> PreTrainedModel:
    """
    A randomly initialised audio encoder; for encoder-decoder audio models (Whisper) only the encoder, sized for
    `audio_config.max_source_positions` (its input window).
    """
    if audio_config.model_type == "whisper":
        from transformers.models.whisper.modeling_whisper import WhisperEncoder

        return WhisperEncoder(audio_config)
    model = AutoModel.from_config(audio_config)
    return model.get_encoder() if getattr(audio_config, "is_encoder_decoder", False) else model


def resolve_backbone_id(backbone_id: str, base_dir: str | os.PathLike | None = None) -> str:
    """
    Where a backbone named in a config lives on this machine. `builtin:` names (e.g. `builtin:whisper-tiny.en`)
    are built or converted locally by the training package; paths starting with `./` or `../` are relative to
    `base_dir` (a checkpoint folder), so a checkpoint can point at a backbone shipped next to it. Anything else
    (Hub id, absolute path) is returned unchanged.
    """
    if backbone_id.startswith("builtin:"):
        try:
            # Imported by name: a `from .training...` line would make `save_pretrained` copy it as remote code.
            resolve_backbone = importlib.import_module(".training.backbones", __package__).resolve_backbone
        except ImportError as error:
            raise ValueError(
                f"Backbone {backbone_id!r} is built locally by modeling_speechverse.training, which could not be "
                f"imported ({error}); install the project with its `train` extra or point the config at a local copy"
            ) from None
        return resolve_backbone(backbone_id, Path.home() / ".cache" / "speechverse" / "backbones")
    if base_dir is not None and backbone_id.startswith(("./", "../")):
        return str((Path(base_dir) / backbone_id).resolve())
    return backbone_id


def _shorten_whisper_window(encoder: PreTrainedModel, max_source_positions: int) -> None:
    """
    Run a Whisper encoder on a window shorter than the 30 s it was trained on: keep the first
    `max_source_positions` rows of its fixed sinusoidal position table (exactly what Whisper computes for those
    positions). Its feature extractor must then pad to `2 * max_source_positions` mel frames (`chunk_length`).
    """
    loaded = encoder.config.max_source_positions
    if max_source_positions > loaded:
        raise ValueError(
            f"audio_config.max_source_positions is {max_source_positions} but the pretrained Whisper encoder has only "
            f"{loaded} positions; it can run on a shorter window, not a longer one"
        )
    # Cut the loaded parameter in place: a new module would count as uninitialised, and the enclosing model's
    # `post_init` would overwrite it with random values.
    positions = encoder.embed_positions
    positions.weight.data = positions.weight.data[:max_source_positions].clone()
    positions.num_embeddings = max_source_positions
    encoder.config.max_source_positions = max_source_positions


def load_audio_encoder(backbone_id: str, audio_config: PretrainedConfig | None = None, **kwargs) -> PreTrainedModel:
    """
    The pretrained audio encoder at `backbone_id` (Hub id, local path or `builtin:` name, see
    `resolve_backbone_id`). With `audio_config` (a SpeechVerse config's), a Whisper encoder is cut to that
    config's `max_source_positions`, the window the model was trained with.
    """
    model = AutoModel.from_pretrained(resolve_backbone_id(backbone_id), **kwargs)
    encoder = model.get_encoder() if model.config.is_encoder_decoder else model
    whisper = audio_config is not None and audio_config.model_type == "whisper"
    if whisper and audio_config.max_source_positions != encoder.config.max_source_positions:
        _shorten_whisper_window(encoder, audio_config.max_source_positions)
    return encoder


def language_model_class(text_config: PretrainedConfig):
    return AutoModelForSeq2SeqLM if getattr(text_config, "is_encoder_decoder", False) else AutoModelForCausalLM


def _check_backbone_matches(expected: PretrainedConfig, loaded: PretrainedConfig, role: str, backbone_id: str):
    for name in _ARCHITECTURE_FIELDS:
        want, got = getattr(expected, name, None), getattr(loaded, name, None)
        if want != got:
            raise ValueError(
                f"The {role} at {backbone_id!r} does not match this checkpoint's config: {name} is {got!r} there "
                f"but {want!r} in the config. Point `{role}_backbone_id` at the backbone the model was trained with."
            )


class SpeechVersePreTrainedModel(PreTrainedModel):
    config_class = SpeechVerseConfig
    base_model_prefix = ""
    main_input_name = "input_features"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _supports_flash_attn = True

    def _init_weights(self, module: nn.Module):
        # Backbones initialise themselves (their own `_init_weights`); only the adapters are ours.
        if isinstance(module, SpeechVerseLayerWeighting):
            nn.init.zeros_(module.layer_logits)
        elif isinstance(module, SpeechVerseDownsampler):
            for conv in module.convs:
                conv.reset_parameters()
            for norm in module.norms:
                norm.reset_parameters()


class SpeechVerseForConditionalGeneration(SpeechVersePreTrainedModel, GenerationMixin):
    """
    SpeechVerse (Eq. 2): `LLM([CNN(AE(x)), EMB(z)])`. The audio encoder and the LLM are frozen; the layer weights,
    the downsampler and the LoRA adapters train.

    Inputs follow the processor's output: `input_features` (raw waveform `(batch, samples)` for wav2vec2-style
    encoders, log-mel `(batch, mel_bins, frames)` for Whisper) with `feature_attention_mask` (same leading shape,
    1 for real samples/frames), and the instruction's `input_ids` / `attention_mask` `(batch, tokens)`.
    """

    def __init__(
        self,
        config: SpeechVerseConfig,
        audio_encoder: PreTrainedModel | None = None,
        language_model: PreTrainedModel | None = None,
    ):
        super().__init__(config)
        self.audio_encoder = audio_encoder if audio_encoder is not None else build_audio_encoder(config.audio_config)
        self.language_model = (
            language_model
            if language_model is not None
            else language_model_class(config.text_config).from_config(config.text_config)
        )
        self.layer_weighting = (
            SpeechVerseLayerWeighting(config.num_audio_layers) if config.layer_weighting == "all" else None
        )
        self.downsampler = SpeechVerseDownsampler(
            config.audio_hidden_size,
            config.text_hidden_size,
            config.downsampler_kernel_sizes,
            config.downsampler_strides,
        )
        self.post_init()
        self.audio_encoder.requires_grad_(False)
        self.language_model.requires_grad_(False)
        if config.lora_rank > 0:
            self._inject_lora()
        self.audio_encoder.eval()

    def _inject_lora(self):
        from peft import LoraConfig, inject_adapter_in_model

        lora_config = LoraConfig(
            r=self.config.lora_rank,
            lora_alpha=self.config.lora_alpha,
            lora_dropout=self.config.lora_dropout,
            target_modules=self.config.lora_target_modules,
        )
        inject_adapter_in_model(lora_config, self.language_model)

    # ----------------------------------------------------------------------------------------------- trainability

    def train(self, mode: bool = True):
        super().train(mode)
        # The frozen encoder always runs as at inference (no dropout, no layer drop, no masking).
        self.audio_encoder.eval()
        return self

    def _lora_layers(self):
        from peft.tuners.tuners_utils import BaseTunerLayer

        return [m for m in self.language_model.modules() if isinstance(m, BaseTunerLayer)]

    def set_lora_enabled(self, enabled: bool) -> None:
        """Switch the LoRA adapters in (trainable) or out (inactive, frozen): stage 1 vs stage 2 of Section 2.3."""
        layers = self._lora_layers()
        if not layers and enabled:
            raise ValueError("This model has no LoRA adapters (lora_rank=0)")
        for layer in layers:
            layer.enable_adapters(enabled)

    def is_adapter_parameter(self, name: str) -> bool:
        """Whether a parameter is one of SpeechVerse's own weights (saved in adapter checkpoints)."""
        return not name.startswith(("audio_encoder.", "language_model.")) or "lora_" in name

    def adapter_state_dict(self) -> dict[str, torch.Tensor]:
        """The layer weights, downsampler and LoRA weights: everything that is not a frozen backbone weight."""
        return {name: tensor for name, tensor in self.state_dict().items() if self.is_adapter_parameter(name)}

    # ----------------------------------------------------------------------------------------------- audio path

    def get_input_embeddings(self) -> nn.Module:
        return self.language_model.get_input_embeddings()

    def _encoder_frame_lengths(self, feature_attention_mask: torch.Tensor) -> torch.LongTensor:
        return self.audio_encoder._get_feat_extract_output_lengths(feature_attention_mask.sum(-1)).long()

    def _check_audio_frames(self, frame_lengths: torch.LongTensor) -> None:
        if int(frame_lengths.max()) > self.config.max_audio_frames:
            raise ValueError(
                f"Audio of {int(frame_lengths.max())} encoder frames exceeds the limit of "
                f"{self.config.max_audio_frames} ({self.config.max_audio_seconds:.1f} s); split the audio or raise "
                "config.max_audio_frames"
            )

    def encode_audio(
        self,
        input_features: torch.Tensor,
        feature_attention_mask: torch.Tensor | None = None,
        output_hidden_states: bool = False,
    ) -> tuple[ModelOutput, torch.LongTensor]:
        """
        Run the frozen audio encoder (no gradients).

        Args:
            input_features: `(batch, samples)` waveform or `(batch, mel_bins, frames)` log-mel features.
            feature_attention_mask: `(batch, samples)` or `(batch, frames)`, 1 on real audio. `None`: all real.
            output_hidden_states: also return every layer's output (for the weighted sum of Eq. 1).

        Returns:
            The encoder's output (`last_hidden_state` `(batch, frames, hidden)`, `hidden_states` if asked) and the
            number of frames of real audio of each item `(batch,)`; Whisper's frames past it encode its padding.
        """
        if feature_attention_mask is None:
            feature_attention_mask = torch.ones(
                input_features.shape[0], input_features.shape[-1], dtype=torch.long, device=input_features.device
            )
        frame_lengths = self._encoder_frame_lengths(feature_attention_mask)
        self._check_audio_frames(frame_lengths)
        encoder_kwargs = {self.audio_encoder.main_input_name: input_features.to(self.audio_encoder.dtype)}
        if getattr(self.config.audio_config, "feat_extract_norm", "layer") == "layer":
            # Group-norm wav2vec2 models were trained without attention masks (transformers' guidance).
            encoder_kwargs["attention_mask"] = feature_attention_mask
        with torch.no_grad():
            encoded = self.audio_encoder(**encoder_kwargs, output_hidden_states=output_hidden_states, return_dict=True)
        return encoded, frame_lengths

    @property
    def num_audio_layer_states(self) -> int:
        """How many encoder outputs the layer weighting reads: every transformer layer's, or only the last."""
        return self.config.num_audio_layers if self.layer_weighting is not None else 1

    def audio_encoder_layers(
        self, input_features: torch.Tensor, feature_attention_mask: torch.Tensor | None = None
    ) -> tuple[tuple[torch.Tensor, ...], torch.LongTensor]:
        """
        The frozen encoder's outputs that the layer weighting reads: every transformer layer's output with
        `layer_weighting="all"`, the last one otherwise; inputs as for `encode_audio`.

        Returns one `(batch, frames, hidden)` tensor per layer, cut at the longest clip's real frames (Whisper pads
        to a fixed window), and the real frames of each item `(batch,)`.
        """
        encoded, frame_lengths = self.encode_audio(
            input_features, feature_attention_mask, output_hidden_states=self.layer_weighting is not None
        )
        layers = encoded.hidden_states[1:] if self.layer_weighting is not None else (encoded.last_hidden_state,)
        frames = int(frame_lengths.max())
        return tuple(layer[:, :frames] for layer in layers), frame_lengths

    def get_audio_features(
        self,
        input_features: torch.Tensor | None = None,
        feature_attention_mask: torch.Tensor | None = None,
        audio_layer_states: torch.Tensor | None = None,
        audio_frame_lengths: torch.LongTensor | None = None,
    ) -> SpeechVerseAudioFeatures:
        """
        Encoder -> layer weighting (Eq. 1) -> downsampler; inputs as for `encode_audio`, or instead the encoder's
        outputs computed beforehand (the frozen encoder gives the same ones every epoch):

        Args:
            audio_layer_states (`torch.FloatTensor` of shape `(batch, frames, layers, hidden)`, *optional*):
                `audio_encoder_layers` stacked on dim 2; frames past `audio_frame_lengths` are padding.
            audio_frame_lengths (`torch.LongTensor` of shape `(batch,)`, *optional*): real frames of each item.
        """
        if audio_layer_states is not None:
            if audio_frame_lengths is None:
                raise ValueError("audio_layer_states need audio_frame_lengths, the real frames of each item")
            expected = self.num_audio_layer_states
            if audio_layer_states.dim() != 4 or audio_layer_states.shape[2] != expected:
                raise ValueError(
                    f"audio_layer_states must be (batch, frames, {expected} layers, hidden), got "
                    f"{tuple(audio_layer_states.shape)}"
                )
            self._check_audio_frames(audio_frame_lengths)
            layers, frame_lengths = audio_layer_states.unbind(dim=2), audio_frame_lengths
        else:
            layers, frame_lengths = self.audio_encoder_layers(input_features, feature_attention_mask)
        features = self.layer_weighting(layers) if self.layer_weighting is not None else layers[0]
        features = features.to(self.downsampler.convs[0].weight.dtype)
        embeds, lengths = self.downsampler(features, frame_lengths)
        return SpeechVerseAudioFeatures(embeds=embeds.to(self.language_model.dtype), lengths=lengths)

    def prepare_inputs_embeds(
        self,
        input_features: torch.Tensor | None = None,
        feature_attention_mask: torch.Tensor | None = None,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        audio_layer_states: torch.Tensor | None = None,
        audio_frame_lengths: torch.LongTensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """
        Eq. 2: each item's audio frames, then its instruction tokens (then, for causal LMs with `labels`, the
        answer tokens), packed without gaps so a padded batch computes what each item computes alone.

        Returns the LLM's keyword inputs: `inputs_embeds` `(batch, length, hidden)`, `attention_mask`, and for
        causal LMs `position_ids` (and `labels` aligned with `inputs_embeds`); encoder-decoder `labels` pass through.
        """
        if input_features is not None and audio_layer_states is not None:
            raise ValueError("Give audio as `input_features` or as `audio_layer_states`, not both")
        has_audio = input_features is not None or audio_layer_states is not None
        if not has_audio and input_ids is None:
            raise ValueError("Give audio (`input_features`), an instruction (`input_ids`), or both")
        causal = not self.config.is_encoder_decoder_llm
        embed_tokens = self.get_input_embeddings()
        segments = []
        if has_audio:
            audio = self.get_audio_features(
                input_features, feature_attention_mask, audio_layer_states, audio_frame_lengths
            )
            frames = torch.arange(audio.embeds.shape[1], device=audio.embeds.device)
            segments.append((audio.embeds, frames[None, :] < audio.lengths[:, None]))
        if input_ids is not None:
            if has_audio and input_ids.shape[0] != audio.embeds.shape[0]:
                raise ValueError(
                    f"Got {audio.embeds.shape[0]} audio clips but {input_ids.shape[0]} instructions; give one "
                    "instruction per clip"
                )
            text_valid = attention_mask.bool() if attention_mask is not None else torch.ones_like(input_ids).bool()
            segments.append((embed_tokens(input_ids), text_valid))
        if labels is not None and labels.shape[-1] > self.config.max_label_tokens:
            raise ValueError(
                f"Labels of {labels.shape[-1]} tokens exceed the limit of {self.config.max_label_tokens} tokens"
            )
        if causal and labels is not None:
            label_valid = labels != -100
            segments.append((embed_tokens(labels.masked_fill(~label_valid, 0)), label_valid))
        inputs_embeds, packed_mask, positions = pack_segments(segments, left_pad=causal)
        inputs = {"inputs_embeds": inputs_embeds, "attention_mask": packed_mask}
        if causal:
            inputs["position_ids"] = (packed_mask.cumsum(dim=1) - 1).clamp(min=0)
            if labels is not None:
                packed_labels = torch.full_like(packed_mask, -100)
                rows, cols = label_valid.nonzero(as_tuple=True)
                inputs["labels"] = packed_labels.index_put((rows, positions[-1][rows, cols]), labels[rows, cols])
        elif labels is not None:
            inputs["labels"] = labels
        return inputs

    def forward(
        self,
        input_features: torch.Tensor | None = None,
        feature_attention_mask: torch.Tensor | None = None,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        audio_layer_states: torch.Tensor | None = None,
        audio_frame_lengths: torch.LongTensor | None = None,
        **kwargs,
    ) -> ModelOutput:
        """
        Args:
            audio_layer_states, audio_frame_lengths: the encoder's outputs computed beforehand, instead of
                `input_features` (see `get_audio_features`).
            labels (`torch.LongTensor` of shape `(batch, target_tokens)`, *optional*):
                Target token ids, -100 on padding. For causal LMs they are appended after the instruction and the loss
                covers only them.

        Returns the LLM's output (`Seq2SeqLMOutput` or `CausalLMOutputWithPast`) with `loss` when `labels` are given.
        For causal LMs `logits` cover the packed sequence (audio, instruction, answer).
        """
        inputs = self.prepare_inputs_embeds(
            input_features,
            feature_attention_mask,
            input_ids,
            attention_mask,
            labels,
            audio_layer_states=audio_layer_states,
            audio_frame_lengths=audio_frame_lengths,
        )
        return self.language_model(**inputs, **kwargs)

    @torch.no_grad()
    def generate(
        self,
        input_features: torch.Tensor | None = None,
        feature_attention_mask: torch.Tensor | None = None,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        **generate_kwargs,
    ) -> torch.LongTensor:
        """
        Generate text for audio and an instruction with the LLM's `generate()`: greedy, beam search, sampling,
        `num_return_sequences`, streamers and `logits_processor` (e.g. constrained decoding) all pass through.

        Returns `(batch * num_return_sequences, tokens)` generated ids (for T5 they start with the decoder start
        token; `processor.batch_decode(..., skip_special_tokens=True)` drops it).
        """
        inputs = self.prepare_inputs_embeds(input_features, feature_attention_mask, input_ids, attention_mask)
        # Generation derives positions from the attention mask itself.
        inputs.pop("position_ids", None)
        return self.language_model.generate(**inputs, **generate_kwargs)

    # ----------------------------------------------------------------------------------------------- saving

    def save_pretrained(self, save_directory, *args, save_full: bool = False, state_dict=None, **kwargs):
        """
        Save the config and, by default, only the trainable weights (layer weights, downsampler, LoRA): the frozen
        backbones are referenced by `config.audio_backbone_id` / `config.text_backbone_id`. `save_full=True` saves
        every weight, for use where the backbones cannot be fetched.
        """
        if not save_full and (self.config.audio_backbone_id is None or self.config.text_backbone_id is None):
            logger.warning(
                "config.audio_backbone_id / text_backbone_id are not set, so the frozen backbones could not be found "
                "again from an adapter-only checkpoint: saving every weight instead (save_full=True)."
            )
            save_full = True
        self.config.checkpoint_contents = "full" if save_full else "adapters"
        if state_dict is None and not save_full:
            state_dict = self.adapter_state_dict()
        super().save_pretrained(save_directory, *args, state_dict=state_dict, **kwargs)

    @classmethod
    def from_backbones(
        cls,
        audio_backbone: str | None = None,
        text_backbone: str | None = None,
        config: SpeechVerseConfig | None = None,
        dtype: torch.dtype | str | None = None,
        **config_kwargs,
    ) -> "SpeechVerseForConditionalGeneration":
        """
        A fresh SpeechVerse model around pretrained backbones: frozen encoder and LLM loaded from their Hub ids or
        local paths, new layer weights, downsampler and LoRA adapters.
        """
        if config is None:
            if audio_backbone is None or text_backbone is None:
                raise ValueError("Give a config or both audio_backbone and text_backbone")
            config = SpeechVerseConfig.from_backbones(audio_backbone, text_backbone, **config_kwargs)
        if config.audio_backbone_id is None or config.text_backbone_id is None:
            raise ValueError("config.audio_backbone_id and config.text_backbone_id must name the pretrained backbones")
        load_kwargs = {"dtype": dtype} if dtype is not None else {}
        audio_encoder = load_audio_encoder(config.audio_backbone_id, config.audio_config, **load_kwargs)
        _check_backbone_matches(config.audio_config, audio_encoder.config, "audio", config.audio_backbone_id)
        language_model = language_model_class(config.text_config).from_pretrained(
            resolve_backbone_id(config.text_backbone_id), **load_kwargs
        )
        _check_backbone_matches(config.text_config, language_model.config, "text", config.text_backbone_id)
        return cls(config, audio_encoder=audio_encoder, language_model=language_model)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *model_args, config=None, **kwargs):
        """
        Load a saved SpeechVerse model. Adapter-only checkpoints (the default of `save_pretrained`) load the frozen
        backbones from the ids in their config, then the trainable weights from the checkpoint.
        """
        hub_kwargs = {
            k: kwargs[k]
            for k in ("cache_dir", "force_download", "local_files_only", "token", "revision", "subfolder")
            if k in kwargs
        }
        if not isinstance(config, SpeechVerseConfig):
            config = cls.config_class.from_pretrained(pretrained_model_name_or_path, **hub_kwargs)
        if config.checkpoint_contents == "full":
            return super().from_pretrained(pretrained_model_name_or_path, *model_args, config=config, **kwargs)
        from safetensors.torch import load_file

        # A relative text backbone (`../mini-t5`) lives next to the checkpoint; the config keeps the portable id.
        portable_text_id = config.text_backbone_id
        if os.path.isdir(pretrained_model_name_or_path) and portable_text_id is not None:
            config.text_backbone_id = resolve_backbone_id(portable_text_id, pretrained_model_name_or_path)
        model = cls.from_backbones(config=config, dtype=kwargs.get("dtype"))
        model.config.text_backbone_id = portable_text_id
        weights_file = cached_file(pretrained_model_name_or_path, ADAPTER_WEIGHTS_NAME, **hub_kwargs)
        model.load_adapter_weights(load_file(weights_file))
        model.eval()
        return model

    def load_adapter_weights(self, state_dict: dict[str, torch.Tensor]) -> None:
        """Load trainable weights saved by `save_pretrained`, with a clear error when they don't fit this model."""
        expected = self.adapter_state_dict()
        missing = sorted(set(expected) - set(state_dict))
        unexpected = sorted(set(state_dict) - set(expected))
        mismatched = [k for k in expected.keys() & state_dict.keys() if expected[k].shape != state_dict[k].shape]
        if missing or unexpected or mismatched:
            raise ValueError(
                "The checkpoint's adapter weights do not fit this model's config: "
                f"missing {missing[:5]}, unexpected {unexpected[:5]}, shape mismatch {mismatched[:5]}"
            )
        self.load_state_dict(state_dict, strict=False)


__all__ = [
    "SpeechVerseForConditionalGeneration",
    "SpeechVersePreTrainedModel",
    "SpeechVerseDownsampler",
    "SpeechVerseLayerWeighting",
]
