"""Architecture hyperparameters of well-known backbones, embedded so configs build with no download.

Only the shapes live here, never weights: they let `SpeechVerseConfig.from_preset` and
`SpeechVerseConfig.from_backbones` describe the paper's models on a machine with no Hub access.
Values are those of the public `config.json` files of the named repositories.
"""

from __future__ import annotations

from typing import Any

KNOWN_AUDIO_BACKBONES: dict[str, dict[str, Any]] = {
    "microsoft/wavlm-large": {
        "model_type": "wavlm",
        "hidden_size": 1024,
        "num_hidden_layers": 24,
        "num_attention_heads": 16,
        "intermediate_size": 4096,
        "feat_extract_norm": "layer",
        "do_stable_layer_norm": True,
        "conv_bias": True,
        "num_buckets": 320,
        "max_bucket_distance": 800,
        "feat_proj_dropout": 0.1,
        "hidden_dropout": 0.1,
        "attention_dropout": 0.1,
        "activation_dropout": 0.0,
        "layerdrop": 0.1,
    },
    "microsoft/wavlm-base-plus": {
        "model_type": "wavlm",
        "hidden_size": 768,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
        "feat_extract_norm": "group",
        "do_stable_layer_norm": False,
        "conv_bias": False,
        "num_buckets": 320,
        "max_bucket_distance": 800,
    },
    "facebook/hubert-large-ll60k": {
        "model_type": "hubert",
        "hidden_size": 1024,
        "num_hidden_layers": 24,
        "num_attention_heads": 16,
        "intermediate_size": 4096,
        "feat_extract_norm": "layer",
        "do_stable_layer_norm": True,
        "conv_bias": True,
    },
    "facebook/wav2vec2-large-lv60": {
        "model_type": "wav2vec2",
        "hidden_size": 1024,
        "num_hidden_layers": 24,
        "num_attention_heads": 16,
        "intermediate_size": 4096,
        "feat_extract_norm": "layer",
        "do_stable_layer_norm": True,
        "conv_bias": True,
    },
    "openai/whisper-tiny.en": {
        "model_type": "whisper",
        "d_model": 384,
        "encoder_layers": 4,
        "decoder_layers": 4,
        "encoder_attention_heads": 6,
        "decoder_attention_heads": 6,
        "encoder_ffn_dim": 1536,
        "decoder_ffn_dim": 1536,
        "num_mel_bins": 80,
        "vocab_size": 51864,
    },
    # Appendix A.1: a 24-layer, 768-d, 8-head conformer with a 25 Hz output (Best-RQ pre-training).
    # transformers' wav2vec2-conformer gives that shape; the last feature-extractor conv strides 4
    # instead of 2 so the encoder runs at 16000 / 640 = 25 Hz.
    "speechverse/best-rq-conformer": {
        "model_type": "wav2vec2-conformer",
        "hidden_size": 768,
        "num_hidden_layers": 24,
        "num_attention_heads": 8,
        "intermediate_size": 3072,
        "conv_stride": [5, 2, 2, 2, 2, 2, 4],
        "conv_kernel": [10, 3, 3, 3, 3, 2, 4],
        "feat_extract_norm": "layer",
        "do_stable_layer_norm": True,
        "conv_bias": True,
        "position_embeddings_type": "relative",
    },
}

KNOWN_TEXT_BACKBONES: dict[str, dict[str, Any]] = {
    "google/flan-t5-xl": {
        "model_type": "t5",
        "d_model": 2048,
        "d_ff": 5120,
        "d_kv": 64,
        "num_heads": 32,
        "num_layers": 24,
        "num_decoder_layers": 24,
        "vocab_size": 32128,
        "feed_forward_proj": "gated-gelu",
        "tie_word_embeddings": False,
        "decoder_start_token_id": 0,
        "pad_token_id": 0,
        "eos_token_id": 1,
    },
    "google/flan-t5-large": {
        "model_type": "t5",
        "d_model": 1024,
        "d_ff": 2816,
        "d_kv": 64,
        "num_heads": 16,
        "num_layers": 24,
        "num_decoder_layers": 24,
        "vocab_size": 32128,
        "feed_forward_proj": "gated-gelu",
        "tie_word_embeddings": False,
        "decoder_start_token_id": 0,
        "pad_token_id": 0,
        "eos_token_id": 1,
    },
    "google/flan-t5-base": {
        "model_type": "t5",
        "d_model": 768,
        "d_ff": 2048,
        "d_kv": 64,
        "num_heads": 12,
        "num_layers": 12,
        "num_decoder_layers": 12,
        "vocab_size": 32128,
        "feed_forward_proj": "gated-gelu",
        "tie_word_embeddings": False,
        "decoder_start_token_id": 0,
        "pad_token_id": 0,
        "eos_token_id": 1,
    },
}
