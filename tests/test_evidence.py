"""Tests of autograder.evidence: fetching trained weights, their tie to the initial weights, replays."""

import types

import pytest
import torch
from torch import nn

from autograder.evidence import RowSubset, fetch_weights, generator_copy, init_correlation, listing, replay_rows
from autograder.sandbox.local import InProcessStudent
from autograder.testing import CheckFailure


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 16, 3, padding=1)
        self.out = nn.Conv2d(16, 2, 1)

    def forward(self, x, t):
        return self.out(self.conv(x)) * (1 + t.to(x.dtype)[:, None, None, None] / 1000)


class Other(Net):
    pass


class _Renamed(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 16, 3, padding=1)
        self.head = nn.Conv2d(16, 2, 1)


Renamed = type("Net", (_Renamed,), {})  # the right class name, other layer names


def remote(cls, **edit):
    """A handle to ``cls()`` behind the in-process codec, with ``edit`` applied to its state."""
    model = cls()
    with torch.no_grad():
        for key, fn in edit.items():
            fn(dict(model.named_parameters())[key])
    student = InProcessStudent(types.SimpleNamespace(make=lambda: model))
    return student.make()


def expected() -> dict[str, torch.Tensor]:
    return Net().state_dict()


def test_fetch_weights_returns_the_students_tensors():
    """Are the fetched weights the student's own, on the CPU, with exactly the reference keys?"""
    handle = remote(Net, **{"conv.weight": lambda p: p.fill_(0.25)})
    got = fetch_weights(handle, expected(), "what", class_name="Net", name="result.model", hint="h")
    assert set(got) == set(expected())
    assert torch.equal(got["conv.weight"], torch.full((16, 2, 3, 3), 0.25))


@pytest.mark.parametrize("cls, edit, says", [
    (Other, {}, "result.model is not a Net"),
    (Renamed, {}, "missing: out.bias, out.weight; extra: head.bias, head.weight"),
    (Net, {"conv.weight": lambda p: p.fill_(float("nan"))}, "['conv.weight'] has NaN or infinite values"),
])
def test_fetch_weights_refuses_other_models(cls, edit, says):
    """Does a model of another class, with other keys or with NaN weights fail, saying which?"""
    with pytest.raises(CheckFailure) as info:
        fetch_weights(remote(cls, **edit), expected(), "what", class_name="Net", name="result.model", hint="h")
    assert says in info.value.render()


def test_fetch_weights_refuses_a_wrong_dtype():
    """Are float64 weights refused where the reference has float32?"""
    handle = InProcessStudent(types.SimpleNamespace(make=lambda: Net().double())).make()
    with pytest.raises(CheckFailure, match="wrong shape or dtype"):
        fetch_weights(handle, expected(), "what", class_name="Net", name="m", hint="h")


def test_fetch_weights_refuses_a_plain_value():
    """Is a value that is not a module handle refused, naming what came?"""
    with pytest.raises(CheckFailure, match="m is not a Net"):
        fetch_weights(torch.zeros(3), expected(), "what", class_name="Net", name="m", hint="h")


def test_init_correlation_tells_a_training_from_another_start():
    """Is the median cosine 1 for the initial weights, high after a small move, about 0 from another start?"""
    torch.manual_seed(0)
    initial = {"a": torch.randn(64, 64), "b": torch.randn(512), "small": torch.randn(10)}
    assert init_correlation(initial, initial) == pytest.approx(1.0)
    moved = {k: v + 0.5 * torch.randn_like(v) for k, v in initial.items()}
    # cos = 1 / sqrt(1 + 0.25) for a move of half the weights' scale
    assert init_correlation(moved, initial) == pytest.approx(1 / 1.25 ** 0.5, abs=0.05)
    other = {k: torch.randn_like(v) for k, v in initial.items()}
    assert abs(init_correlation(other, initial)) < 0.1
    with pytest.raises(ValueError, match="256 entries"):
        init_correlation({"small": initial["small"]}, {"small": initial["small"]})


def test_row_subset_gives_the_full_models_rows():
    """Does the wrapped model give the full batch's values on the chosen rows and zeros elsewhere?"""
    torch.manual_seed(1)
    model, x, t = Net(), torch.randn(6, 2, 4, 4), torch.tensor([0, 5, 9, 100, 999, 3])
    rows = torch.tensor([1, 4])
    got = RowSubset(model, rows)(x, t)
    full = model(x, t)
    assert torch.allclose(got[rows], full[rows], atol=1e-6)
    assert torch.equal(got[[0, 2, 3, 5]], torch.zeros(4, 2, 4, 4))


def test_row_subset_slices_a_context_too():
    """Are extra arguments (a context per sample) sliced to the same rows?"""
    seen = []
    model = lambda x, t, c: (seen.append(c), x * c[:, :, None, None])[1]  # noqa: E731
    x, c = torch.ones(4, 2, 1, 1), torch.arange(8.0).reshape(4, 2)
    out = RowSubset(model, torch.tensor([2]))(x, torch.zeros(4, dtype=torch.long), c)
    assert torch.equal(seen[0], c[[2]]) and torch.equal(out[2, :, 0, 0], c[2])


def test_replay_rows():
    """On the CPU: k distinct ascending rows, different between calls; on a GPU: every row."""
    a, b = replay_rows(1000, torch.device("cpu")), replay_rows(1000, torch.device("cpu"))
    assert len(a) == 32 and len(set(a.tolist())) == 32 and torch.equal(a, a.sort().values)
    assert not torch.equal(a, b)  # fresh entropy: a chance of about 1e-60 to be equal
    assert replay_rows(5, torch.device("cpu")).tolist() == [0, 1, 2, 3, 4]
    assert torch.equal(replay_rows(7, torch.device("cuda")), torch.arange(7))


def test_generator_copy_replays_the_draws():
    """Does a copy taken before a call draw what the call drew, whatever the original does next?"""
    g = torch.Generator().manual_seed(3)
    before = generator_copy(g)
    first = torch.randn(5, generator=g)
    assert torch.equal(torch.randn(5, generator=before), first)


def test_listing():
    assert listing(["b", "a"]) == "a, b"
    assert listing([f"k{i}" for i in range(10)], 2) == "k0, k1, ... (10 in all)"
