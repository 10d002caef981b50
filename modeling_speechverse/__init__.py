"""speechverse: SpeechVerse (Das et al., 2024) as a Hugging Face model, processor and training recipes."""

from transformers import AutoConfig, AutoModel, AutoProcessor

from .configuration_speechverse import PRESETS, SpeechVerseConfig
from .modeling_speechverse import SpeechVerseForConditionalGeneration, SpeechVersePreTrainedModel
from .processing_speechverse import SpeechVerseProcessor

# Saved folders carry the code and an `auto_map`, so they load with `trust_remote_code=True` where this
# package is not installed; registering here also lets the Auto classes resolve them where it is.
SpeechVerseConfig.register_for_auto_class()
SpeechVerseForConditionalGeneration.register_for_auto_class("AutoModel")
SpeechVerseProcessor.register_for_auto_class("AutoProcessor")
AutoConfig.register("speechverse", SpeechVerseConfig, exist_ok=True)
AutoModel.register(SpeechVerseConfig, SpeechVerseForConditionalGeneration, exist_ok=True)

__all__ = [
    "PRESETS",
    "SpeechVerseConfig",
    "SpeechVerseForConditionalGeneration",
    "SpeechVersePreTrainedModel",
    "SpeechVerseProcessor",
]
