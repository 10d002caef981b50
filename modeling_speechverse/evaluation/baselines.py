"""The non-SpeechVerse baselines of the paper (Section 3.2, "Baselines").

- `ParalinguisticClassifier`: the task-specific classifier trained on frozen speech-encoder features for the
  paralinguistic tasks (ER, ASC, SC, AC, SNS; "WavLM Task-FT" row of Table 3).
- `substring_kws`: the keyword-search baseline that looks for the keyword in an ASR hypothesis (Table 2, KWS).
"""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .metrics.text_normalization import normalize_text


class ParalinguisticClassifier(nn.Module):
    """Feed-forward -> 2-layer GRU -> mean pooling over valid frames -> 2 feed-forward layers -> class logits.

    The input is the last-layer output of a frozen speech encoder (WavLM Large in the paper); only this head is
    trained. Padded frames never reach the GRU (the batch is packed by length) and are left out of the mean, so an
    utterance gets the same logits alone or padded in a batch.

    Args:
        input_size: Feature size D of the encoder output.
        num_classes: Number of classes C.
        hidden_size: Width H of the feed-forward layers and of the GRU.
        num_gru_layers: Number of stacked GRU layers (2 in the paper).
        dropout: Dropout after the input projection and between the GRU layers and the output layers.
    """

    def __init__(
        self, input_size: int, num_classes: int, hidden_size: int = 256, num_gru_layers: int = 2, dropout: float = 0.1
    ) -> None:
        super().__init__()
        if input_size < 1 or num_classes < 2 or hidden_size < 1 or num_gru_layers < 1:
            raise ValueError(
                "ParalinguisticClassifier needs input_size >= 1, num_classes >= 2, hidden_size >= 1 and "
                f"num_gru_layers >= 1; got {input_size}, {num_classes}, {hidden_size}, {num_gru_layers}."
            )
        self.input_projection = nn.Sequential(nn.Linear(input_size, hidden_size), nn.ReLU(), nn.Dropout(dropout))
        self.gru = nn.GRU(
            hidden_size,
            hidden_size,
            num_layers=num_gru_layers,
            batch_first=True,
            dropout=dropout if num_gru_layers > 1 else 0.0,
        )
        self.output_layers = nn.Sequential(
            nn.Linear(hidden_size, hidden_size), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden_size, num_classes)
        )

    def _lengths(self, features: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Valid-frame counts (B,) from a left-aligned (B, T) mask; validates shapes."""
        if features.dim() != 3 or features.shape[-1] != self.input_projection[0].in_features:
            raise ValueError(
                f"features must have shape (batch, frames, {self.input_projection[0].in_features}); "
                f"got {tuple(features.shape)}."
            )
        batch_size, num_frames, _ = features.shape
        if mask is None:
            return torch.full((batch_size,), num_frames, dtype=torch.long)
        if mask.shape != (batch_size, num_frames):
            raise ValueError(f"mask must have shape {(batch_size, num_frames)}, got {tuple(mask.shape)}.")
        mask = mask.bool()
        lengths = mask.sum(dim=1)
        if (lengths == 0).any():
            empty = torch.nonzero(lengths == 0).flatten().tolist()
            raise ValueError(f"every item needs at least one valid frame; items {empty} have none.")
        prefix = torch.arange(num_frames, device=mask.device)[None, :] < lengths[:, None]
        if not torch.equal(mask, prefix):
            raise ValueError("mask must mark a prefix of each row as valid (padding at the end only).")
        return lengths.cpu()

    def forward(self, features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Class logits.

        Args:
            features: Encoder features, shape (B, T, D).
            mask: (B, T), 1/True for valid frames, which must come first in each row; None means all valid.

        Returns:
            Logits of shape (B, C); apply `softmax` (or use `predict_proba`) for class probabilities.
        """
        lengths = self._lengths(features, mask)
        hidden = self.input_projection(features)  # (B, T, H)
        packed = pack_padded_sequence(hidden, lengths, batch_first=True, enforce_sorted=False)
        # Padded positions come back as zeros, so the sum over T counts valid frames only.
        outputs, _ = pad_packed_sequence(self.gru(packed)[0], batch_first=True, total_length=features.shape[1])
        pooled = outputs.sum(dim=1) / lengths.to(outputs.device, outputs.dtype)[:, None]  # (B, H)
        return self.output_layers(pooled)

    @torch.no_grad()
    def predict_proba(self, features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Class probabilities (B, C): the softmax of `forward`'s logits, without gradients."""
        return self(features, mask).softmax(dim=-1)


def substring_kws(transcript: str, keyword: str) -> str:
    """Keyword-search baseline: "yes" if `keyword` occurs in the ASR `transcript`, else "no".

    Both strings are normalised with `normalize_text` (case and punctuation do not matter) and the keyword must occur
    as whole words: "cat" is found in "the cat sat" but not in "concatenate". The KWS keywords are words picked from
    transcripts, so matching inside longer words would only add false alarms.

    Raises:
        ValueError: if the keyword is empty after normalisation.
    """
    normalized_keyword = normalize_text(keyword)
    if not normalized_keyword:
        raise ValueError(f"substring_kws needs a keyword with at least one word, got {keyword!r}.")
    return "yes" if f" {normalized_keyword} " in f" {normalize_text(transcript)} " else "no"
