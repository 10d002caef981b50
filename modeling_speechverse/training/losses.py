"""Per-example token losses, for per-task training and validation losses."""

from __future__ import annotations

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100


def right_align_labels(labels: torch.LongTensor) -> torch.LongTensor:
    """Move each row's valid tokens (a prefix, -100 after) to the end of the row: `(batch, width)` -> same shape."""
    width = labels.shape[1]
    shift = width - (labels != IGNORE_INDEX).sum(dim=1)
    source = torch.arange(width, device=labels.device)[None, :] - shift[:, None]
    aligned = labels.gather(1, source.clamp(min=0))
    return aligned.masked_fill(source < 0, IGNORE_INDEX)


def per_example_loss(
    logits: torch.Tensor, labels: torch.LongTensor, encoder_decoder: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """
    Summed cross-entropy of each example's target tokens and their number; `sums.sum() / counts.sum()` is the
    model's own (token-averaged) loss.

    Args:
        logits: `(batch, positions, vocab)`. For encoder-decoder LLMs one position per target token; for causal LLMs
            the packed sequence (left padding, audio, instruction, answer), so the answer's logits end the row.
        labels: `(batch, target_tokens)` target ids, -100 on padding after each target.
        encoder_decoder: which of the two layouts `logits` has.

    Returns:
        `(sums, counts)`, float32 and int64 tensors of shape `(batch,)`.
    """
    if not encoder_decoder:
        # The logit at packed position p predicts the token at p + 1, and the answer ends every row.
        width = labels.shape[1]
        labels = right_align_labels(labels)
        logits = logits[:, -width - 1 : -1]
    token_losses = F.cross_entropy(logits.float().transpose(1, 2), labels, ignore_index=IGNORE_INDEX, reduction="none")
    valid = labels != IGNORE_INDEX
    return (token_losses * valid).sum(dim=1), valid.sum(dim=1)
