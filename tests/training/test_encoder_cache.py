"""Training on the frozen encoder's cached outputs (`data.cache_encoder_states`) computes what the encoder would."""

from __future__ import annotations

import pytest
import torch
from conftest import make_tiny, tone
from tiny_training_corpus import write_tiny_corpus

from modeling_speechverse import SpeechVerseForConditionalGeneration
from modeling_speechverse.data.pipeline import SpeechVerseCollator, load_corpus, prepare_split
from modeling_speechverse.training.encoder_cache import EncoderStateCache

MODEL_INPUTS = ("tasks", "audio_seconds")


@pytest.mark.parametrize("audio,weighting", [("wavlm", "all"), ("whisper", "all"), ("hubert", "last")])
def test_precomputed_layer_states_give_the_encoders_loss(audio, weighting):
    model, processor = make_tiny(audio, layer_weighting=weighting)
    batch = processor(
        audio=[tone(0.5), tone(0.9, 300.0)],
        text=["transcribe", "what is said"],
        text_target=["turn on the radio", "hello"],
        sampling_rate=16000,
    )
    layers, lengths = model.audio_encoder_layers(batch["input_features"], batch["feature_attention_mask"])
    assert len(layers) == (2 if weighting == "all" else 1)
    text = {key: batch[key] for key in ("input_ids", "attention_mask", "labels")}
    expected = model(**batch).loss
    cached = model(**text, audio_layer_states=torch.stack(layers, dim=2), audio_frame_lengths=lengths).loss
    torch.testing.assert_close(cached, expected, rtol=0, atol=1e-6)


def test_precomputed_layer_states_are_checked():
    model, processor = make_tiny("wavlm")
    batch = processor(audio=[tone(0.5)], text=["transcribe"], sampling_rate=16000)
    layers, lengths = model.audio_encoder_layers(batch["input_features"], batch["feature_attention_mask"])
    text = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    with pytest.raises(ValueError, match="2 layers"):
        model.prepare_inputs_embeds(**text, audio_layer_states=layers[0][:, :, None], audio_frame_lengths=lengths)
    with pytest.raises(ValueError, match="audio_frame_lengths"):
        model.prepare_inputs_embeds(**text, audio_layer_states=torch.stack(layers, dim=2))
    with pytest.raises(ValueError, match="not both"):
        model.prepare_inputs_embeds(
            batch["input_features"], **text, audio_layer_states=torch.stack(layers, dim=2), audio_frame_lengths=lengths
        )


@pytest.fixture
def corpus(tmp_path):
    return load_corpus(str(write_tiny_corpus(tmp_path / "tones")))


def test_the_cache_is_built_once_and_batches_match_the_audio_ones(corpus, monkeypatch):
    model, processor = make_tiny("wavlm")
    encoded = []
    encoder_layers = SpeechVerseForConditionalGeneration.audio_encoder_layers

    def counting(self, *args, **kwargs):
        encoded.append(1)
        return encoder_layers(self, *args, **kwargs)

    monkeypatch.setattr(SpeechVerseForConditionalGeneration, "audio_encoder_layers", counting)
    cache = EncoderStateCache.build(corpus.values(), model, processor, batch_size=8)
    assert encoded and all(example_id in cache for split in corpus.values() for example_id in split["id"])
    calls = len(encoded)
    EncoderStateCache.build(corpus.values(), model, processor, batch_size=8)
    assert len(encoded) == calls  # the second build reads the datasets cache

    prepared, _ = prepare_split(corpus["train"], ["ASR", "SC", "SNS"])
    examples = [prepared[i] for i in range(6)]
    plain = SpeechVerseCollator(processor)(examples)
    cached = SpeechVerseCollator(processor, cache)(examples)
    assert cached["tasks"] == plain["tasks"] and "input_features" not in cached
    assert cached["audio_seconds"] == pytest.approx(plain["audio_seconds"], rel=1e-6)
    losses = [model(**{k: v for k, v in batch.items() if k not in MODEL_INPUTS}).loss for batch in (plain, cached)]
    torch.testing.assert_close(losses[1], losses[0], rtol=1e-3, atol=0)  # float16 storage


def test_examples_without_cached_states_are_skipped(corpus):
    model, processor = make_tiny("wavlm")
    cache = EncoderStateCache.build([corpus["validation"]], model, processor)
    prepared, _ = prepare_split(corpus["train"], ["ASR"])
    collator = SpeechVerseCollator(processor, cache)
    assert collator([prepared[0]]) is None
    assert list(collator.skipped) == ["unreadable audio (it has no cached encoder outputs)"]
