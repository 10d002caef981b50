"""SpeechVerse processor: the audio encoder's feature extractor and the LLM's tokenizer in one object."""

from __future__ import annotations

import os
from typing import Any, Union

import numpy as np
from transformers import AutoFeatureExtractor, AutoTokenizer, BatchFeature
from transformers.processing_utils import ProcessorMixin

AudioLike = Union[str, os.PathLike, np.ndarray, "torch.Tensor"]  # noqa: F821
# Peak amplitude at or below which a clip counts as digital silence.
SILENCE_PEAK = 1e-6
# A 2-D array whose smaller side is at most this is read as (channels, samples) or (samples, channels).
MAX_CHANNELS = 8


def _as_list(value):
    return value if isinstance(value, (list, tuple)) else [value]


class SpeechVerseProcessor(ProcessorMixin):
    r"""
    Turns audio and instructions into SpeechVerse model inputs.

    Audio may be file paths, numpy arrays or torch tensors, mono or multi-channel (down-mixed), at any sampling
    rate (resampled to the feature extractor's). Returns `input_features` (waveform `(batch, samples)` or log-mel
    `(batch, mel_bins, frames)`) with `feature_attention_mask`, the tokenized instructions `input_ids` /
    `attention_mask`, and `labels` (-100 on padding) when `text_target` is given.

    Args:
        feature_extractor: the audio encoder's feature extractor (e.g. `Wav2Vec2FeatureExtractor`,
            `WhisperFeatureExtractor`).
        tokenizer: the LLM's tokenizer (e.g. T5).
        max_audio_seconds (`float`, *optional*): longest clip accepted; longer clips raise a `ValueError`.
    """

    feature_extractor_class = "AutoFeatureExtractor"
    tokenizer_class = "AutoTokenizer"

    def __init__(self, feature_extractor=None, tokenizer=None, max_audio_seconds: float | None = None):
        if tokenizer is not None and tokenizer.pad_token is None:
            # Causal-LM tokenizers often ship without a pad token; batching needs one.
            tokenizer.pad_token = tokenizer.eos_token
        self.max_audio_seconds = max_audio_seconds
        super().__init__(feature_extractor, tokenizer)

    @classmethod
    def from_backbones(
        cls, audio_backbone: str, text_backbone: str, max_audio_seconds: float | None = None, **kwargs: Any
    ) -> "SpeechVerseProcessor":
        """Feature extractor of the audio backbone and tokenizer of the LLM, from Hub ids or local paths."""
        feature_extractor = AutoFeatureExtractor.from_pretrained(audio_backbone, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(text_backbone, **kwargs)
        return cls(feature_extractor, tokenizer, max_audio_seconds=max_audio_seconds)

    @property
    def sampling_rate(self) -> int:
        return self.feature_extractor.sampling_rate

    # ------------------------------------------------------------------------------------------------- audio

    def load_audio(self, audio: AudioLike, sampling_rate: int | None = None) -> np.ndarray:
        """
        One clip as a mono float32 array at the feature extractor's sampling rate, after checking that it is
        usable (not empty, silent, non-finite, or too long).
        """
        import soxr

        if isinstance(audio, (str, os.PathLike)):
            waveform, sampling_rate = self._read_file(audio)
        else:
            if sampling_rate is None:
                raise ValueError("Pass `sampling_rate` with audio given as arrays (file paths carry their own)")
            waveform = audio.detach().cpu().numpy() if hasattr(audio, "detach") else np.asarray(audio)
            waveform = self._downmix(waveform)
        if not isinstance(sampling_rate, (int, np.integer)) or sampling_rate <= 0:
            raise ValueError(f"sampling_rate must be a positive integer, got {sampling_rate!r}")
        if waveform.size == 0:
            raise ValueError("Got an empty audio clip (0 samples)")
        if not np.all(np.isfinite(waveform)):
            raise ValueError("Audio contains NaN or infinite samples")
        if float(np.max(np.abs(waveform))) <= SILENCE_PEAK:
            raise ValueError("Audio is silent (all samples are zero); nothing to transcribe or classify")
        duration = waveform.shape[0] / sampling_rate
        if self.max_audio_seconds is not None and duration > self.max_audio_seconds:
            raise ValueError(
                f"Audio of {duration:.1f} s exceeds the model's limit of {self.max_audio_seconds:.1f} s; split it"
            )
        waveform = waveform.astype(np.float32)
        if sampling_rate != self.sampling_rate:
            waveform = soxr.resample(waveform, sampling_rate, self.sampling_rate).astype(np.float32)
        return waveform

    @staticmethod
    def _read_file(path: str | os.PathLike) -> tuple[np.ndarray, int]:
        import soundfile

        try:
            waveform, sampling_rate = soundfile.read(os.fspath(path), dtype="float32", always_2d=True)
        except Exception as error:  # soundfile raises several types for unreadable files
            raise ValueError(f"Could not read audio file {os.fspath(path)!r}: {error}") from None
        return waveform.mean(axis=1), int(sampling_rate)

    @staticmethod
    def _downmix(waveform: np.ndarray) -> np.ndarray:
        if waveform.ndim == 1:
            return waveform
        if waveform.ndim == 2 and min(waveform.shape) <= MAX_CHANNELS:
            channel_axis = 0 if waveform.shape[0] <= waveform.shape[1] else 1
            return waveform.mean(axis=channel_axis)
        raise ValueError(f"Audio must be 1-D (samples) or 2-D (channels, samples), got shape {waveform.shape}")

    def _extract_features(self, waveforms: list[np.ndarray]) -> dict[str, Any]:
        # Whisper-style extractors work on a fixed window; wav2vec2-style ones pad to the longest clip.
        fixed_window = getattr(self.feature_extractor, "n_samples", None) is not None
        features = self.feature_extractor(
            waveforms,
            sampling_rate=self.sampling_rate,
            padding="max_length" if fixed_window else "longest",
            return_attention_mask=True,
            return_tensors="pt",
        )
        values = features[self.feature_extractor.model_input_names[0]]
        return {"input_features": values, "feature_attention_mask": features["attention_mask"]}

    # ------------------------------------------------------------------------------------------------- text

    def _tokenize_targets(self, targets: list[str]) -> "torch.Tensor":  # noqa: F821
        import torch

        eos = self.tokenizer.eos_token_id
        rows = []
        for ids in self.tokenizer(targets, add_special_tokens=True)["input_ids"]:
            # Causal-LM tokenizers do not end a sequence with EOS; the model must learn to stop.
            rows.append(ids if ids and ids[-1] == eos else ids + [eos])
        width = max(len(ids) for ids in rows)
        labels = torch.full((len(rows), width), -100, dtype=torch.long)
        for i, ids in enumerate(rows):
            labels[i, : len(ids)] = torch.tensor(ids)
        return labels

    def __call__(
        self,
        text: str | list[str] | None = None,
        audio: AudioLike | list[AudioLike] | None = None,
        sampling_rate: int | None = None,
        text_target: str | list[str] | None = None,
        **kwargs: Any,
    ) -> BatchFeature:
        """
        Args:
            text: the instruction(s), one per clip.
            audio: one clip or a list of clips (paths, arrays or tensors).
            sampling_rate: sampling rate of audio given as arrays.
            text_target: target text(s) for training; returned as `labels`.
        """
        if text is None and audio is None:
            raise ValueError("Give audio, text (the instruction), or both")
        data: dict[str, Any] = {}
        if audio is not None:
            clips = audio if isinstance(audio, (list, tuple)) else [audio]
            if not clips:
                raise ValueError("Got an empty list of audio clips")
            data.update(self._extract_features([self.load_audio(clip, sampling_rate) for clip in clips]))
        if text is not None:
            texts = _as_list(text)
            if audio is not None and len(texts) != len(data["input_features"]):
                raise ValueError(
                    f"Got {len(data['input_features'])} audio clips but {len(texts)} instructions; give one "
                    "instruction per clip"
                )
            tokens = self.tokenizer(list(texts), padding=True, return_tensors="pt")
            data.update(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"])
        if text_target is not None:
            targets = _as_list(text_target)
            batch = len(data.get("input_ids", data.get("input_features")))
            if len(targets) != batch:
                raise ValueError(f"Got {len(targets)} targets for a batch of {batch}")
            data["labels"] = self._tokenize_targets(list(targets))
        return BatchFeature(data=data)

    def batch_decode(self, *args: Any, **kwargs: Any) -> list[str]:
        """The tokenizer's `batch_decode`."""
        return self.tokenizer.batch_decode(*args, **kwargs)

    def decode(self, *args: Any, **kwargs: Any) -> str:
        """The tokenizer's `decode`."""
        return self.tokenizer.decode(*args, **kwargs)

    @property
    def model_input_names(self) -> list[str]:
        return ["input_features", "feature_attention_mask", "input_ids", "attention_mask"]


__all__ = ["SpeechVerseProcessor"]
