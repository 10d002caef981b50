"""Plan the synthetic corpus: which text, voice, prosody and target every example gets.

Planning is cheap and pure (no audio): it returns JSON-able *specs* (every output column except `audio` and
`duration`, plus a `render` recipe) that `render.py` turns into audio in worker processes. Each (task, split) has its
own seeded random generator, so a task's examples do not depend on which other tasks are built. Texts come from
`corpora.Corpora` (split assignment, seen / unseen labels); test examples are spoken only by the voices reserved in
`voices.TEST_VARIANTS`.

Emotion (ER) is synthetic: espeak-ng has no emotional voices, so the four emotions are rendered as prosody
(`EMOTION_PROSODY`: SSML pitch, pitch range, rate and volume) on emotionally neutral Multi30k image captions chosen
independently of the label; only the voice carries the label. It is a proxy for the paper's MSP-Podcast data, not a
model of real emotional speech.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import yake

from ..tasks import HELD_OUT_TASKS, get_task
from .corpora import VALIDATION_FRACTION, WORD, Corpora, content_words
from .nonspeech import NONSPEECH_KINDS
from .voices import ACCENTS, accent_of, variant_of, voices_for_split

Spec = dict[str, Any]

KWS_POSITIVE_FRACTION = 0.7
SF_EMPTY_SHARE = 0.2  # share of SF examples with no slot ("none" target)
KWE_MAX_KEYWORDS = 3
ST_LANGUAGES = (("German", "de"), ("French", "fr"))

# Per-utterance voice variation (espeak -s words/minute, -p pitch 0..99).
SPEED_RANGE = (140, 200)
PITCH_RANGE = (30, 70)
# Narrower for ER so that the emotion's prosody, not the speaker's base setting, dominates.
ER_SPEED_RANGE = (150, 180)
ER_PITCH_RANGE = (40, 60)
# SSML <prosody> offsets per emotion, each drawn uniformly from (low, high): pitch / range / volume in % change,
# rate in % of normal speed.
EMOTION_PROSODY: dict[str, dict[str, tuple[int, int]]] = {
    "neutral": {"pitch": (-5, 5), "range": (-10, 10), "rate": (95, 105), "volume": (-5, 5)},
    "happy": {"pitch": (15, 30), "range": (60, 100), "rate": (108, 120), "volume": (5, 20)},
    "sad": {"pitch": (-25, -15), "range": (-70, -50), "rate": (72, 85), "volume": (-45, -30)},
    "angry": {"pitch": (0, 12), "range": (20, 50), "rate": (112, 128), "volume": (50, 80)},
}
SC_PAUSE_RANGE = (0.2, 0.6)  # seconds between turns / sentences
SNS_NOISY_SPEECH_PROBABILITY = 0.5
SNS_SNR_RANGE = (5.0, 25.0)
NONSPEECH_DURATION_RANGE = (1.0, 5.0)

EMOTIONS = get_task("ER").labels
SENTIMENTS = get_task("ASC").labels
SPEAKER_COUNTS = get_task("SC").labels
SNS_LABELS = get_task("SNS").labels
KWS_LABELS = get_task("KWS").labels
_KEYWORD_EXTRACTOR = yake.KeywordExtractor(lan="en", n=2, top=2 * KWE_MAX_KEYWORDS)


@dataclass(frozen=True)
class Scale:
    """Examples per task: `train_pool` = train + validation (validation is 5% of it), `test` per test task.

    ASR and ST get `TASK_WEIGHTS` times as many (ASR anchors the curriculum; ST has two target languages).
    """

    train_pool: int
    test: int


SCALES = {"tiny": Scale(train_pool=16, test=6), "small": Scale(train_pool=200, test=40), "default": Scale(2000, 200)}
TASK_WEIGHTS = {"ASR": 3, "ST": 2}


def split_sizes(task: str, scale: Scale) -> dict[str, int]:
    """How many examples `task` gets in each split it belongs to (held-out tasks are test only)."""
    weight = TASK_WEIGHTS.get(task, 1)
    if task in HELD_OUT_TASKS:
        return {"test": scale.test * weight}
    pool = scale.train_pool * weight
    validation = max(2, round(pool * VALIDATION_FRACTION))
    return {"train": pool - validation, "validation": validation, "test": scale.test * weight}


class _Planner:
    """Draws texts, voices and prosody for one (task, split) from its own random generator."""

    def __init__(self, corpora: Corpora, task: str, split: str, seed: int) -> None:
        self.corpora, self.task, self.split = corpora, task, split
        self.rng = np.random.default_rng([seed, zlib.crc32(task.encode()), zlib.crc32(split.encode())])
        self.voices = voices_for_split(split)

    def seed(self) -> int:
        return int(self.rng.integers(2**31))

    def cycle(self, items: Sequence[Any]) -> Iterator[Any]:
        """Endless stream of `items` in random order, reshuffled on every pass (re-speaking with new voices)."""
        if not items:
            raise ValueError(f"{self.task}/{self.split}: no source items to draw from")
        while True:
            yield from (items[i] for i in self.rng.permutation(len(items)))

    def mixed(self, pools: Sequence[tuple[str, Sequence[Any]]]) -> Iterator[tuple[str, Any]]:
        """Round-robin over several named source pools, each cycled."""
        streams = [(name, self.cycle(items)) for name, items in pools if items]
        while True:
            for name, stream in streams:
                yield name, next(stream)

    def balanced(self, labels: Sequence[str], n: int) -> list[str]:
        """`n` labels in equal shares (as equal as `n` allows), shuffled."""
        return [labels[i % len(labels)] for i in self.rng.permutation(n)]

    def segment(
        self,
        text: str,
        voice: str | None = None,
        speed_range: tuple[int, int] = SPEED_RANGE,
        pitch_range: tuple[int, int] = PITCH_RANGE,
        prosody: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        return {
            "text": text,
            "voice": voice or str(self.rng.choice(self.voices)),
            "speed": int(self.rng.integers(speed_range[0], speed_range[1] + 1)),
            "pitch": int(self.rng.integers(pitch_range[0], pitch_range[1] + 1)),
            "prosody": prosody,
        }

    def spec(self, index: int, target: Any, source: str, segments: list[dict[str, Any]], **fields: Any) -> Spec:
        """One example: the output columns plus the `render` recipe."""
        voices = list(dict.fromkeys(segment["voice"] for segment in segments))
        spec = {
            "id": f"{self.split}-{self.task.lower()}-{index:06d}",
            "task": self.task,
            "target": get_task(self.task).render_target(target),
            "transcript": " ".join(segment["text"] for segment in segments),
            "instruction": "",
            "keyword": "",
            "target_language": "",
            "labels": [],
            "seen": self.task not in HELD_OUT_TASKS,
            "source": source,
            "voice": ",".join(voices),
            "accent": ",".join(dict.fromkeys(accent_of(voice) for voice in voices)),
            "render": {"segments": segments, "pauses": [], "noise": None, "nonspeech": None},
        }
        spec.update(fields)
        return spec


def extract_keywords(text: str) -> list[str]:
    """YAKE keyphrases of a transcript, best first, lower-cased, without phrases sharing a word with a better one."""
    keywords: list[str] = []
    used: set[str] = set()
    for phrase, _ in _KEYWORD_EXTRACTOR.extract_keywords(text):
        words = phrase.lower().split()
        if words and "," not in phrase and not used & set(words):
            keywords.append(" ".join(words))
            used.update(words)
    return keywords


def _speech_pools(corpora: Corpora, split: str) -> list[tuple[str, list[str]]]:
    return [("slurp", corpora.commands[split]), ("multi30k", [pair.en for pair in corpora.captions[split]])]


def _plan_asr(p: _Planner, n: int) -> list[Spec]:
    pools = _speech_pools(p.corpora, p.split) + [("alpaca", [item.input for item in p.corpora.alpaca[p.split]])]
    draws = p.mixed(pools)
    return [p.spec(i, text, source, [p.segment(text)]) for i, (source, text) in zip(range(n), draws)]


def _plan_st(p: _Planner, n: int) -> list[Spec]:
    pairs = p.cycle(p.corpora.captions[p.split])
    specs = []
    for i, pair in zip(range(n), pairs):
        language, code = ST_LANGUAGES[i % len(ST_LANGUAGES)]
        specs.append(p.spec(i, getattr(pair, code), "multi30k", [p.segment(pair.en)], target_language=language))
    return specs


def _plan_ic(p: _Planner, n: int, intents: Sequence[str]) -> list[Spec]:
    pool = [u for u in p.corpora.slu[p.split] if u.intent in intents]
    return [
        p.spec(i, u.intent, u.source, [p.segment(u.text)], labels=list(intents))
        for i, u in zip(range(n), p.cycle(pool))
    ]


def _plan_sf(p: _Planner, n: int, slot_types: Sequence[str], empty_share: float) -> list[Spec]:
    allowed = set(slot_types)
    with_slots = [u for u in p.corpora.slu[p.split] if u.slots and {s for s, _ in u.slots} <= allowed]
    without = [u for u in p.corpora.slu[p.split] if not u.slots]
    num_empty = round(n * empty_share)
    chosen = [u for _, u in zip(range(n - num_empty), p.cycle(with_slots))]
    chosen += [u for _, u in zip(range(num_empty), p.cycle(without))]
    chosen = [chosen[i] for i in p.rng.permutation(len(chosen))]
    labels = list(slot_types)
    return [p.spec(i, list(u.slots), u.source, [p.segment(u.text)], labels=labels) for i, u in enumerate(chosen)]


def _plan_dc(p: _Planner, n: int) -> list[Spec]:
    labels = list(p.corpora.scenarios)
    return [
        p.spec(i, u.scenario, u.source, [p.segment(u.text)], labels=labels)
        for i, u in zip(range(n), p.cycle(p.corpora.slu["test"]))
    ]


def _plan_kwe(p: _Planner, n: int) -> list[Spec]:
    specs: list[Spec] = []
    for pair in p.cycle(p.corpora.captions[p.split]):
        if len(specs) == n:
            break
        keywords = extract_keywords(pair.en)
        if keywords:
            specs.append(p.spec(len(specs), keywords[:KWE_MAX_KEYWORDS], "multi30k", [p.segment(pair.en)]))
    return specs


def _plan_kws(p: _Planner, n: int) -> list[Spec]:
    vocabulary = p.corpora.vocabulary[p.split]
    num_positive = round(n * KWS_POSITIVE_FRACTION)
    answers = [KWS_LABELS[0]] * num_positive + [KWS_LABELS[1]] * (n - num_positive)
    answers = [answers[i] for i in p.rng.permutation(n)]
    specs: list[Spec] = []
    for source, text in p.mixed(_speech_pools(p.corpora, p.split)):
        if len(specs) == n:
            break
        words = content_words(text)
        if not words:
            continue
        answer = answers[len(specs)]
        if answer == "yes":
            keyword = str(p.rng.choice(words))
        else:
            spoken = set(WORD.findall(text.lower()))
            keyword = str(p.rng.choice(vocabulary))
            while keyword in spoken:
                keyword = str(p.rng.choice(vocabulary))
        specs.append(p.spec(len(specs), answer, source, [p.segment(text)], keyword=keyword, labels=list(KWS_LABELS)))
    return specs


def _emotion_prosody(p: _Planner, emotion: str) -> dict[str, str]:
    ranges = EMOTION_PROSODY[emotion]
    draw = {name: int(p.rng.integers(low, high + 1)) for name, (low, high) in ranges.items()}
    return {
        "pitch": f"{draw['pitch']:+d}%",
        "range": f"{draw['range']:+d}%",
        "rate": f"{draw['rate']:d}%",
        "volume": f"{draw['volume']:+d}%",
    }


def _plan_er(p: _Planner, n: int) -> list[Spec]:
    emotions = p.balanced(EMOTIONS, n)
    captions = p.cycle(p.corpora.captions[p.split])
    specs = []
    for i, emotion in enumerate(emotions):
        prosody = _emotion_prosody(p, emotion)
        segment = p.segment(next(captions).en, speed_range=ER_SPEED_RANGE, pitch_range=ER_PITCH_RANGE, prosody=prosody)
        specs.append(p.spec(i, emotion, "multi30k", [segment], labels=list(EMOTIONS)))
    return specs


def _plan_asc(p: _Planner, n: int) -> list[Spec]:
    pool = p.corpora.sentiment[p.split]
    by_label = {label: [text for text, sentiment in pool if sentiment == label] for label in SENTIMENTS}
    streams = {label: p.cycle(texts) for label, texts in by_label.items()}
    return [
        p.spec(i, label, "goemotions", [p.segment(next(streams[label]))], labels=list(SENTIMENTS))
        for i, label in enumerate(p.balanced(SENTIMENTS, n))
    ]


def _plan_sc(p: _Planner, n: int) -> list[Spec]:
    commands = p.cycle(p.corpora.commands[p.split])
    specs = []
    for i, count in enumerate(p.balanced(SPEAKER_COUNTS, n)):
        num_turns = int(p.rng.integers(2, 4))
        first = p.segment(next(commands))
        if count == "one":
            turns = [first] + [{**first, "text": next(commands)} for _ in range(num_turns - 1)]
        else:
            others = [v for v in p.voices if variant_of(v) != variant_of(first["voice"])]
            second = p.segment(next(commands), voice=str(p.rng.choice(others)))
            turns = [first, second] + [
                {**(first if t % 2 == 0 else second), "text": next(commands)} for t in range(2, num_turns)
            ]
        spec = p.spec(i, count, "slurp", turns, labels=list(SPEAKER_COUNTS))
        spec["render"]["pauses"] = [round(float(p.rng.uniform(*SC_PAUSE_RANGE)), 3) for _ in turns[1:]]
        specs.append(spec)
    return specs


def _plan_ac(p: _Planner, n: int) -> list[Spec]:
    accents = list(ACCENTS.values())
    by_accent = {accent: [v for v in p.voices if accent_of(v) == accent] for accent in accents}
    draws = p.mixed(_speech_pools(p.corpora, p.split))
    specs = []
    for i, accent in enumerate(p.balanced(accents, n)):
        source, text = next(draws)
        voice = str(p.rng.choice(by_accent[accent]))
        specs.append(p.spec(i, accent, source, [p.segment(text, voice=voice)], labels=accents))
    return specs


def _plan_sns(p: _Planner, n: int) -> list[Spec]:
    draws = p.mixed(_speech_pools(p.corpora, p.split))
    specs = []
    for i, answer in enumerate(p.balanced(SNS_LABELS, n)):
        if answer == "speech":
            source, text = next(draws)
            spec = p.spec(i, answer, source, [p.segment(text)], labels=list(SNS_LABELS))
            if p.rng.random() < SNS_NOISY_SPEECH_PROBABILITY:
                spec["render"]["noise"] = {"snr_db": round(float(p.rng.uniform(*SNS_SNR_RANGE)), 2), "seed": p.seed()}
        else:
            spec = p.spec(i, answer, "numpy", [], labels=list(SNS_LABELS))
            spec["render"]["nonspeech"] = {
                "kind": NONSPEECH_KINDS[i % len(NONSPEECH_KINDS)],
                "duration_s": round(float(p.rng.uniform(*NONSPEECH_DURATION_RANGE)), 3),
                "seed": p.seed(),
            }
        specs.append(spec)
    return specs


def _plan_instruct(p: _Planner, n: int) -> list[Spec]:
    return [
        p.spec(i, item.output, "alpaca", [p.segment(item.input)], instruction=item.instruction)
        for i, item in zip(range(n), p.cycle(p.corpora.alpaca[p.split]))
    ]


def _plan_ic_seen(p: _Planner, n: int) -> list[Spec]:
    return _plan_ic(p, n, p.corpora.seen_intents)


def _plan_ic_unseen(p: _Planner, n: int) -> list[Spec]:
    return _plan_ic(p, n, p.corpora.unseen_intents)


def _plan_sf_seen(p: _Planner, n: int) -> list[Spec]:
    return _plan_sf(p, n, p.corpora.seen_slots, SF_EMPTY_SHARE)


def _plan_sf_unseen(p: _Planner, n: int) -> list[Spec]:
    return _plan_sf(p, n, p.corpora.unseen_slots, 0.0)


_PLANNERS = {
    "ASR": _plan_asr,
    "ST": _plan_st,
    "IC": _plan_ic_seen,
    "SF": _plan_sf_seen,
    "KWE": _plan_kwe,
    "KWS": _plan_kws,
    "ER": _plan_er,
    "ASC": _plan_asc,
    "SC": _plan_sc,
    "AC": _plan_ac,
    "SNS": _plan_sns,
    "INSTRUCT": _plan_instruct,
    "DC": _plan_dc,
    "IC-UNSEEN": _plan_ic_unseen,
    "SF-UNSEEN": _plan_sf_unseen,
}


def plan_task(corpora: Corpora, task: str, split: str, n: int, seed: int) -> list[Spec]:
    """The specs of `n` examples of `task` in `split` (deterministic in `seed`)."""
    if task not in _PLANNERS:
        raise ValueError(f"unknown task {task!r}; expected one of {sorted(_PLANNERS)}")
    return _PLANNERS[task](_Planner(corpora, task, split, seed), n)
