"""SpeechVerse demo: record or upload speech, pick one of the 11 tasks, edit the instruction, read the answer.

    python space/app.py [--model DIR_OR_HUB_ID] [--host 127.0.0.1] [--port 7860]

The model is `--model`, else `$SPEECHVERSE_MODEL`, else `checkpoints/speechverse-mini` of the repository.
On Hugging Face Spaces the same file runs unchanged (set `SPEECHVERSE_MODEL` in the Space's variables).
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator, Sequence

from pathlib import Path

import gradio as gr

from modeling_speechverse.inference import (
    DEMO_TASKS,
    Decoding,
    DemoError,
    SpeechVerseDemo,
    default_labels,
    fill_instruction,
    resolve_model_path,
)
from modeling_speechverse.tasks import get_task

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"

# One generation at a time: on CPU, parallel requests would only slow each other down.
CONCURRENCY_LIMIT = 1
QUEUE_SIZE = 16
MAX_FILE_SIZE = "25mb"
EXAMPLES = (
    ("set_an_alarm.wav", "ASR"),
    ("turn_on_the_radio.wav", "KWS"),
    ("set_an_alarm.wav", "IC"),
    ("weather_in_berlin.wav", "SF"),
)

INTRO = """# SpeechVerse

A frozen speech encoder and a frozen LLM joined by a few trained weights
([Das et al., 2024](https://arxiv.org/abs/2405.08295)). Record or upload English speech, pick a task (its
instruction is drawn from the training prompt bank, and you can edit it), and submit. *Constrained decoding* keeps
the answer inside the label list; *joint decoding* asks for the transcript first, then the answer."""


def _example_rows() -> list[list[str]]:
    rng = random.Random(0)
    return [
        [str(EXAMPLES_DIR / clip), code, default_labels(code), fill_instruction(code, default_labels(code), rng)]
        for clip, code in EXAMPLES
    ]


def build_demo(demo: SpeechVerseDemo | None, status: str) -> gr.Blocks:
    """The page. `status` is the model's path, or, when `demo` is `None`, why no model could be loaded."""

    def on_task(task_code: str) -> tuple[str, str]:
        labels = default_labels(task_code)
        return labels, fill_instruction(task_code, labels, random.Random())

    def respond(
        audio: str | None,
        task_code: str,
        labels: str,
        instruction: str,
        constrained: bool,
        joint: bool,
        max_new_tokens: float,
        num_beams: float,
        temperature: float,
    ) -> Iterator[tuple[str, str]]:
        if demo is None:
            raise gr.Error(status)
        text = ""
        try:
            request = demo.prepare(audio, task_code, instruction, labels, constrained, joint, int(num_beams))
            yield "", ""
            decoding = Decoding(int(max_new_tokens), int(num_beams), float(temperature))
            for text in demo.stream(request, decoding):
                yield text, ""
        except DemoError as error:
            raise gr.Error(str(error)) from None
        if not text:
            gr.Warning("The model returned an empty answer. Try another instruction or more new tokens.")
        yield text, SpeechVerseDemo.describe(request, text)

    first_task = DEMO_TASKS[0]
    with gr.Blocks(title="SpeechVerse") as blocks:
        gr.Markdown(INTRO)
        gr.Markdown(
            f"Model: `{status}`" if demo is not None else f"**No model loaded.** {status}", elem_id="model-status"
        )
        with gr.Row():
            with gr.Column():
                audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Speech", elem_id="audio")
                task = gr.Dropdown(
                    choices=[(f"{code}: {get_task(code).description}", code) for code in DEMO_TASKS],
                    value=first_task,
                    label="Task",
                    elem_id="task",
                )
                instruction = gr.Textbox(
                    value=fill_instruction(first_task, default_labels(first_task), random.Random(0)),
                    label="Instruction (editable)",
                    lines=3,
                    elem_id="instruction",
                )
                another = gr.Button("Another instruction from the prompt bank", size="sm")
                labels = gr.Textbox(
                    value=default_labels(first_task),
                    label="Labels (comma-separated)",
                    info="Listed in the instruction where the task takes a list; with constrained decoding, the only "
                    "answers allowed.",
                    elem_id="labels",
                )
                with gr.Row():
                    constrained = gr.Checkbox(label="Constrained decoding", elem_id="constrained")
                    joint = gr.Checkbox(label="Joint decoding (transcript, then answer)", elem_id="joint")
                with gr.Accordion("Decoding settings", open=False):
                    max_new_tokens = gr.Slider(1, 256, value=64, step=1, label="Max new tokens")
                    num_beams = gr.Slider(1, 8, value=1, step=1, label="Beams (with 1 the answer streams)")
                    temperature = gr.Slider(0.0, 1.5, value=0.0, step=0.05, label="Sampling temperature (0: greedy)")
                submit = gr.Button("Submit", variant="primary", elem_id="submit")
            with gr.Column():
                answer = gr.Textbox(label="Answer", lines=6, interactive=False, elem_id="answer")
                details = gr.Markdown(elem_id="details")
        gr.Examples(examples=_example_rows(), inputs=[audio, task, labels, instruction], cache_examples=False)

        task.input(on_task, inputs=task, outputs=[labels, instruction])
        another.click(lambda code, text: fill_instruction(code, text, random.Random()), [task, labels], instruction)
        # Clear the previous answer first, so an error is never shown next to an old answer.
        submit.click(lambda: ("", ""), outputs=[answer, details], queue=False).then(
            respond,
            inputs=[audio, task, labels, instruction, constrained, joint, max_new_tokens, num_beams, temperature],
            outputs=[answer, details],
        )
    return blocks


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="SpeechVerse demo")
    parser.add_argument("--model", help="checkpoint folder or Hub id (default: $SPEECHVERSE_MODEL or speechverse-mini)")
    parser.add_argument("--host", help="address to listen on (default: Gradio's, 127.0.0.1 locally)")
    parser.add_argument("--port", type=int, help="port to listen on (default: Gradio's, 7860)")
    args = parser.parse_args(argv)
    model_path = resolve_model_path(args.model)
    try:
        demo, status = SpeechVerseDemo.load(model_path), model_path
    except DemoError as error:
        demo, status = None, str(error)
        print(f"No model loaded. {status}")
    blocks = build_demo(demo, status)
    blocks.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_SIZE)
    blocks.launch(
        server_name=args.host,
        server_port=args.port,
        max_file_size=MAX_FILE_SIZE,
        allowed_paths=[str(EXAMPLES_DIR)],
    )


if __name__ == "__main__":
    main()
