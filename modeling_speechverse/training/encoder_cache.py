"""
The frozen audio encoder's outputs, computed once per corpus split and kept in the `datasets` cache.

The encoder is frozen and runs in eval mode, so every epoch and every curriculum stage would recompute the same
layer outputs; on small backbones the encoder is most of a training step. With `data.cache_encoder_states` the
trainer runs it once over each split, stores the outputs the layer weighting reads (float16, to halve the disk
they take) and trains the downsampler and LoRA on those. Up to that rounding the losses are the ones the encoder
would give.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import datasets
import numpy as np
import torch

from ..data.pipeline import decode_audio
from ..modeling_speechverse import SpeechVerseForConditionalGeneration
from ..processing_speechverse import SpeechVerseProcessor

STATES_COLUMN = "encoder_states"
STATES_DTYPE = "float16"


def _fingerprint(split: datasets.Dataset, model: SpeechVerseForConditionalGeneration, processor) -> str:
    """Changes with the split's content, the encoder's architecture and weights' source, and the feature setup."""
    config = model.config
    key = "\n".join(
        [
            split._fingerprint,
            config.audio_backbone_id or "",
            config.audio_config.to_json_string(),
            str(config.layer_weighting),
            processor.feature_extractor.to_json_string(),
            STATES_DTYPE,
        ]
    )
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class EncoderStateCache:
    """
    The encoder's layer outputs of each clip of a corpus split, looked up by example `id`.

    Args:
        states: a dataset with columns `id` and `encoder_states` (`(frames, layers, hidden)` per clip).
    """

    def __init__(self, states: datasets.Dataset):
        ids = list(states["id"])
        if len(set(ids)) != len(ids):
            raise ValueError("the corpus has repeated example ids; the encoder-state cache needs unique ids")
        self.row_of = {example_id: row for row, example_id in enumerate(ids)}
        self.states = states.with_format("numpy", columns=[STATES_COLUMN])

    @classmethod
    def build(
        cls,
        splits: Iterable[datasets.Dataset],
        model: SpeechVerseForConditionalGeneration,
        processor: SpeechVerseProcessor,
        batch_size: int = 16,
    ) -> EncoderStateCache:
        """
        Run `model`'s frozen encoder (on the device it is on) over every clip of `splits` (corpus splits with
        encoded `audio` and unique `id`s), reusing the result of an earlier run with the same split, encoder and
        feature extractor. Clips that cannot be decoded get no states; the collator skips them as it would
        without the cache.
        """
        features = datasets.Features(
            {
                "id": datasets.Value("string"),
                STATES_COLUMN: datasets.Array3D(
                    shape=(None, model.num_audio_layer_states, model.config.audio_config.hidden_size),
                    dtype=STATES_DTYPE,
                ),
            }
        )
        device = next(model.audio_encoder.parameters()).device

        def encode(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
            kept, clips = [], []
            for example_id, audio in zip(batch["id"], batch["audio"]):
                try:
                    clips.append(processor.load_audio(*decode_audio(audio)))
                    kept.append(example_id)
                except ValueError:
                    continue
            if not clips:
                return {"id": [], STATES_COLUMN: []}
            inputs = processor(audio=clips, sampling_rate=processor.sampling_rate)
            with torch.no_grad():
                layers, lengths = model.audio_encoder_layers(
                    inputs["input_features"].to(device), inputs["feature_attention_mask"].to(device)
                )
            stacked = torch.stack(layers, dim=2).to("cpu", torch.float16).numpy()
            return {"id": kept, STATES_COLUMN: [stacked[i, :length] for i, length in enumerate(lengths.tolist())]}

        was_training = model.training
        model.eval()
        try:
            states = [
                split.map(
                    encode,
                    batched=True,
                    batch_size=batch_size,
                    remove_columns=split.column_names,
                    features=features,
                    new_fingerprint=_fingerprint(split, model, processor),
                    desc="Caching the audio encoder's outputs",
                )
                for split in splits
            ]
        finally:
            model.train(was_training)
        return cls(datasets.concatenate_datasets(states))

    def __contains__(self, example_id: str) -> bool:
        return example_id in self.row_of

    def lookup(self, example_ids: Sequence[str]) -> tuple[torch.Tensor, torch.LongTensor]:
        """
        The states of `example_ids`, padded: `(batch, frames, layers, hidden)` float32 and the real frames of each
        item `(batch,)`, the `audio_layer_states` and `audio_frame_lengths` of the model's forward.
        """
        rows = self.states[[self.row_of[example_id] for example_id in example_ids]][STATES_COLUMN]
        lengths = torch.tensor([len(item) for item in rows], dtype=torch.long)
        padded = np.zeros((len(rows), int(lengths.max()), *rows[0].shape[1:]), dtype=np.float32)
        for i, item in enumerate(rows):
            padded[i, : len(item)] = item
        return torch.from_numpy(padded), lengths
