"""The model card (`README.md`) of the mini LLM, filled with the numbers of the build that made it."""

from __future__ import annotations

from typing import Any

_TASK_ROWS = (
    ("ASR", 'copy the transcript ("transcribe")', "WER"),
    ("ST", "EN -> DE / FR, Multi30k test_2016_flickr", "BLEU"),
    ("IC", "10 seen intents, SLURP test sentences", "accuracy"),
    ("SF", "4 seen slot types, SLURP test", "SLU-F1"),
    ("KWE", "YAKE keywords of Multi30k test captions", "macro F1"),
    ("KWS", "yes/no, balanced", "accuracy"),
    ("ASC", "GoEmotions test, 3 classes balanced", "UAR"),
    ("INSTRUCT", "Alpaca test share", "BLEU"),
    ("IC-UNSEEN", "49 intents never trained, zero-shot", "accuracy"),
)


def _loss_row(name: str, history: list[dict[str, Any]]) -> str:
    """`| name | first logged training loss | last | validation loss at each checkpoint |`."""
    train = [record["loss"] for record in history if "loss" in record]
    validation = [f"{record['validation_loss']:.2f}" for record in history if "validation_loss" in record]
    return f"| {name} | {train[0]:.3f} | {train[-1]:.3f} | {' → '.join(validation)} |"


def _reference(task: str, result: dict[str, Any]) -> str:
    if task == "ASR":
        return f"exact match {result['exact_match']:.1f}%"
    if task == "ST":
        return (
            f"DE {result['bleu_German']:.1f} / FR {result['bleu_French']:.1f}; copying the English source scores "
            f"{result['copy_source_bleu']:.1f}"
        )
    if "majority_rate" in result:
        return f"majority class {result['majority_rate']:.1f}%; answers a valid label {result['valid_label_rate']:.1f}%"
    return ""


def render_model_card(info: dict[str, Any], results: dict[str, dict[str, Any]]) -> str:
    """Markdown model card; `info` is the build info of `build.build`, `results` its `evaluate_text_model` output."""
    pre, ins = info["pretrain"]["config"], info["instruct"]["config"]
    examples = ", ".join(f"{task} {count}" for task, count in info["instruction_examples"].items())
    made = "\n".join(
        f"| {stage} | {text} |"
        for stage, text in (
            (
                "Tokenizer",
                f"SentencePiece unigram, {info['vocab_size']} ids: `<pad>`=0, `</s>`=1, `<unk>`=2, learnt pieces, then "
                f"`<extra_id_99>` ... `<extra_id_0>` (id {info['vocab_size'] - 1}); `nmt_nfkc` normalisation, full "
                "character coverage (German and French letters included); trained on the train-split corpus text plus "
                "every instruction template and label description of `modeling_speechverse/tasks`",
            ),
            (
                "Architecture",
                "`T5ForConditionalGeneration` in the T5 v1.1 / Flan-T5 layout: d_model 256, d_ff 1024 gated-GELU, "
                "4 + 4 layers, 4 heads x 64, no dropout; the output layer shares the input embedding (transformers 5 "
                f"always ties T5's `lm_head`; Flan-T5 unties it); {info['num_parameters']:,} parameters",
            ),
            (
                "Pretraining",
                f"T5 span corruption (15% noise, mean span 3) on {info['train_texts']:,} train-split texts, one text "
                "per example (not T5's packed blocks: see `pretrain.py`); "
                f"{pre['steps']} steps x {pre['batch_size']} texts, Adafactor lr {pre['learning_rate']:g} (linear "
                f"warm-up {pre['warmup_steps']}, linear decay), bf16 autocast",
            ),
            (
                "Instruction tuning",
                "text form of ASR, ST, IC, SF, KWE, KWS, ASC, INSTRUCT with the training prompts of the task registry "
                f"({examples}); {ins['steps']} steps x {ins['batch_size']}, Adafactor lr {ins['learning_rate']:g}, "
                "length-grouped batches",
            ),
            ("Storage", "float16 safetensors shards under 15 MB (config `dtype` float32: `from_pretrained` upcasts)"),
        )
    )
    rows = "\n".join(
        f"| {task} | {what} | {metric} | {results[task]['score']:.1f} | {_reference(task, results[task])} |"
        for task, what, metric in _TASK_ROWS
        if task in results
    )
    samples = "\n".join(
        f"| {task} | `{s['input'][:90].replace(chr(10), ' ⏎ ').replace('|', '/')}` | `{s['target'][:50]}` | "
        f"`{s['prediction'][:50].replace('|', '/')}` |"
        for task in ("ASR", "KWS", "IC", "ST")
        if task in results
        for s in results[task]["samples"][:1]
    )
    return f"""---
language: [en, de, fr]
license: cc-by-nc-4.0
library_name: transformers
pipeline_tag: text2text-generation
tags: [t5, speechverse, instruction-tuned, from-scratch]
---

# mini-t5: a ~{info["num_parameters"] / 1e6:.0f}M-parameter Flan-T5-like model made offline for speechverse-mini

The frozen text LLM of the `mini` SpeechVerse recipe. No pretrained T5 can be downloaded here, so this one was made
the way Flan-T5 was, in miniature and on this project's data only: a SentencePiece tokenizer, T5 span-corruption
pretraining, then instruction tuning on the *text form* of the SpeechVerse tasks (the paper's "GT -> LLM" model).
It is a small model trained for about {info["seconds"] / 60:.0f} minutes on one busy CPU core. It is a stand-in
that has learnt the task formats, not a language model with general knowledge; read the numbers below before
relying on it.

Rebuild it (deterministic for a given seed and thread count; resumable):

```bash
python -m modeling_speechverse.mini_llm.build --out checkpoints/mini-t5
```

## Use

```python
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
from modeling_speechverse.mini_llm import format_text_input

tokenizer = AutoTokenizer.from_pretrained("checkpoints/mini-t5")
model = AutoModelForSeq2SeqLM.from_pretrained("checkpoints/mini-t5")
text = format_text_input("wake me up at seven am", "Does the speaker say 'seven'? Answer yes or no.")
ids = model.generate(**tokenizer(text, return_tensors="pt"), max_new_tokens=16)
print(tokenizer.decode(ids[0], skip_special_tokens=True))
```

**Input format.** `format_text_input(transcript, instruction)` = `"<transcript>\\n<instruction>"`. The tokenizer
turns the newline into a word boundary, so the ids are `ids(transcript) + ids(instruction) + [</s>]`: SpeechVerse's
encoder input (audio features, then the instruction tokens, then `</s>`) with the transcript where the audio goes.
Nothing marks the transcript because nothing marks the audio in SpeechVerse; the cascade baseline (ASR hypothesis
-> LLM) uses the same function.

## How it was made

| | |
|---|---|
{made}

What the instruction tuning leaves out on purpose: ER, AC, SC, SNS (they are about the voice, not the words); the
held-out tasks DC, IC-UNSEEN and SF-UNSEEN (the SpeechVerse zero-shot results must stay zero-shot); every test-split
sentence (SLURP test, Multi30k test_2016_flickr, GoEmotions test, the Alpaca test share). Two departures from the
speech corpus make the model read the instruction: half the IC prompts offer a random subset of the intents in
random order, and KWS is balanced yes/no.

## Numbers

Cross-entropy per target token. Training losses are means over the first / last logging interval
({info["pretrain"]["config"]["log_every"]} steps; batches are grouped by length, so single intervals are noisy);
validation losses are on the validation split at every checkpoint.

| stage | training, start | training, end | validation at each checkpoint |
|---|---|---|---|
{_loss_row("pretraining (span corruption)", info["pretrain"]["history"])}
{_loss_row("instruction tuning", info["instruct"]["history"])}

Text-only evaluation of the GT -> LLM model on held-out test-split sentences ({results[next(iter(results))]["n"]}
examples per task, training prompts, greedy decoding, the project's SpeechVerse metrics; 0-100, WER lower is
better). `eval_results.json` has every number and a few sample generations.

| task | data | metric | score | for reference |
|---|---|---|---|---|
{rows}

Sample generations (first test example):

| task | input (⏎ = newline) | target | generation |
|---|---|---|---|
{samples}

## Data and licences

Trained only on the copies in `data_sources/` (see `data_sources/SOURCES.md` for provenance and attribution):
SLURP text and NLU-Evaluation-Data (CC BY 4.0), Multi30k EN/DE/FR (research data derived from Flickr30K captions,
no licence file), GoEmotions (CC BY 4.0), and a Stanford Alpaca subset (**CC BY-NC 4.0**). Because of Alpaca, these
weights are for **non-commercial use only**; drop INSTRUCT and rebuild for a model without that restriction.
"""
