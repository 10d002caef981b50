"""The SpeechVerse model: Eq. 1 and Eq. 2, frozen backbones, batching, generation, saving and loading."""

from __future__ import annotations

import pytest
import torch
from conftest import AUDIO_FAMILIES, TEXT_FAMILIES, make_tiny, tone

from modeling_speechverse import SpeechVerseConfig, SpeechVerseForConditionalGeneration
from modeling_speechverse.modeling_speechverse import SpeechVerseDownsampler, pack_segments

CLIPS = [tone(1.0, 440.0), tone(0.55, 660.0)]
INSTRUCTIONS = ["Transcribe the audio", "Is the word 'radio' used in the audio?"]
TARGETS = ["turn on the radio now", "yes"]


def batch(processor, clips=CLIPS, instructions=INSTRUCTIONS, targets=None):
    return processor(audio=list(clips), sampling_rate=16000, text=list(instructions), text_target=targets)


@pytest.mark.parametrize("audio", AUDIO_FAMILIES)
@pytest.mark.parametrize("text", TEXT_FAMILIES + ("gpt2",))
def test_forward_with_labels_trains_only_adapters(audio, text):
    model, processor = make_tiny(audio, text)
    model.train()
    loss = model(**batch(processor, targets=TARGETS)).loss
    assert torch.isfinite(loss)
    loss.backward()
    with_grad = {name for name, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert with_grad and with_grad <= trainable
    assert all(model.is_adapter_parameter(name) for name in trainable)
    assert any(name.startswith("downsampler.") for name in with_grad)
    assert any("lora_" in name for name in with_grad)
    assert not model.audio_encoder.training  # the frozen encoder stays in eval mode under model.train()


def test_layer_weighting_all_and_last():
    model, processor = make_tiny(layer_weighting="all")
    assert model.layer_weighting.layer_logits.shape == (model.config.num_audio_layers,)
    model.train()
    model(**batch(processor, targets=TARGETS)).loss.backward()
    assert model.layer_weighting.layer_logits.grad.abs().sum() > 0
    last, _ = make_tiny(layer_weighting="last")
    assert last.layer_weighting is None
    assert not any("layer_weighting" in name for name, _ in last.named_parameters())


def test_layer_weighting_is_softmax_weighted_sum():
    model, _ = make_tiny(layer_weighting="all")
    weighting = model.layer_weighting
    with torch.no_grad():
        weighting.layer_logits.copy_(torch.tensor([0.0, 2.0]))
    hidden = (torch.ones(1, 3, 4), 3 * torch.ones(1, 3, 4))
    weights = torch.softmax(torch.tensor([0.0, 2.0]), 0)
    assert torch.allclose(weighting(hidden), (weights[0] * 1 + weights[1] * 3) * torch.ones(1, 3, 4))


def test_downsampler_reaches_paper_rate_and_masks_padding():
    downsampler = SpeechVerseDownsampler(8, 16, [3, 3], [2, 2])
    lengths = torch.tensor([50, 23])
    assert downsampler.output_lengths(lengths).tolist() == [13, 6]  # 50 Hz -> 12.5 Hz
    features = torch.randn(2, 50, 8)
    out, out_lengths = downsampler(features, lengths)
    alone, _ = downsampler(features[1:, :23], lengths[1:])
    assert out_lengths.tolist() == [13, 6]
    assert torch.allclose(out[1, :6], alone[0], atol=1e-6)
    assert isinstance(downsampler.norms[0], torch.nn.LayerNorm)


def test_pack_segments_places_audio_before_text_without_gaps():
    audio = torch.tensor([[[1.0], [2.0], [0.0]], [[3.0], [0.0], [0.0]]])
    audio_valid = torch.tensor([[True, True, False], [True, False, False]])
    text = torch.tensor([[[7.0], [0.0]], [[8.0], [9.0]]])
    text_valid = torch.tensor([[True, False], [True, True]])
    packed, mask, _ = pack_segments([(audio, audio_valid), (text, text_valid)], left_pad=False)
    assert packed.squeeze(-1).tolist() == [[1, 2, 7], [3, 8, 9]]
    assert mask.tolist() == [[1, 1, 1], [1, 1, 1]]
    packed, mask, _ = pack_segments([(audio, audio_valid), (text[:1], text_valid[:1].clone())][:1], left_pad=True)
    assert packed.squeeze(-1).tolist() == [[1, 2], [0, 3]]
    assert mask.tolist() == [[1, 1], [0, 1]]


@pytest.mark.parametrize("audio", AUDIO_FAMILIES)
@pytest.mark.parametrize("text", TEXT_FAMILIES)
def test_padded_batch_matches_single_items(audio, text):
    model, processor = make_tiny(audio, text)
    inputs = batch(processor, targets=TARGETS)
    with torch.no_grad():
        batched = model(**inputs)
        for i in range(2):
            single = model(**batch(processor, CLIPS[i : i + 1], INSTRUCTIONS[i : i + 1], TARGETS[i : i + 1]))
            if model.config.is_encoder_decoder_llm:
                n = single.logits.shape[1]
                assert torch.allclose(batched.logits[i, :n], single.logits[0], atol=1e-4)
            else:  # causal logits cover the left-padded packed sequence: compare the aligned right ends
                n = single.logits.shape[1]
                assert torch.allclose(batched.logits[i, -n:], single.logits[0], atol=1e-4)


@pytest.mark.parametrize("text", TEXT_FAMILIES)
def test_batched_generate_matches_single_generate(text):
    model, processor = make_tiny("wavlm", text)
    inputs = batch(processor)
    together = processor.batch_decode(model.generate(**inputs, max_new_tokens=6), skip_special_tokens=True)
    alone = [
        processor.batch_decode(
            model.generate(**batch(processor, CLIPS[i : i + 1], INSTRUCTIONS[i : i + 1]), max_new_tokens=6),
            skip_special_tokens=True,
        )[0]
        for i in range(2)
    ]
    assert together == alone


@pytest.mark.parametrize("text", TEXT_FAMILIES)
def test_generate_modes(text):
    model, processor = make_tiny("wavlm", text)
    inputs = batch(processor)
    greedy = model.generate(**inputs, max_new_tokens=5)
    beams = model.generate(**inputs, max_new_tokens=5, num_beams=3, num_return_sequences=2)
    torch.manual_seed(0)
    sampled = model.generate(**inputs, max_new_tokens=5, do_sample=True, top_k=20)
    assert greedy.shape[0] == 2 and beams.shape[0] == 4 and sampled.shape[0] == 2


def test_generate_streams_text():
    from threading import Thread

    from transformers import TextIteratorStreamer

    model, processor = make_tiny()
    inputs = batch(processor, CLIPS[:1], INSTRUCTIONS[:1])
    expected = processor.batch_decode(model.generate(**inputs, max_new_tokens=6), skip_special_tokens=True)[0]
    streamer = TextIteratorStreamer(processor.tokenizer, skip_special_tokens=True)
    thread = Thread(target=model.generate, kwargs=dict(**inputs, max_new_tokens=6, streamer=streamer))
    thread.start()
    streamed = "".join(streamer)
    thread.join()
    assert streamed.strip() == expected.strip()


@pytest.mark.parametrize("text", TEXT_FAMILIES)
def test_text_only_calls(text):
    model, processor = make_tiny("wavlm", text)
    inputs = processor(text=["Translate to German: hello"], text_target=["hallo"])
    assert torch.isfinite(model(**inputs).loss)
    inputs.pop("labels")
    assert model.generate(**inputs, max_new_tokens=3).shape[0] == 1


def test_errors_are_clear():
    model, processor = make_tiny()
    inputs = batch(processor)
    with pytest.raises(ValueError, match="2 audio clips but 1 instructions"):
        model(input_features=inputs["input_features"], feature_attention_mask=inputs["feature_attention_mask"],
              input_ids=inputs["input_ids"][:1], attention_mask=inputs["attention_mask"][:1])
    with pytest.raises(ValueError, match="exceeds the limit"):
        long_audio = torch.randn(1, 16000 * 30)
        model(input_features=long_audio, input_ids=inputs["input_ids"][:1])
    with pytest.raises(ValueError, match="Labels of 700 tokens exceed"):
        model(**batch(processor), labels=torch.ones(2, 700, dtype=torch.long))
    with pytest.raises(ValueError, match="Give audio"):
        model()


def test_paper_scale_trainable_parameters_on_meta_device():
    expected = {"multitask-wlm": 28.3e6, "multitask-brq": 26.8e6}
    for preset, count in expected.items():
        config = SpeechVerseConfig.from_preset(preset, layer_weighting="all")
        with torch.device("meta"):
            model = SpeechVerseForConditionalGeneration(config)
        assert round(model.num_parameters(only_trainable=True) / 1e5) * 1e5 == count, preset
        assert model.config.audio_token_rate == 12.5


def test_config_rejects_bad_fields():
    with pytest.raises(ValueError, match="layer_weighting"):
        SpeechVerseConfig(layer_weighting="mean")
    with pytest.raises(ValueError, match="lora_rank must be an integer"):
        SpeechVerseConfig(lora_rank="16")
    with pytest.raises(ValueError, match="one entry per convolution block"):
        SpeechVerseConfig(downsampler_kernel_sizes=[3, 3], downsampler_strides=[2])
    with pytest.raises(ValueError, match="Unknown preset"):
        SpeechVerseConfig.from_preset("multitask-xyz")
