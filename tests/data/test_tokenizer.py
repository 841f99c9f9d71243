"""The word tokenizer: ids, padding mask, special tokens, unknown words and truncation."""

import pytest
import torch

from autograder.data.captioned import make_shapes
from autograder.data.captions import vocabulary
from autograder.data.tokenizer import (BOS_ID, EOS_ID, MAX_LEN, PAD_ID, UNK_ID, WordTokenizer, default_tokenizer,
                                       tokenize)


def word_id(word: str) -> int:
    """The documented id of a vocabulary word: 4 special tokens, then the sorted vocabulary."""
    return 4 + sorted(vocabulary()).index(word)


def test_ids_mask_and_special_tokens():
    """Is a caption [BOS, words, EOS] then padding, with the mask True exactly on real tokens?"""
    ids, mask = tokenize(["a red circle", "Big box."], max_len=8)
    assert ids.dtype == torch.int64 and mask.dtype == torch.bool and ids.shape == mask.shape == (2, 8)
    assert (PAD_ID, UNK_ID, BOS_ID, EOS_ID) == (0, 1, 2, 3)
    assert ids[0].tolist() == [BOS_ID, word_id("a"), word_id("red"), word_id("circle"), EOS_ID, 0, 0, 0]
    assert ids[1].tolist() == [BOS_ID, word_id("big"), word_id("box"), word_id("."), EOS_ID, 0, 0, 0]
    assert mask.tolist() == [[True] * 5 + [False] * 3] * 2


def test_lower_case_punctuation_and_unknown_words():
    """Are words lower-cased, punctuation split off, and unknown words mapped to UNK?"""
    ids, _ = tokenize(["Left side:a RED,disc", "a zebra-striped circle"], max_len=12)
    assert ids[0, :9].tolist() == [BOS_ID] + [word_id(w) for w in ["left", "side", ":", "a", "red", ",", "disc"]] + [
        EOS_ID]
    assert ids[1, :7].tolist() == [BOS_ID, word_id("a"), UNK_ID, UNK_ID, UNK_ID, word_id("circle"), EOS_ID]


def test_empty_caption_and_truncation():
    """Is the empty caption [BOS, EOS], and a long one cut to max_len with its EOS kept?"""
    ids, mask = tokenize(["", "a small red circle on the left"], max_len=5)
    assert ids[0].tolist() == [BOS_ID, EOS_ID, 0, 0, 0] and mask[0].tolist() == [True, True, False, False, False]
    assert ids[1].tolist() == [BOS_ID, word_id("a"), word_id("small"), word_id("red"), EOS_ID] and mask[1].all()


def test_grammar_captions_fit_and_round_trip():
    """Do all grammar captions (two objects included) fit in MAX_LEN untruncated, and decode to their words?"""
    batch = make_shapes(2000, resolution=8, seed=0, two_objects=True)
    ids, mask = tokenize(batch.captions)
    assert ids.shape == (2000, MAX_LEN)
    assert (ids == EOS_ID).sum(dim=1).eq(1).all() and not (ids == UNK_ID).any()
    assert not mask[:, -1].any()  # never truncated
    tokenizer = default_tokenizer()
    assert tokenizer.vocab_size == 4 + len(vocabulary())
    assert tokenizer.decode(ids[:3]) == [" ".join(w for w in c.lower().replace(",", " , ").replace(":", " : ")
                                                   .replace(".", " .").split()) for c in batch.captions[:3]]


def test_custom_word_list():
    """Does a tokenizer over given words number them in sorted order after the special tokens?"""
    tokenizer = WordTokenizer(["zeta", "alpha"])
    ids, _ = tokenizer(["Alpha zeta beta"], max_len=6)
    assert ids.tolist() == [[BOS_ID, 4, 5, UNK_ID, EOS_ID, PAD_ID]] and tokenizer.vocab_size == 6
    with pytest.raises(ValueError, match="single lower-case tokens"):
        WordTokenizer(["two words"])


def test_bad_arguments():
    """Are a bare string and a max_len below 2 refused with a clear message?"""
    with pytest.raises(ValueError, match="list of strings"):
        tokenize("a red circle")
    with pytest.raises(ValueError, match="max_len must be an int >= 2"):
        tokenize(["a red circle"], max_len=1)
