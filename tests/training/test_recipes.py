"""Recipes: the shipped files carry Table 11, `extends` and `--set` compose, and bad recipes fail before loading."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from modeling_speechverse.configuration_speechverse import SpeechVerseConfig
from modeling_speechverse.tasks import TRAINING_TASKS
from modeling_speechverse.training import load_recipe, parse_args, validate_recipe
from modeling_speechverse.training.recipe import read_recipe_file
from modeling_speechverse.training.trainer import gradient_accumulation_steps

CONFIGURATION = Path(__file__).resolve().parents[2] / "configuration"
PAPER_TASK_FT = {
    "task-ft-asr": ["ASR"],
    "task-ft-st": ["ST"],
    "task-ft-ic-sf": ["IC", "SF"],
    "task-ft-kwe-kws": ["KWE", "KWS"],
    "task-ft-er-asc": ["ER", "ASC"],
    "task-ft-sc": ["SC"],
    "task-ft-ac": ["AC"],
    "task-ft-sns": ["SNS"],
}


def test_every_shipped_recipe_is_valid():
    names = {path.stem for path in CONFIGURATION.glob("*.yaml")}
    assert {"tiny", "mini", "multitask-wlm", "multitask-brq", "task-ft", *PAPER_TASK_FT} <= names
    for path in CONFIGURATION.glob("*.yaml"):
        assert load_recipe(path).curriculum


@pytest.mark.parametrize(
    "name, lr, warmup, batch, preset",
    [("multitask-wlm", 1e-3, 100, 768, "multitask-wlm"), ("multitask-brq", 5e-3, 50000, 2048, "multitask-brq")],
)
def test_multitask_recipes_follow_table_11(name, lr, warmup, batch, preset):
    recipe = load_recipe(CONFIGURATION / f"{name}.yaml")
    assert (recipe.train.lr, recipe.train.warmup_steps, recipe.train.effective_batch_size) == (lr, warmup, batch)
    assert recipe.model.preset == preset
    assert gradient_accumulation_steps(recipe.train, num_processes=8) * 8 * recipe.train.per_device_batch_size == batch
    assert recipe.data.tasks == list(TRAINING_TASKS)
    config = SpeechVerseConfig.from_preset(preset)
    assert config.lora_rank == 16 and config.audio_token_rate == 12.5  # LoRA r=16, downsampled to 12.5 Hz


def test_curriculum_of_the_paper_recipes():
    for name in ("multitask-wlm", "multitask-brq", *PAPER_TASK_FT):
        recipe = load_recipe(CONFIGURATION / f"{name}.yaml")
        stages = recipe.curriculum
        assert [(stage.lora, recipe.stage_tasks(i)) for i, stage in enumerate(stages[:2])] == [
            (False, ["ASR"]),
            (True, ["ASR"]),
        ]
        assert stages[2].lora and recipe.stage_tasks(2) == recipe.data.tasks
        assert stages[2].patience == 5  # Appendix A.2: stop after 5 evaluations without improvement


def test_task_ft_recipes_train_their_tasks_with_rank_8():
    for name, tasks in PAPER_TASK_FT.items():
        recipe = load_recipe(CONFIGURATION / f"{name}.yaml")
        assert (recipe.name, recipe.data.tasks, recipe.model.preset) == (name, tasks, "task-ft")
        assert SpeechVerseConfig.from_preset("task-ft").lora_rank == 8


def test_extends_merges_sections_and_replaces_lists(tmp_path):
    (tmp_path / "base.yaml").write_text((CONFIGURATION / "tiny.yaml").read_text())
    (tmp_path / "child.yaml").write_text("extends: base.yaml\ntrain:\n  lr: 0.5\ndata:\n  tasks: [ASR, SC]\n")
    recipe = load_recipe(tmp_path / "child.yaml")
    assert recipe.train.lr == 0.5 and recipe.train.max_steps == 32  # merged, not replaced
    assert recipe.data.tasks == ["ASR", "SC"] and recipe.data.task_weights == {"ASR": 2.0}


def test_set_overrides_any_field():
    recipe = load_recipe(
        CONFIGURATION / "tiny.yaml",
        [
            "train.lr=1e-4",
            "data.tasks=[asr, sc]",
            "curriculum.0.max_steps=3",
            "model.lora_rank=2",
            "eval.max_examples=null",
        ],
    )
    assert recipe.train.lr == 1e-4  # PyYAML reads 1e-4 as text; the schema makes it a float
    assert recipe.data.tasks == ["ASR", "SC"]
    assert recipe.curriculum[0].max_steps == 3
    assert recipe.model.lora_rank == 2 and recipe.model.config_overrides()["lora_rank"] == 2
    assert recipe.eval.max_examples is None


@pytest.mark.parametrize(
    "override, message",
    [
        ("train.lrr=0.1", "unknown field train.lrr"),
        ("bogus.field=1", "unknown field bogus"),
        ("train.lr=fast", "train.lr: Input should be a valid number"),
        ("train.max_steps=2.5", "train.max_steps: Input should be a valid integer"),
        ("train.lr=-1", "train.lr: Input should be greater than 0"),
        ("curriculum.0.lora=maybe", "curriculum.0.lora: Input should be a valid boolean"),
        ("data.tasks=[ASR, XYZ]", "unknown task 'XYZ'"),
        ("data.tasks=[ASR, DC]", "held-out tasks"),
        ("data.task_weights={DC: 2.0}", "task_weights names tasks not in data.tasks"),
        ("curriculum.1.max_steps=null", "curriculum.1 ('lora-warmup') never ends"),
        ("model.preset=huge", "unknown preset 'huge'"),
        ("train.schedule=exponential", "train.schedule: Input should be 'constant', 'linear' or 'cosine'"),
        ("checkpoint.every_steps=3", "must be a multiple of logging.every_steps"),
    ],
)
def test_bad_recipes_name_the_problem(override, message):
    with pytest.raises(ValueError, match="invalid recipe") as error:
        load_recipe(CONFIGURATION / "tiny.yaml", [override])
    assert message in str(error.value)


def test_missing_fields_and_malformed_overrides():
    data = read_recipe_file(CONFIGURATION / "tiny.yaml")
    del data["train"]["lr"], data["eval"]
    with pytest.raises(ValueError) as error:
        validate_recipe(data)
    assert "missing field train.lr" in str(error.value) and "missing field eval" in str(error.value)
    with pytest.raises(ValueError, match="must look like section.field=value"):
        load_recipe(CONFIGURATION / "tiny.yaml", ["train.lr"])
    with pytest.raises(ValueError, match="not an index of a list of 3"):
        load_recipe(CONFIGURATION / "tiny.yaml", ["curriculum.7.max_steps=1"])
    with pytest.raises(ValueError, match="does not exist"):
        load_recipe(CONFIGURATION / "no-such-recipe.yaml")


def test_recipe_cycle_is_an_error(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ValueError, match="extends itself"):
        load_recipe(tmp_path / "a.yaml")


def test_command_line_reports_a_bad_recipe_and_exits(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--recipe", str(CONFIGURATION / "tiny.yaml"), "--set", "train.lrr=1"])
    assert exit_info.value.code == 2
    assert "unknown field train.lrr" in capsys.readouterr().err
    recipe, resume = parse_args(["--recipe", str(CONFIGURATION / "tiny.yaml"), "--resume"])
    assert resume is True and recipe.name == "tiny"
    assert parse_args(["--recipe", str(CONFIGURATION / "tiny.yaml"), "--resume", "ckpt"])[1] == "ckpt"


def test_effective_batch_size_must_split_over_processes():
    recipe = load_recipe(CONFIGURATION / "multitask-wlm.yaml")
    assert gradient_accumulation_steps(recipe.train, 8) == 6
    with pytest.raises(ValueError, match=r"must be a multiple of train.per_device_batch_size \(16\) x 5 processes"):
        gradient_accumulation_steps(recipe.train, 5)


def test_recipe_dump_round_trips():
    from modeling_speechverse.training.recipe import dump_recipe

    recipe = load_recipe(CONFIGURATION / "multitask-brq.yaml")
    assert validate_recipe(yaml.safe_load(dump_recipe(recipe))) == recipe
