"""The wire format between the grader and the worker."""

import math
import pickle

import pytest
import torch

from autograder.sandbox.runtime import codec


def roundtrip(value):
    return codec.decode_bytes(codec.encode(value))


@pytest.mark.parametrize("dtype", list(codec.dtypes().values()))
def test_tensors_roundtrip_exactly(dtype):
    """Does every allowed dtype come back bit for bit, with its shape?"""
    t = (torch.randn(3, 4, 2, generator=torch.Generator().manual_seed(0)) * 50).to(dtype)
    back = roundtrip(t)
    assert back.dtype == dtype and back.shape == t.shape
    assert torch.equal(back.view(torch.uint8) if dtype != torch.bool else back,
                       t.view(torch.uint8) if dtype != torch.bool else t)


def test_plain_values_roundtrip():
    """Do containers, numbers (NaN, inf, huge ints), strings, dtypes and devices survive?"""
    value = {"a": [1, 2**80, -0.0, math.inf, None, True, "s"], "b": (torch.float32, torch.device("cpu")),
             "empty": torch.zeros(0, 3), "scalar": torch.tensor(2.5, dtype=torch.float64)}
    back = roundtrip(value)
    assert back["a"][:2] == [1, 2**80] and math.copysign(1, back["a"][2]) == -1 and back["a"][3] == math.inf
    assert back["a"][4:] == [None, True, "s"] and back["b"] == (torch.float32, torch.device("cpu"))
    assert back["empty"].shape == (0, 3) and back["scalar"].item() == 2.5
    assert math.isnan(roundtrip(float("nan")))


def test_dict_with_reserved_key_names():
    """Can a user dict use the codec's own key names without confusing the decoder?"""
    value = {"tensor": 1, "buffers": torch.ones(2), "dict": {"int": "x"}}
    back = roundtrip(value)
    assert back["tensor"] == 1 and torch.equal(back["buffers"], torch.ones(2)) and back["dict"] == {"int": "x"}


def test_generator_state_travels():
    """Does a generator arrive in the same state, drawing the same numbers?"""
    g = torch.Generator().manual_seed(7)
    torch.randn(3, generator=g)
    back = roundtrip(g)
    assert torch.equal(torch.randn(5, generator=g), torch.randn(5, generator=back))


def test_tensor_subclass_is_sent_as_plain_tensor():
    """Does a subclass that lies in __eq__ lose its methods on the way?"""

    class Liar(torch.Tensor):
        def __eq__(self, other):
            return True

    sneaky = torch.zeros(2).as_subclass(Liar)
    back = roundtrip(sneaky)
    assert type(back) is torch.Tensor
    assert not bool((back == torch.ones(2)).all())


@pytest.mark.parametrize("value", [object(), {1: 2}, lambda: 0, b"bytes", torch.nn.Linear(2, 2)])
def test_unsupported_values_are_refused(value):
    """Are arbitrary objects refused instead of being pickled?"""
    with pytest.raises(codec.CodecError):
        codec.encode(value)


def test_pickle_bytes_are_not_a_frame():
    """Does a pickle posing as a reply fail to decode (and never run)?"""
    with pytest.raises(codec.CodecError):
        codec.decode_bytes(pickle.dumps({"ok": True}))


def test_malformed_frames_are_refused():
    """Do truncation, a wrong byte count, an unknown dtype and an oversize frame all raise CodecError?"""
    good = codec.encode(torch.ones(4))
    with pytest.raises(codec.CodecError):
        codec.decode_bytes(good[:-3])
    with pytest.raises(codec.CodecError):
        codec.decode_bytes(good + b"x")
    bad_dtype = good.replace(b'"float32"', b'"object!"')
    with pytest.raises(codec.CodecError):
        codec.decode_bytes(bad_dtype)
    with pytest.raises(codec.CodecError, match="larger than the limit"):
        codec.decode_bytes(codec.encode(torch.ones(1000)), max_bytes=100)
    wrong_count = good.replace(b'"shape": [4]', b'"shape": [5]')
    with pytest.raises(codec.CodecError, match="needs"):
        codec.decode_bytes(wrong_count)


def test_deep_nesting_is_refused():
    """Is a pathologically nested value refused rather than blowing the stack?"""
    value = []
    for _ in range(100):
        value = [value]
    with pytest.raises(codec.CodecError):
        codec.encode(value)
