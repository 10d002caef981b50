"""Training: recipes, the curriculum of Section 2.3, and the accelerate / DeepSpeed training loop (`run`)."""

from .cli import parse_args
from .curriculum import Curriculum, apply_stage, stage_trainable_parameters
from .losses import per_example_loss
from .recipe import Recipe, StageRecipe, load_recipe, validate_recipe
from .trainer import build_model, run

__all__ = [
    "Curriculum",
    "Recipe",
    "StageRecipe",
    "apply_stage",
    "build_model",
    "load_recipe",
    "parse_args",
    "per_example_loss",
    "run",
    "stage_trainable_parameters",
    "validate_recipe",
]
