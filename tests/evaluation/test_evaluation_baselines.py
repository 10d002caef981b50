"""The paralinguistic classifier baseline and the substring keyword-search baseline (paper Section 3.2)."""

import pytest
import torch

from modeling_speechverse.evaluation.baselines import ParalinguisticClassifier, substring_kws


def padded_batch(lengths: list[int], input_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Random features (B, T, D) with large garbage in the padding, and the (B, T) mask of valid frames."""
    num_frames = max(lengths)
    mask = torch.arange(num_frames)[None, :] < torch.tensor(lengths)[:, None]
    features = torch.randn(len(lengths), num_frames, input_size, generator=generator)
    features[~mask] = 1e3
    return features, mask


def test_padded_batch_gives_the_same_logits_as_single_items():
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = ParalinguisticClassifier(input_size=6, num_classes=3, hidden_size=16).eval()
    lengths = [5, 2, 7]
    features, mask = padded_batch(lengths, 6, generator)
    batched = model(features, mask)
    assert batched.shape == (3, 3)
    for index, length in enumerate(lengths):
        single = model(features[index : index + 1, :length])
        torch.testing.assert_close(batched[index : index + 1], single, rtol=1e-5, atol=1e-6)
    # Changing what sits in the padding changes nothing
    features[~mask] = -7.0
    torch.testing.assert_close(model(features, mask), batched, rtol=1e-5, atol=1e-6)


def test_predict_proba_is_the_softmax_of_the_logits():
    torch.manual_seed(0)
    model = ParalinguisticClassifier(input_size=4, num_classes=5, hidden_size=8).eval()
    features = torch.randn(2, 3, 4)
    probabilities = model.predict_proba(features)
    torch.testing.assert_close(probabilities.sum(dim=-1), torch.ones(2))
    torch.testing.assert_close(probabilities, model(features).softmax(dim=-1))


@pytest.fixture
def one_thread():
    # The training loop is tiny; extra intra-op threads only add contention on a shared 2-core machine.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_overfits_a_small_separable_dataset(one_thread):
    # Three classes whose features are N(0, 1) shifted by -0.5, 0 and +0.5: the class is read off the mean feature.
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    num_items, input_size = 24, 8
    labels = torch.arange(num_items) % 3
    lengths = torch.randint(3, 11, (num_items,), generator=generator).tolist()
    features, mask = padded_batch(lengths, input_size, generator)
    features = torch.where(mask[..., None], features + 0.5 * (labels.float() - 1.0)[:, None, None], features)

    model = ParalinguisticClassifier(input_size=input_size, num_classes=3, hidden_size=32)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

    def train_accuracy() -> float:
        model.eval()
        with torch.no_grad():
            accuracy = (model(features, mask).argmax(dim=-1) == labels).float().mean().item()
        model.train()
        return accuracy

    assert train_accuracy() < 1.0
    for step in range(300):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(features, mask), labels).backward()
        optimizer.step()
        if step % 10 == 9 and train_accuracy() == 1.0:
            break
    assert train_accuracy() == 1.0


@pytest.mark.parametrize(
    "features, mask, message",
    [
        (torch.zeros(2, 4, 5), None, r"features must have shape \(batch, frames, 6\)"),
        (torch.zeros(4, 6), None, r"features must have shape \(batch, frames, 6\)"),
        (torch.zeros(2, 4, 6), torch.ones(2, 3), r"mask must have shape \(2, 4\)"),
        (torch.zeros(2, 4, 6), torch.tensor([[1, 1, 0, 0], [0, 0, 0, 0]]), r"items \[1\] have none"),
        (torch.zeros(2, 4, 6), torch.tensor([[1, 0, 1, 0], [1, 1, 1, 1]]), "prefix of each row"),
    ],
)
def test_bad_inputs_are_clear_errors(features, mask, message):
    model = ParalinguisticClassifier(input_size=6, num_classes=2, hidden_size=4)
    with pytest.raises(ValueError, match=message):
        model(features, mask)


def test_bad_sizes_are_clear_errors():
    with pytest.raises(ValueError, match="num_classes >= 2"):
        ParalinguisticClassifier(input_size=6, num_classes=1)


@pytest.mark.parametrize(
    "transcript, keyword, answer",
    [
        ("The cat sat.", "CAT", "yes"),
        ("i love new-york city", "New York", "yes"),
        ("concatenate the files", "cat", "no"),
        ("the cat sat", "dog", "no"),
        ("", "cat", "no"),
    ],
)
def test_substring_kws(transcript, keyword, answer):
    assert substring_kws(transcript, keyword) == answer


def test_substring_kws_rejects_empty_keyword():
    with pytest.raises(ValueError, match="at least one word"):
        substring_kws("the cat", " ?! ")
