"""Tiny random backbones and a tiny T5 tokenizer, built in code with no download.

Used by the test suite, the CPU benchmarks and the README's offline walk-through, the way
transformers' own tests build their models from small configs.
"""

from __future__ import annotations

import string
from functools import lru_cache

from transformers import (
    GPT2Config,
    HubertConfig,
    LlamaConfig,
    PretrainedConfig,
    Qwen2Config,
    T5Config,
    T5Tokenizer,
    Wav2Vec2Config,
    Wav2Vec2FeatureExtractor,
    WavLMConfig,
    WhisperConfig,
    WhisperFeatureExtractor,
)

TINY_HIDDEN = 32

# A fixed corpus so the trained vocabulary is identical on every machine.
_TOKENIZER_CORPUS = [
    "transcribe the audio",
    "what is being said in the preceding audio",
    "translate the english audio to german",
    "is the word radio used in the audio",
    "turn on the radio now",
    "play some music please",
    "set an alarm for seven am tomorrow",
    "what is the weather like in berlin",
    "identify the intent of the speaker",
    "play_radio datetime_query calendar_set weather_query iot_hue_lightoff",
    "time = now; date = tomorrow; place_name = berlin",
    "yes no one two speech non-speech neutral happy sad angry positive negative",
    "american british indian australian canadian accent emotion sentiment",
    "ASR: paris is the capital of france   KWE: paris, france",
    "zero one two three four five six seven eight nine",
    string.ascii_lowercase,
    string.ascii_uppercase,
    string.digits + string.punctuation,
]


@lru_cache(maxsize=None)
def _tiny_unigram_vocab(vocab_size: int) -> tuple[tuple[str, float], ...]:
    """Whole words of the corpus (most frequent first) and every printable character, with fixed scores.

    Built by counting rather than by a trainer, whose tie-breaking differs between processes.
    """
    import math
    from collections import Counter

    characters = string.ascii_letters + string.digits + string.punctuation
    pieces: dict[str, float] = {"\u2581": -2.0}
    for char in characters:
        pieces.setdefault(char, -10.0)
        pieces.setdefault("\u2581" + char, -11.0)
    counts = Counter(word for line in _TOKENIZER_CORPUS for word in line.split())
    budget = vocab_size - 3 - len(pieces)
    for word, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[: max(budget, 0)]:
        pieces["\u2581" + word] = -1.0 - 1.0 / (1 + math.log(count))
    return tuple(sorted(pieces.items(), key=lambda item: (-item[1], item[0])))


def tiny_t5_tokenizer(vocab_size: int = 256) -> T5Tokenizer:
    """A T5 tokenizer (pad=0, eos=1, unk=2, as T5) with a small fixed unigram vocabulary, identical everywhere."""
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + list(_tiny_unigram_vocab(vocab_size))
    return T5Tokenizer(vocab=vocab, extra_ids=0)


def tiny_audio_config(model_type: str = "wavlm") -> PretrainedConfig:
    """A 2-layer, 32-d audio encoder config of the given family (wavlm, wav2vec2, hubert, whisper), at 50 Hz."""
    if model_type == "whisper":
        return WhisperConfig(
            d_model=TINY_HIDDEN, encoder_layers=2, encoder_attention_heads=2, encoder_ffn_dim=64,
            decoder_layers=1, decoder_attention_heads=2, decoder_ffn_dim=64, num_mel_bins=16,
            max_source_positions=150, vocab_size=64, pad_token_id=0, bos_token_id=1, eos_token_id=1,
            decoder_start_token_id=1, begin_suppress_tokens=None, suppress_tokens=None,
        )
    common = dict(
        hidden_size=TINY_HIDDEN, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        conv_dim=(16, 16, 16), conv_kernel=(10, 8, 8), conv_stride=(5, 8, 8), conv_bias=True,
        feat_extract_norm="layer", do_stable_layer_norm=True, num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2, mask_time_prob=0.0, layerdrop=0.0,
    )
    config_class = {"wavlm": WavLMConfig, "wav2vec2": Wav2Vec2Config, "hubert": HubertConfig}[model_type]
    if model_type == "wavlm":
        common.update(num_buckets=16, max_bucket_distance=32)
    return config_class(**common)


def tiny_feature_extractor(model_type: str = "wavlm"):
    """The feature extractor that matches :func:`tiny_audio_config` (16 kHz)."""
    if model_type == "whisper":
        # 300 mel frames = 3 s at 100 Hz, so the tiny Whisper encoder sees 150 positions.
        return WhisperFeatureExtractor(feature_size=16, chunk_length=3, return_attention_mask=True)
    return Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True, return_attention_mask=True
    )


def tiny_text_config(model_type: str = "t5", vocab_size: int = 256) -> PretrainedConfig:
    """A 2-layer, 32-d LLM config: T5 (encoder-decoder) or a causal LM (gpt2, llama, qwen2)."""
    if model_type == "t5":
        return T5Config(
            vocab_size=vocab_size, d_model=TINY_HIDDEN, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2,
            num_heads=4, feed_forward_proj="gated-gelu", tie_word_embeddings=False, dropout_rate=0.0,
            decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
        )
    causal = dict(vocab_size=vocab_size, pad_token_id=0, eos_token_id=1, bos_token_id=1)
    if model_type == "gpt2":
        return GPT2Config(n_embd=TINY_HIDDEN, n_layer=2, n_head=2, n_positions=512, resid_pdrop=0.0,
                          embd_pdrop=0.0, attn_pdrop=0.0, **causal)
    config_class = {"llama": LlamaConfig, "qwen2": Qwen2Config}[model_type]
    return config_class(hidden_size=TINY_HIDDEN, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                        num_key_value_heads=2, max_position_embeddings=512, **causal)


def save_tiny_backbones(directory, audio: str = "wavlm", text: str = "t5", seed: int = 0) -> tuple[str, str]:
    """
    Save a tiny random audio encoder (with its feature extractor) and a tiny random LLM (with its tokenizer) as two
    local folders, stand-ins for Hub ids such as `microsoft/wavlm-large` and `google/flan-t5-xl`.

    Returns the two folder paths.
    """
    from pathlib import Path

    import torch
    from transformers import AutoModel, AutoModelForCausalLM, AutoModelForSeq2SeqLM

    torch.manual_seed(seed)
    directory = Path(directory)
    audio_dir, text_dir = directory / f"tiny-{audio}", directory / f"tiny-{text}"
    AutoModel.from_config(tiny_audio_config(audio)).save_pretrained(audio_dir)
    tiny_feature_extractor(audio).save_pretrained(audio_dir)
    text_config = tiny_text_config(text)
    model_class = AutoModelForSeq2SeqLM if text_config.is_encoder_decoder else AutoModelForCausalLM
    model_class.from_config(text_config).save_pretrained(text_dir)
    tiny_t5_tokenizer().save_pretrained(text_dir)
    return str(audio_dir), str(text_dir)
