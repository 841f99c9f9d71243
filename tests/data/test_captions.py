"""The caption grammar: every caption names every attribute, captions vary, and the vocabulary is complete.

Captions are read back by a parser written here, with its own word lists, so
that a caption that drops or confuses an attribute fails whatever the module's
own parser says.
"""

import re
from collections import Counter

import pytest
import torch

from autograder.data.captions import (attributes_of_caption, canonical_caption, canonical_captions,
                                      canonical_digit_caption, digit_of_caption, sample_captions,
                                      sample_digit_captions, split_words, vocabulary)
from autograder.data.shapes import COLOURS, POSITIONS, SHAPES, SIZES, all_tuples

# The words that name each value, written out independently of the module.
WORDS = {
    "shape": {"circle": "circle disc disk", "square": "square box block", "triangle": "triangle pyramid",
              "cross": "cross plus", "diamond": "diamond rhombus lozenge", "ring": "ring annulus donut hoop",
              "star": "star"},
    "colour": {"red": "red crimson scarlet", "green": "green emerald lime", "blue": "blue azure cobalt",
               "yellow": "yellow golden lemon", "magenta": "magenta purple fuchsia",
               "cyan": "cyan turquoise aqua", "white": "white ivory snowy"},
    "position": {"left": "left", "right": "right", "top": "top upper", "bottom": "bottom lower low",
                 "centre": "centre center middle centred"},
    "size": {"small": "small little tiny", "large": "large big huge"},
}
TABLES = {"shape": SHAPES, "colour": COLOURS, "position": POSITIONS, "size": SIZES}
NUMBERS = "zero one two three four five six seven eight nine".split()


def parse(phrase: str) -> tuple[int, int, int, int]:
    """(shape, colour, position, size) named in ``phrase``; fails if an attribute is named by none or two values."""
    found = []
    for attribute, values in WORDS.items():
        hits = {v for v, words in values.items() if re.search(rf"\b(?:{'|'.join(words.split())})\b", phrase, re.I)}
        assert len(hits) == 1, f"{attribute} in {phrase!r}: {hits or 'none'}"
        found.append(TABLES[attribute].index(hits.pop()))
    return tuple(found)


def parse_pair(caption: str) -> list[tuple[int, int, int, int]]:
    """Both objects of a two-object caption, split at its one connector."""
    parts = re.split(r"\b(?:and|next to|beside)\b", caption)
    assert len(parts) == 2, caption
    return [parse(p) for p in parts]


def captions_of(attributes, seed=0, second=None):
    return sample_captions(attributes, torch.Generator().manual_seed(seed), second=second)


def test_every_caption_names_every_attribute():
    """For every tuple (3 draws each), does the caption name each attribute's value, and parse back to it?"""
    tuples = all_tuples().repeat(3, 1)
    captions = captions_of(tuples)
    for row, caption in zip(tuples.tolist(), captions):
        assert parse(caption) == tuple(row), caption
        assert attributes_of_caption(caption).tolist() == [row], caption


def test_two_object_captions_name_both():
    """Does a two-object caption name both objects, in order, split by one connector?"""
    tuples = all_tuples()
    first, second = tuples, tuples.flip(0)
    captions = captions_of(first, seed=1, second=second)
    for a, b, caption in zip(first.tolist(), second.tolist(), captions):
        assert parse_pair(caption) == [tuple(a), tuple(b)], caption
        assert attributes_of_caption(caption).tolist() == [a, b], caption


def test_captions_of_one_tuple_vary():
    """Does one tuple get many captions, in many word orders, with every synonym used?"""
    row = torch.tensor([[SHAPES.index("circle"), COLOURS.index("red"), POSITIONS.index("left"), SIZES.index("small")]])
    captions = captions_of(row.repeat(400, 1))
    assert len(set(captions)) > 150
    orders = Counter()
    for caption in captions:
        first_word = {}
        for attribute, values in WORDS.items():
            words = values[TABLES[attribute][row[0, list(WORDS).index(attribute)]]].split()
            first_word[attribute] = min(m.start() for m in re.finditer(rf"\b(?:{'|'.join(words)})\b", caption, re.I))
        orders[tuple(sorted(first_word, key=first_word.get))] += 1
    assert len(orders) >= 5, orders
    used = {w for c in captions for w in split_words(c)}
    for attribute, values in WORDS.items():
        name = TABLES[attribute][row[0, list(WORDS).index(attribute)]]
        assert set(values[name].split()) <= used, (attribute, name)


def test_sampling_is_deterministic_given_the_generator():
    """Do equal generators give equal captions, and different seeds different ones?"""
    tuples = all_tuples()[:50]
    assert captions_of(tuples, seed=3) == captions_of(tuples, seed=3)
    assert captions_of(tuples, seed=3) != captions_of(tuples, seed=4)


def test_every_token_is_in_the_vocabulary_and_every_word_is_used():
    """Are all tokens of sampled captions (shapes, pairs, digits) in vocabulary(), and each vocabulary word produced?"""
    tuples = all_tuples().repeat(8, 1)
    captions = captions_of(tuples, seed=5) + captions_of(tuples[:1000], seed=6, second=tuples[1000:2000])
    digits = torch.arange(10).repeat(300)
    captions += sample_digit_captions(digits, torch.Generator().manual_seed(7))
    vocab = vocabulary()
    assert list(vocab) == sorted(set(vocab)) and all(w == w.lower() for w in vocab)
    tokens = {t for c in captions for t in split_words(c)}
    assert tokens - set(vocab) == set()
    assert set(vocab) - tokens == set()


def test_articles_agree():
    """Is "an" used before a vowel sound (and "8") and "a" elsewhere, with "a one" left alone?"""
    tuples = all_tuples().repeat(4, 1)
    captions = captions_of(tuples, seed=8) + sample_digit_captions(torch.arange(10).repeat(50))
    for caption in captions:
        words = split_words(caption)
        for word, after in zip(words, words[1:]):
            if word == "a":
                assert not re.match(r"[aeiou8]", after) or after == "one", caption
            if word == "an":
                assert re.match(r"[aeiou8]", after) and after != "one", caption


def test_canonical_captions():
    """Is the canonical caption fixed, one per tuple, the documented form, and does it parse back?"""
    tuples = all_tuples()
    captions = canonical_captions(tuples)
    assert len(set(captions)) == len(tuples)
    assert captions == canonical_captions(tuples)
    row = [SHAPES.index("circle"), COLOURS.index("red"), POSITIONS.index("left"), SIZES.index("small")]
    assert canonical_caption(row) == "a small red circle on the left"
    other = [SHAPES.index("triangle"), COLOURS.index("blue"), POSITIONS.index("top"), SIZES.index("large")]
    assert canonical_caption(row, other) == "a small red circle on the left and a large blue triangle at the top"
    for r, caption in zip(tuples.tolist(), captions):
        assert parse(caption) == tuple(r)
    pairs = canonical_captions(tuples[:20], second=tuples[20:40])
    assert [parse_pair(c) for c in pairs] == [[tuple(a), tuple(b)] for a, b in zip(tuples[:20].tolist(),
                                                                                  tuples[20:40].tolist())]


def test_digit_captions():
    """Does each digit caption name its digit (by word or numeral), with several forms per digit?"""
    digits = torch.arange(10).repeat(40)
    captions = sample_digit_captions(digits, torch.Generator().manual_seed(9))
    for d, caption in zip(digits.tolist(), captions):
        named = {NUMBERS.index(w) if w in NUMBERS else int(w) for w in re.findall(r"[a-z]+|\d", caption.lower())
                 if w in NUMBERS or w.isdigit()}
        assert named == {d}, caption
        assert digit_of_caption(caption) == d
    for d in range(10):
        assert len({c for c, e in zip(captions, digits.tolist()) if e == d}) >= 6
    assert canonical_digit_caption(7) == "a handwritten seven"


def test_parser_on_free_text():
    """Does attributes_of_caption read free phrasings, and give -1 for a missing or contradictory attribute?"""
    assert attributes_of_caption("A big purple hoop, up top!").tolist() == [[5, 4, 2, 1]]
    assert attributes_of_caption("a red thing").tolist() == [[-1, 0, -1, -1]]
    assert attributes_of_caption("a red blue circle").tolist() == [[0, -1, -1, -1]]
    assert digit_of_caption("no digit here") == -1 and digit_of_caption("a 3 or a 4") == -1


def test_bad_attributes_are_refused():
    """Do out-of-range or mis-shaped attributes raise a ValueError?"""
    with pytest.raises(ValueError, match="position must be in 0..4"):
        sample_captions(torch.tensor([[0, 0, 5, 0]]))
    with pytest.raises(ValueError, match="one row per caption"):
        sample_captions(all_tuples()[:3], second=all_tuples()[:2])
    with pytest.raises(ValueError, match="0..9"):
        sample_digit_captions(torch.tensor([10]))
