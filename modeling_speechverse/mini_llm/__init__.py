"""The mini text LLM of the `mini` recipe: a small Flan-T5-like model made offline (tokenizer, span-corruption
pretraining, instruction tuning on the text form of the tasks). Build it with
`python -m modeling_speechverse.mini_llm.build --out checkpoints/mini-t5`."""

from .instruct import TEXT_INPUT_FORMAT, TEXT_TASKS, TextExample, format_text_input, text_examples
from .span_corruption import SpanCorruptionCollator, random_spans_noise_mask
from .tokenizer import train_t5_tokenizer

__all__ = [
    "TEXT_INPUT_FORMAT",
    "TEXT_TASKS",
    "SpanCorruptionCollator",
    "TextExample",
    "format_text_input",
    "random_spans_noise_mask",
    "text_examples",
    "train_t5_tokenizer",
]
