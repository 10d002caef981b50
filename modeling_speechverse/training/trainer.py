"""The SpeechVerse training loop (Section 2.3, Appendix A.2) on accelerate, with or without DeepSpeed ZeRO.

    accelerate launch --config_file accelerate_config.yaml train.py --recipe configuration/multitask-wlm.yaml

Only the layer weights, the downsampler and the LoRA adapters train; which of them depends on the curriculum stage.
DeepSpeed partitions its optimiser over the parameters that are trainable when the engine starts, so a stage that
changes the trainable set gets a new engine, optimiser and scheduler (the schedule continues from the global step).
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

import datasets
import torch
from accelerate import Accelerator, PartialState
from accelerate.utils import (
    DistributedType,
    GradientAccumulationPlugin,
    send_to_device,
    set_seed,
)
from tqdm.auto import tqdm
from transformers import (
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
    get_linear_schedule_with_warmup,
)
from transformers.integrations import unset_hf_deepspeed_config

from ..configuration_speechverse import SpeechVerseConfig
from ..data.pipeline import SpeechVerseCollator
from ..modeling_speechverse import SpeechVerseForConditionalGeneration
from ..processing_speechverse import SpeechVerseProcessor
from .backbones import resolve_backbone
from .checkpointing import (
    CHECKPOINTS_DIR,
    RECIPE_FILE,
    find_resume_checkpoint,
    list_checkpoints,
    register_adapter_checkpointing,
    remove_staging_folders,
    save_checkpoint,
)
from .curriculum import Curriculum, apply_stage
from .encoder_cache import EncoderStateCache
from .data import (
    build_stage_data,
    load_training_corpus,
    make_loader,
)
from .losses import per_example_loss
from .metrics import LossMeter, MeterTotals
from .recipe import ModelRecipe, Recipe, TrainRecipe, dump_recipe, read_recipe_file
from .state import TrainerState

logger = logging.getLogger(__name__)

BACKBONES_DIR = "backbones"
FINAL_DIR = "final"
SUMMARY_FILE = "summary.json"
TENSORBOARD_DIR = "tensorboard"
_SCHEDULES = {
    "constant": get_constant_schedule_with_warmup,
    "linear": get_linear_schedule_with_warmup,
    "cosine": get_cosine_schedule_with_warmup,
}


def gradient_accumulation_steps(train: TrainRecipe, num_processes: int) -> int:
    """Micro-batches per optimiser step so that every step sees `train.effective_batch_size` examples."""
    per_round = train.per_device_batch_size * num_processes
    if train.effective_batch_size % per_round:
        raise ValueError(
            f"train.effective_batch_size ({train.effective_batch_size}) must be a multiple of "
            f"train.per_device_batch_size ({train.per_device_batch_size}) x {num_processes} processes"
        )
    return train.effective_batch_size // per_round


def make_scheduler(
    optimizer: torch.optim.Optimizer, train: TrainRecipe, step: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up, then the recipe's schedule, as a function of the global step: an optimiser built at `step`
    (a new curriculum stage) continues the schedule rather than restarting it."""
    for group in optimizer.param_groups:
        group.setdefault("initial_lr", group["lr"])
    kwargs: dict[str, Any] = {"num_warmup_steps": train.warmup_steps, "last_epoch": step - 1}
    if train.schedule != "constant":
        kwargs["num_training_steps"] = train.max_steps
    return _SCHEDULES[train.schedule](optimizer, **kwargs)


def _deepspeed_without_gpu() -> bool:
    """Whether this is a DeepSpeed launch on a machine without GPU (tests, smoke runs)."""
    return (
        os.environ.get("ACCELERATE_USE_DEEPSPEED", "false").lower() == "true"
        and "LOCAL_RANK" in os.environ
        and not torch.cuda.is_available()
    )


def build_accelerator(recipe: Recipe) -> Accelerator:
    """An `Accelerator` with the recipe's gradient accumulation, TensorBoard logging, and one accumulation window
    per optimiser step regardless of epoch ends (so steps do not depend on where an epoch happens to end)."""
    # Without a GPU accelerate starts DeepSpeed's process group with no backend, and each process then believes it
    # runs alone; gloo makes CPU DeepSpeed runs truly distributed.
    state = PartialState(**({"backend": "gloo"} if _deepspeed_without_gpu() else {}))
    accumulation = gradient_accumulation_steps(recipe.train, state.num_processes)
    accelerator = Accelerator(
        gradient_accumulation_plugin=GradientAccumulationPlugin(num_steps=accumulation, sync_with_dataloader=False),
        step_scheduler_with_optimizer=False,
        log_with="tensorboard" if recipe.logging.tensorboard else None,
        project_dir=str(Path(recipe.output_dir) / TENSORBOARD_DIR),
    )
    # accelerate registers the DeepSpeed config with transformers, whose `from_pretrained` then partitions ZeRO-3
    # models while loading them. Every process builds the whole model instead (the LoRA injection and the
    # downsampler need whole weights); the engine partitions it when it starts.
    unset_hf_deepspeed_config()
    return accelerator


def resolve_backbones(recipe: ModelRecipe, directory: Path) -> dict[str, str]:
    """The recipe's backbones as Hub ids or local paths (`builtin:` ones built under `directory`)."""
    named = {"audio_backbone": recipe.audio_backbone, "text_backbone": recipe.text_backbone}
    return {key: resolve_backbone(spec, directory) for key, spec in named.items() if spec is not None}


def build_model(
    recipe: ModelRecipe, backbones: dict[str, str]
) -> tuple[SpeechVerseForConditionalGeneration, SpeechVerseProcessor]:
    """A fresh SpeechVerse model around the pretrained (frozen) backbones, and its processor."""
    overrides = recipe.config_overrides()
    if recipe.preset is not None:
        config = SpeechVerseConfig.from_preset(recipe.preset, **backbones, **overrides)
    else:
        config = SpeechVerseConfig.from_backbones(backbones["audio_backbone"], backbones["text_backbone"], **overrides)
    model = SpeechVerseForConditionalGeneration.from_backbones(config=config)
    processor = SpeechVerseProcessor.from_backbones(
        config.audio_backbone_id, config.text_backbone_id, max_audio_seconds=config.max_audio_seconds
    )
    return model, processor


def _check_resumable(recipe: Recipe, checkpoint: Path) -> None:
    saved = read_recipe_file(checkpoint / RECIPE_FILE)
    current = recipe.to_dict()
    if saved["model"] != current["model"]:
        raise ValueError(f"cannot resume {checkpoint}: its model section differs from this recipe's")
    if [stage["name"] for stage in saved["curriculum"]] != [stage.name for stage in recipe.curriculum]:
        raise ValueError(f"cannot resume {checkpoint}: its curriculum stages differ from this recipe's")


def _configure_logging(accelerator: Accelerator) -> None:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.WARNING)
    logging.getLogger(__package__.rsplit(".", 1)[0]).setLevel(
        logging.INFO if accelerator.is_main_process else logging.WARNING
    )
    if not accelerator.is_local_main_process:
        datasets.disable_progress_bars()


def run(recipe: Recipe, resume: bool | str = False) -> Path:
    """
    Train a SpeechVerse model as `recipe` says; returns the folder of the final model.

    Args:
        recipe: a validated recipe (`load_recipe`).
        resume: a checkpoint folder to continue from, or True for the latest checkpoint under
            `recipe.output_dir` (starting from scratch when there is none).
    """
    output_dir = Path(recipe.output_dir)
    accelerator = build_accelerator(recipe)
    _configure_logging(accelerator)
    checkpoint = find_resume_checkpoint(output_dir, resume)
    if checkpoint is None and list_checkpoints(output_dir / CHECKPOINTS_DIR):
        raise ValueError(
            f"{output_dir} holds checkpoints of an earlier run: pass --resume to continue it, or choose another "
            "output_dir"
        )
    state = TrainerState.load(checkpoint) if checkpoint is not None else TrainerState()
    if checkpoint is not None:
        _check_resumable(recipe, checkpoint)
    with accelerator.local_main_process_first():
        backbones = resolve_backbones(recipe.model, output_dir / BACKBONES_DIR)
    set_seed(recipe.train.seed)
    model, processor = build_model(recipe.model, backbones)
    corpus = load_training_corpus(recipe.data, recipe.train.seed)
    encoder_states = None
    if recipe.data.cache_encoder_states:
        model.audio_encoder.to(accelerator.device)
        with accelerator.main_process_first():
            encoder_states = EncoderStateCache.build(
                corpus.values(), model, processor, batch_size=recipe.train.per_device_batch_size
            )
    trainer = Trainer(recipe, accelerator, model, processor, corpus, state, encoder_states)
    return trainer.train(checkpoint)


class Trainer:
    """
    Runs the curriculum: builds each stage's engine (model, optimiser, scheduler prepared by accelerate) and data,
    steps, evaluates, switches stages, checkpoints, and saves the final model with `save_pretrained`.
    """

    def __init__(
        self,
        recipe: Recipe,
        accelerator: Accelerator,
        model: SpeechVerseForConditionalGeneration,
        processor: SpeechVerseProcessor,
        corpus: datasets.DatasetDict,
        state: TrainerState,
        encoder_states: EncoderStateCache | None = None,
    ):
        self.recipe = recipe
        self.accelerator = accelerator
        self.model = model
        self.processor = processor
        self.corpus = corpus
        self.state = state
        self.output_dir = Path(recipe.output_dir)
        self.deepspeed = accelerator.distributed_type == DistributedType.DEEPSPEED
        self.curriculum = Curriculum(recipe.curriculum, state, recipe.eval.min_delta)
        self.collator = SpeechVerseCollator(processor, encoder_states)
        self.encoder_decoder = model.config.is_encoder_decoder_llm
        self.recipe_yaml = dump_recipe(recipe)
        self.meter = LossMeter()
        self.engine = self.optimizer = self.scheduler = None
        self.engine_lora: bool | None = None
        self.last_grad_norm = float("nan")
        register_adapter_checkpointing(accelerator, model)

    # ------------------------------------------------------------------------------------------- stages

    def _enter_stage(self) -> None:
        """Set up the current stage: a new engine if its trainable set differs from the last stage's, new data."""
        stage = self.curriculum.stage
        if stage.lora != self.engine_lora:
            self._build_engine()
        if not self.curriculum.stage_started:
            self.curriculum.begin_stage(self.recipe.stage_tasks(self.state.stage), self.trainable_names)
        self._build_data()

    def _build_engine(self) -> None:
        if self.engine is not None:
            # Give the model back its own forward (accelerate wraps it for mixed precision), then drop the old engine
            # (under DeepSpeed its gradient hooks and partitioned optimiser) before building the new one.
            self.accelerator.unwrap_model(self.engine, keep_fp32_wrapper=False)
            self.engine = self.optimizer = self.scheduler = None
            self.accelerator.free_memory()
        self.trainable_names = apply_stage(self.model, self.curriculum.stage)
        self.trainable_parameters = [p for p in self.model.parameters() if p.requires_grad]
        train = self.recipe.train
        optimizer = torch.optim.AdamW(
            self.trainable_parameters,
            lr=train.lr,
            betas=tuple(train.adam_betas),
            eps=train.adam_epsilon,
            weight_decay=train.weight_decay,
        )
        scheduler = make_scheduler(optimizer, train, self.state.global_step)
        self._configure_deepspeed()
        self.engine, self.optimizer, self.scheduler = self.accelerator.prepare(self.model, optimizer, scheduler)
        self.engine_lora = self.curriculum.stage.lora

    def _configure_deepspeed(self) -> None:
        """Fill the DeepSpeed config's batch and clipping values from the recipe (its `auto` entries)."""
        if not self.deepspeed:
            return
        config = self.accelerator.state.deepspeed_plugin.deepspeed_config
        train = self.recipe.train
        values = {
            "train_micro_batch_size_per_gpu": train.per_device_batch_size,
            "gradient_accumulation_steps": self.accelerator.gradient_accumulation_steps,
            "train_batch_size": train.effective_batch_size,
            "gradient_clipping": train.max_grad_norm,
        }
        for key, value in values.items():
            current = config.get(key, "auto")
            if current == "auto":
                config[key] = value
            elif current != value:
                raise ValueError(
                    f'the DeepSpeed config sets {key}={current!r} but the recipe gives {value!r}; set it to "auto"'
                )

    def _build_data(self) -> None:
        stage_index = self.state.stage
        data = build_stage_data(self.corpus, self.recipe, stage_index, self.processor.tokenizer, self.model.config)
        self.state.dropped_examples[self.curriculum.stage.name] = data.dropped
        if any(data.dropped.values()):
            logger.info("Stage %r: the data pipeline left out %s", self.curriculum.stage.name, data.dropped)
        train = self.recipe.train
        shared = {
            "collator": self.collator,
            "seed": train.seed + stage_index,
            "num_workers": self.recipe.data.num_workers,
            "num_processes": self.accelerator.num_processes,
            "process_index": self.accelerator.process_index,
        }
        self.train_loader, self.train_sampler = make_loader(
            data.train, train.per_device_batch_size, shuffle=True, **shared
        )
        eval_batch_size = self.recipe.eval.batch_size or train.per_device_batch_size
        self.eval_loader, self.eval_sampler = make_loader(data.validation, eval_batch_size, shuffle=False, **shared)

    def _batches(self):
        """This process's training batches, pass after pass, from the saved data position on."""
        while True:
            self.train_sampler.set_epoch(self.state.epoch)
            self.train_sampler.start = self.state.batches_in_epoch
            for batch in self.train_loader:
                self.state.batches_in_epoch += 1
                yield batch
            self.state.epoch += 1
            self.state.batches_in_epoch = 0

    # ------------------------------------------------------------------------------------------- training

    def train(self, checkpoint: Path | None) -> Path:
        """Train to the end of the curriculum (or `train.max_steps`); returns the final model's folder."""
        self._enter_stage()
        if checkpoint is not None:
            self.accelerator.load_state(str(checkpoint), **({"load_module_strict": False} if self.deepspeed else {}))
            logger.info(
                "Resumed from %s: step %d, stage %r, epoch %d, batch %d of the epoch",
                checkpoint,
                self.state.global_step,
                self.curriculum.stage.name,
                self.state.epoch,
                self.state.batches_in_epoch,
            )
        if self.accelerator.is_main_process:
            remove_staging_folders(self.output_dir / CHECKPOINTS_DIR)
            self.output_dir.mkdir(parents=True, exist_ok=True)
            (self.output_dir / RECIPE_FILE).write_text(self.recipe_yaml)
        if self.recipe.logging.tensorboard:
            self.accelerator.init_trackers(self.recipe.name, config=_hyperparameters(self.recipe))
        started = time.perf_counter()
        self.window_start = started
        progress = tqdm(
            total=self.recipe.train.max_steps,
            initial=self.state.global_step,
            disable=not self.accelerator.is_main_process,
            dynamic_ncols=True,
        )
        self._describe(progress)
        batches = self._batches()
        self.engine.train()
        stop_reason = None
        if self.state.global_step >= self.recipe.train.max_steps:
            stop_reason = self._stop_at_max_steps()
        while stop_reason is None:
            batch = next(batches)
            if self._any_empty(batch):
                self.state.empty_batches += 1
                continue
            self._micro_step(batch)
            if not self.accelerator.sync_gradients:
                continue
            self.state.global_step += 1
            progress.update(1)
            stop_reason, stage_changed = self._end_step(progress)
            if stage_changed:
                batches = self._batches()
        progress.close()
        self.state.stop_reason = stop_reason
        self._fold(self.meter.gather())
        final = self._save_final()
        self._write_summary(final, time.perf_counter() - started)
        self.accelerator.end_training()
        return final

    def _any_empty(self, batch: dict[str, Any] | None) -> bool:
        """Whether any process got a batch with no usable audio (the collator returns None); then every process
        skips it, since they must run each forward and backward together."""
        empty = torch.tensor(float(batch is None), device=self.accelerator.device)
        return bool(self.accelerator.reduce(empty, reduction="sum") > 0)

    def _micro_step(self, batch: dict[str, Any]) -> None:
        tasks = batch.pop("tasks")
        audio_seconds = batch.pop("audio_seconds")
        batch = send_to_device(batch, self.accelerator.device)
        with self.accelerator.accumulate(self.engine):
            outputs = self.engine(**batch)
            sums, counts = per_example_loss(outputs.logits.detach(), batch["labels"], self.encoder_decoder)
            self.meter.add(tasks, sums, counts, audio_seconds)
            if not torch.isfinite(outputs.loss):
                # Still backpropagated, so every process takes part in the gradient reduction; the gradient it
                # makes is not finite either, and the step is skipped below.
                self.meter.nonfinite += 1
            self.accelerator.backward(outputs.loss)
            if self.accelerator.sync_gradients:
                self._optimizer_step()

    def _optimizer_step(self) -> None:
        """Clip, then step unless the gradient norm is not finite (then the step is skipped and counted)."""
        grad_norm = self.accelerator.clip_grad_norm_(self.trainable_parameters, self.recipe.train.max_grad_norm)
        grad_norm = float("nan") if grad_norm is None else float(grad_norm)
        if self.deepspeed:
            # DeepSpeed has already clipped and stepped inside `backward`, skipping non-finite gradients itself.
            skipped = self.optimizer.step_was_skipped
        elif self.accelerator.scaler is not None:
            # fp16: the gradient scaler skips non-finite steps itself, and must see them to lower its scale.
            self.optimizer.step()
            skipped = self.optimizer.step_was_skipped
        else:
            skipped = not math.isfinite(grad_norm)
            if not skipped:
                self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad()
        self.last_grad_norm = grad_norm
        if skipped:
            self.state.skipped_steps += 1
            logger.warning("Step %d skipped: gradient norm %s", self.state.global_step + 1, grad_norm)

    def _end_step(self, progress) -> tuple[str | None, bool]:
        """Log, evaluate, move through the curriculum and checkpoint as due; returns (stop reason, stage changed)."""
        step, recipe = self.state.global_step, self.recipe
        if step % recipe.logging.every_steps == 0:
            self._log(progress)
        if step % recipe.eval.every_steps == 0:
            self.curriculum.on_evaluate(self.evaluate())
        if step >= recipe.train.max_steps:
            return self._stop_at_max_steps(), False
        stage_changed = False
        reason = self.curriculum.on_step_end()
        if reason is not None:
            if not self.curriculum.end_stage(reason):
                return reason, False
            self._enter_stage()
            self._describe(progress)
            stage_changed = True
        if step % recipe.checkpoint.every_steps == 0:
            save_checkpoint(
                self.accelerator,
                self.state,
                self.output_dir / CHECKPOINTS_DIR,
                recipe.checkpoint.keep_last,
                self.recipe_yaml,
                # DeepSpeed would otherwise write the frozen backbones into every checkpoint.
                **({"exclude_frozen_parameters": True} if self.deepspeed else {}),
            )
        return None, stage_changed

    def _stop_at_max_steps(self) -> str:
        reason = f"train.max_steps ({self.recipe.train.max_steps}) reached"
        self.curriculum.close_stage(reason)
        return reason

    # ------------------------------------------------------------------------------------------- evaluation

    @torch.no_grad()
    def evaluate(self) -> float:
        """Validation loss (token-averaged over all processes) on the current stage's tasks; logs per-task losses."""
        self.engine.eval()
        meter = LossMeter()
        self.eval_sampler.set_epoch(0)
        for index, batch in enumerate(self.eval_loader):
            if self._any_empty(batch):
                continue
            tasks = batch.pop("tasks")
            batch.pop("audio_seconds")
            batch = send_to_device(batch, self.accelerator.device)
            outputs = self.engine(**batch)
            if not self.eval_sampler.is_padding(index):
                meter.add(tasks, *per_example_loss(outputs.logits, batch["labels"], self.encoder_decoder))
        self.engine.train()
        totals = meter.gather()
        loss, task_losses = totals.mean_loss(), totals.task_losses()
        step = self.state.global_step
        self.state.eval_log.append(
            {"step": step, "stage": self.curriculum.stage.name, "loss": loss, "tasks": task_losses}
        )
        self.accelerator.log(
            {"eval/loss": loss, **{f"eval/loss/{task}": value for task, value in task_losses.items()}}, step=step
        )
        logger.info("Step %d validation loss %.4f %s", step, loss, _rounded(task_losses))
        return loss

    # ------------------------------------------------------------------------------------------- logging

    def _fold(self, totals: MeterTotals) -> None:
        """Add the counters of a gathered meter to the state (which checkpoints carry)."""
        self.state.samples += totals.samples
        self.state.audio_seconds += totals.audio_seconds
        self.state.nonfinite_losses += totals.nonfinite

    def _log(self, progress) -> None:
        totals = self.meter.gather()
        self.meter = LossMeter()
        self._fold(totals)
        now = time.perf_counter()
        elapsed, self.window_start = max(now - self.window_start, 1e-9), now
        step, loss, task_losses = self.state.global_step, totals.mean_loss(), totals.task_losses()
        samples_per_second = totals.samples / elapsed
        audio_hours_per_second = totals.audio_seconds / 3600 / elapsed
        lr = self.scheduler.get_last_lr()[0]
        self.accelerator.log(
            {
                "train/loss": loss,
                **{f"train/loss/{task}": value for task, value in task_losses.items()},
                "train/lr": lr,
                "train/grad_norm": self.last_grad_norm,
                "train/samples_per_second": samples_per_second,
                "train/audio_hours_per_second": audio_hours_per_second,
                "train/skipped_steps": self.state.skipped_steps,
                "train/nonfinite_losses": self.state.nonfinite_losses,
                "curriculum/stage": self.state.stage,
            },
            step=step,
        )
        self.state.train_log.append(
            {"step": step, "stage": self.curriculum.stage.name, "loss": loss, "tasks": task_losses, "lr": lr}
        )
        progress.set_postfix(
            loss=f"{loss:.4f}",
            samples_s=f"{samples_per_second:.1f}",
            audio_h_s=f"{audio_hours_per_second:.4f}",
            refresh=False,
        )

    def _describe(self, progress) -> None:
        progress.set_description(
            f"stage {self.state.stage + 1}/{len(self.recipe.curriculum)} {self.curriculum.stage.name}"
        )

    # ------------------------------------------------------------------------------------------- saving

    def _adapter_weights(self) -> dict[str, torch.Tensor]:
        """The trainable weights in float32; under DeepSpeed its fp32 master copies, gathered across ZeRO-3
        partitions (a collective: every process calls it)."""
        weights = self.model.adapter_state_dict()
        if not self.deepspeed:
            return weights
        import deepspeed
        from deepspeed.utils import safe_get_full_fp32_param

        parameters = dict(self.model.named_parameters())
        for name in weights:
            if name not in parameters:
                continue
            param = parameters[name]
            value = safe_get_full_fp32_param(param) if param.requires_grad else None
            if value is None:
                with deepspeed.zero.GatheredParameters([param]):
                    value = param.data.clone()
            weights[name] = value.detach().float().cpu()
        return weights

    def _save_final(self) -> Path:
        """`save_pretrained` of the trainable weights, config and processor, renamed into place when complete."""
        weights = self._adapter_weights()
        final = self.output_dir / FINAL_DIR
        if self.accelerator.is_main_process:
            staging = self.output_dir / f".tmp-{FINAL_DIR}"
            shutil.rmtree(staging, ignore_errors=True)
            self.model.save_pretrained(staging, state_dict=weights)
            self.processor.save_pretrained(staging)
            if final.exists():
                shutil.rmtree(final)
            os.replace(staging, final)
            logger.info("Saved the final model to %s", final)
        self.accelerator.wait_for_everyone()
        return final

    def _write_summary(self, final: Path, seconds: float) -> None:
        if not self.accelerator.is_main_process:
            return
        state = self.state
        summary = {
            "recipe": self.recipe.name,
            "processes": self.accelerator.num_processes,
            "gradient_accumulation_steps": self.accelerator.gradient_accumulation_steps,
            "deepspeed": (
                {
                    "zero_stage": self.engine.zero_optimization_stage(),
                    "optimizer": type(self.engine.optimizer.optimizer).__name__,
                }
                if self.deepspeed
                else None
            ),
            "global_step": state.global_step,
            "stop_reason": state.stop_reason,
            "stages": state.stages,
            "train_log": state.train_log,
            "eval_log": state.eval_log,
            "skipped_steps": state.skipped_steps,
            "nonfinite_losses": state.nonfinite_losses,
            "empty_batches": state.empty_batches,
            "samples": state.samples,
            "audio_hours": state.audio_seconds / 3600,
            "dropped_examples": state.dropped_examples,
            "wall_seconds": seconds,
            "final_model": str(final),
        }
        (self.output_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=1) + "\n")
        logger.info("Training finished at step %d: %s", state.global_step, state.stop_reason)
        for stage in state.stages:
            logger.info(
                "  stage %r: steps %d-%s, tasks %s, %d trainable tensors; %s",
                stage["name"],
                stage["start_step"],
                stage["end_step"],
                stage["tasks"],
                len(stage["trainable_parameters"]),
                stage["end_reason"],
            )
        if state.eval_log:
            last = state.eval_log[-1]
            logger.info("  last validation loss %.4f %s", last["loss"], _rounded(last["tasks"]))
        logger.info(
            "  %d samples, %.3f h of audio, %d skipped steps, %d non-finite losses, %.0f s; final model in %s",
            state.samples,
            state.audio_seconds / 3600,
            state.skipped_steps,
            state.nonfinite_losses,
            seconds,
            final,
        )


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 4) for key, value in values.items()}


def _hyperparameters(recipe: Recipe) -> dict[str, Any]:
    """The recipe flattened to the scalar values TensorBoard's hparams accept."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}{key}.", item)
        else:
            key = prefix[:-1]
            flat[key] = value if isinstance(value, (int, float, str, bool)) else str(value)

    walk("", recipe.to_dict())
    return flat
