"""Worked examples for the SpeechVerse metrics; every expected number is computed by hand in the comments."""

import math
import socket

import evaluate
import pytest

from modeling_speechverse.evaluation import METRIC_NAMES, load_metric, metric_path, metric_score, normalize_text


@pytest.fixture(scope="module")
def metrics() -> dict[str, evaluate.EvaluationModule]:
    return {name: load_metric(name) for name in METRIC_NAMES}


def test_normalize_text():
    assert normalize_text("  Hello,   World! It’s $5.") == "hello world it's $5"
    assert normalize_text("ＡＢＣ 50%") == "abc 50"
    assert normalize_text("Play_Radio") == "play radio"
    assert normalize_text("well-known\tfact\n") == "well known fact"
    assert normalize_text("?!...") == ""
    with pytest.raises(ValueError, match="expects a string"):
        normalize_text(3)


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_every_metric_loads_offline_with_evaluate_load(name, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    path = metric_path(name)
    assert path.is_absolute() and path.is_file()
    module = evaluate.load(str(path), keep_in_memory=True)
    assert isinstance(module, evaluate.Metric)
    assert type(module).__name__ == type(load_metric(name)).__name__


def test_unknown_metric_name_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown metric 'cer'"):
        load_metric("cer")


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_no_examples_is_a_clear_error(name, metrics):
    with pytest.raises(ValueError, match="at least one"):
        metrics[name].compute(predictions=[], references=[])


# ---------------------------------------------------------------------------------------------------------------- WER


def test_wer_is_corpus_level_with_normalisation_and_empty_reference(metrics):
    # "the cat sat on the mat" (6 words) vs "the cat sat on a mat": 1 substitution
    # "hello world" (2 words) vs "hello": 1 deletion
    # "" (0 words) vs "uh": 1 insertion
    # corpus WER = 3 / 8 = 0.375 (the mean of per-utterance WERs would be different and undefined for the last one)
    result = metrics["wer"].compute(
        predictions=["the cat sat on a mat", "hello", "uh"],
        references=["The cat sat on the mat.", "Hello, world!", ""],
    )
    assert result["wer"] == pytest.approx(0.375)
    assert (result["substitutions"], result["deletions"], result["insertions"]) == (1, 1, 1)
    assert (result["hits"], result["reference_words"]) == (6, 8)
    assert metric_score("wer", result) == pytest.approx(37.5)


def test_wer_empty_hypothesis_deletes_every_word(metrics):
    # 3 reference words, nothing recognised: 3 deletions / 3 words
    assert metrics["wer"].compute(predictions=[""], references=["a b c"])["wer"] == 1.0


def test_wer_normalisation_ignores_case_punctuation_and_apostrophe_style(metrics):
    assert metrics["wer"].compute(predictions=["IT’S  ok"], references=["it's OK."])["wer"] == 0.0


def test_wer_with_all_references_empty(metrics):
    # N = 0: nothing to recognise; 0.0 if nothing was output, inf once anything was inserted
    assert metrics["wer"].compute(predictions=["", "..."], references=["", "!"])["wer"] == 0.0
    assert math.isinf(metrics["wer"].compute(predictions=["", "x"], references=["", ""])["wer"])


# --------------------------------------------------------------------------------------------------------------- BLEU


def test_bleu_worked_example(metrics):
    # hyp "the cat sat on mat" (c = 5) vs ref "the cat sat on the mat" (r = 6)
    # n-gram matches: 1-gram 5/5, 2-gram 3/4 ("on mat" unmatched), 3-gram 2/3, 4-gram 1/2
    # geometric mean = (1 * 3/4 * 2/3 * 1/2) ** (1/4) = 0.25 ** 0.25 = 0.70711
    # BP = exp(1 - 6/5) = 0.81873 -> BLEU = 57.893
    result = metrics["bleu"].compute(predictions=["the cat sat on mat"], references=["the cat sat on the mat"])
    assert result["score"] == pytest.approx(100 * 0.25**0.25 * math.exp(-0.2))
    assert result["counts"] == [5, 3, 2, 1] and result["totals"] == [5, 4, 3, 2]
    assert metric_score("bleu", result) == pytest.approx(57.893, abs=1e-3)


def test_bleu_empty_hypothesis_only_lengthens_the_references(metrics):
    # The empty hypothesis adds no n-grams, its reference adds 2 words: c = 5, r = 8
    # BLEU = 0.25 ** 0.25 * exp(1 - 8/5) = 0.70711 * 0.54881 = 38.807
    result = metrics["bleu"].compute(
        predictions=["the cat sat on mat", ""], references=["the cat sat on the mat", "hello world"]
    )
    assert result["score"] == pytest.approx(100 * 0.25**0.25 * math.exp(-0.6))


def test_bleu_empty_reference_makes_hypothesis_ngrams_unmatched(metrics):
    # "a b" against "": 2 more unmatched 1-grams, 1 more unmatched 2-gram; c = 7 > r = 6 so BP = 1
    # precisions 5/7, 3/5, 2/3, 1/2 -> product 1/7 -> BLEU = 100 * (1/7) ** 0.25 = 61.479
    result = metrics["bleu"].compute(
        predictions=["the cat sat on mat", "a b"], references=["the cat sat on the mat", ""]
    )
    assert result["score"] == pytest.approx(100 * (1 / 7) ** 0.25)
    assert result["bp"] == 1.0


def test_bleu_is_case_sensitive_unless_asked(metrics):
    # Cased, "The" matches nothing: 1-grams 4/5, 2-grams 2/4 ("cat sat", "sat on"), 3-grams 1/3, 4-grams 0/2.
    # With lowercase=True the counts and the score are those of the first worked example.
    cased = metrics["bleu"].compute(predictions=["The cat sat on mat"], references=["the cat sat on the mat"])
    lowercased = metrics["bleu"].compute(
        predictions=["The cat sat on mat"], references=["the cat sat on the mat"], lowercase=True
    )
    assert cased["counts"] == [4, 2, 1, 0]
    assert lowercased["counts"] == [5, 3, 2, 1]
    assert lowercased["score"] == pytest.approx(100 * 0.25**0.25 * math.exp(-0.2))


# ------------------------------------------------------------------------------------------------ accuracy and UAR


def test_accuracy_exact_match_after_normalisation(metrics):
    # "Play_Radio" == "play_radio" and "Weather_Query." == "weather_query" after normalisation; "" and "alarm_set"
    # are wrong -> 2 / 4
    result = metrics["accuracy"].compute(
        predictions=["Play_Radio", "Weather_Query.", "", "alarm_set"],
        references=["play_radio", "weather_query", "alarm_query", "alarm_query"],
    )
    assert result == {"accuracy": 0.5, "correct": 2}
    assert metric_score("accuracy", result) == 50.0


def test_accuracy_rejects_empty_reference(metrics):
    with pytest.raises(ValueError, match=r"indices \[1\] are empty"):
        metrics["accuracy"].compute(predictions=["yes", ""], references=["yes", "?"])


def test_uar_is_mean_recall_over_reference_classes(metrics):
    # class a: 3 references, 1 right -> 1/3; class b: 2 references, 2 right -> 1; class c: 1 reference, 0 right -> 0
    # UAR = (1/3 + 1 + 0) / 3 = 4/9 (accuracy would be 3/6); the empty prediction is a miss for class a
    result = metrics["uar"].compute(
        predictions=["A", "b", "", "B.", "b", "a"], references=["a", "a", "a", "b", "b", "c"]
    )
    assert result["uar"] == pytest.approx(4 / 9)
    assert result["recall_per_class"] == pytest.approx({"a": 1 / 3, "b": 1.0, "c": 0.0})


def test_uar_ignores_predicted_classes_absent_from_references(metrics):
    # "d" is never a reference class: it is a miss for "a" and does not add a class -> (0 + 1) / 2
    assert metrics["uar"].compute(predictions=["d", "b"], references=["a", "b"])["uar"] == 0.5


def test_uar_rejects_empty_reference(metrics):
    with pytest.raises(ValueError, match=r"indices \[0\] are empty"):
        metrics["uar"].compute(predictions=["a"], references=[""])


# ----------------------------------------------------------------------------------------------------------- KWE F1


def test_macro_f1_averages_per_utterance_keyword_f1(metrics):
    # 1: P = {paris, france, capital}, G = {paris, france}: 2 * 2 / (3 + 2) = 0.8
    # 2: empty prediction, G = {london}: 0
    # 3: P = {x}, empty reference: 0
    # 4: both empty: 1
    # 5: "New-York" and "new york" collapse: P = {new york}, G = {new york, city}: 2 * 1 / (1 + 2) = 2/3
    # macro F1 = (0.8 + 0 + 0 + 1 + 2/3) / 5 = 0.49333
    result = metrics["macro_f1"].compute(
        predictions=[["Paris", "france ", "capital"], [], ["x"], [], ["New-York", "new york"]],
        references=[["paris", "France"], ["london"], [], [], ["new york", "city"]],
    )
    assert result["macro_f1"] == pytest.approx((0.8 + 0 + 0 + 1 + 2 / 3) / 5)


# ------------------------------------------------------------------------------------------------- SD-F1 and SLU-F1


SLOT_PREDICTIONS = [
    [("date", "today"), ("place_name", "new work")],
    [],
    [("time", "five pm")],
    [("date", "friday")],
]
SLOT_REFERENCES = [
    [("date", "today"), ("place_name", "New York!")],
    [("person", "john")],
    [],
    [("date", "monday"), ("date", "friday")],
]


def test_sd_f1_counts_slot_types_only(metrics):
    # 1: date, place_name both detected (values ignored): TP 2
    # 2: person missed: FN 1;  3: time spurious: FP 1;  4: one of two dates found: TP 1, FN 1
    # TP 3, FP 1, FN 2 -> P = 3/4, R = 3/5, F1 = 2 * 3 / (2 * 3 + 1 + 2) = 2/3
    result = metrics["sd_f1"].compute(predictions=SLOT_PREDICTIONS, references=SLOT_REFERENCES)
    assert (result["true_positives"], result["false_positives"], result["false_negatives"]) == (3, 1, 2)
    assert result["precision"] == pytest.approx(3 / 4)
    assert result["recall"] == pytest.approx(3 / 5)
    assert result["sd_f1"] == pytest.approx(2 / 3)


def test_sd_f1_counts_types_as_multisets(metrics):
    # gold {date, place}, predicted {date, time, date}: TP 1 (date), FP 2 (time, 2nd date), FN 1 (place)
    # P = 1/3, R = 1/2, F1 = 2 / (2 + 2 + 1) = 0.4
    result = metrics["sd_f1"].compute(
        predictions=[[("date", "today"), ("time", "5"), ("Date", "now")]],
        references=[[("date", "tomorrow"), ("place", "paris")]],
    )
    assert result["sd_f1"] == pytest.approx(0.4)


def test_slu_f1_worked_example(metrics):
    # Word distance (WER of the value): "new york" -> "new work" = 1 substitution / 2 words = 0.5
    # Char distance (Levenshtein / longer length): "new york" -> "new work" = 1 / 8 = 0.125
    # Utterance 4: "friday" is matched to gold "friday" (distance 0), not "monday", which is left as a FN.
    # word: TP = 2 + 1 = 3; FP = 0.5 + 1 (time) = 1.5; FN = 0.5 + 1 (person) + 1 (monday) = 2.5
    #       word F1 = 2 TP / (2 TP + FP + FN) = 6 / 10 = 0.6
    # char: TP = 3; FP = 0.125 + 1 = 1.125; FN = 0.125 + 2 = 2.125 -> char F1 = 6 / 9.25
    # SLU:  TP = 6; FP = 2.625; FN = 4.625 -> P = 6 / 8.625, R = 6 / 10.625, F1 = 12 / 19.25
    result = metrics["slu_f1"].compute(predictions=SLOT_PREDICTIONS, references=SLOT_REFERENCES)
    assert result["word_f1"] == pytest.approx(0.6)
    assert result["char_f1"] == pytest.approx(6 / 9.25)
    assert result["slu_precision"] == pytest.approx(6 / 8.625)
    assert result["slu_recall"] == pytest.approx(6 / 10.625)
    assert result["slu_f1"] == pytest.approx(12 / 19.25)
    assert metric_score("slu_f1", result) == pytest.approx(100 * 12 / 19.25)


def test_slu_f1_word_distance_is_not_capped(metrics):
    # gold "a" vs predicted "b c d": word distance = 3 edits / 1 word = 3 -> word TP 1, FP 3, FN 3 -> F1 = 2 / 8
    # char distance = Levenshtein("a", "b c d") / 5 = 5 / 5 = 1 -> char TP 1, FP 1, FN 1 -> F1 = 2 / 4
    # SLU: TP 2, FP 4, FN 4 -> F1 = 4 / 12
    result = metrics["slu_f1"].compute(predictions=[[("x", "b c d")]], references=[[("x", "a")]])
    assert result["word_f1"] == pytest.approx(0.25)
    assert result["char_f1"] == pytest.approx(0.5)
    assert result["slu_f1"] == pytest.approx(1 / 3)


def test_slu_f1_empty_predictions_and_references(metrics):
    # Nothing predicted: TP 0 -> F1 0. Nothing predicted and nothing to find: SLURP's convention gives 0 as well.
    assert metrics["slu_f1"].compute(predictions=[[]], references=[[("date", "today")]])["slu_f1"] == 0.0
    assert metrics["slu_f1"].compute(predictions=[[], []], references=[[], []])["slu_f1"] == 0.0
    assert metrics["sd_f1"].compute(predictions=[[]], references=[[]])["sd_f1"] == 0.0
    # Empty gold value: distance 1 to a non-empty prediction, 0 to an empty one
    result = metrics["slu_f1"].compute(predictions=[[("x", "a"), ("y", "")]], references=[[("x", "."), ("y", "")]])
    # word and char: TP 2, FP 1, FN 1 -> F1 = 4 / 6
    assert result["slu_f1"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("name", ["sd_f1", "slu_f1"])
def test_slot_metrics_reject_malformed_pairs(name, metrics):
    with pytest.raises(ValueError, match=r"predictions\[0\] holds \['date'\]"):
        metrics[name].compute(predictions=[[["date"]]], references=[[("date", "today")]])
