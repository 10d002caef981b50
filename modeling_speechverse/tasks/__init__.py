"""The task layer: task registry, instruction banks, target rendering/parsing and joint decoding.

>>> import random
>>> from modeling_speechverse.tasks import get_task
>>> task = get_task("KWS")
>>> task.sample_instruction(random.Random(0), keyword="radio")  # doctest: +SKIP
"Is the word 'radio' used in the audio?"
>>> task.parse_prediction(" Yes. ")
'yes'
"""

from .formats import FORMATS, NONE_TARGET, SLOT_ASSIGN, SLOT_SEPARATOR, label_key
from .joint import JointPrediction, build_joint_instruction, joint_target, make_joint_example, parse_joint
from .registry import HELD_OUT_TASKS, TASKS, TRAINING_TASKS, get_task
from .task import METRICS, Task, format_label_list, humanize_label

__all__ = [
    "FORMATS",
    "HELD_OUT_TASKS",
    "METRICS",
    "NONE_TARGET",
    "SLOT_ASSIGN",
    "SLOT_SEPARATOR",
    "TASKS",
    "TRAINING_TASKS",
    "JointPrediction",
    "Task",
    "build_joint_instruction",
    "format_label_list",
    "get_task",
    "humanize_label",
    "joint_target",
    "label_key",
    "make_joint_example",
    "parse_joint",
]
