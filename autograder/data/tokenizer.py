"""A word-level tokenizer for the captions: ids ``(B, L)`` int64 and a padding mask ``(B, L)`` bool.

Tokens are those of :func:`autograder.data.captions.split_words` (lower case,
each punctuation mark alone). The ids are fixed: ``0`` padding, ``1`` an
unknown word, ``2`` the start and ``3`` the end of a caption, then the
vocabulary in sorted order. Every caption becomes ``[BOS, words..., EOS]``,
cut to ``max_len`` (the end token is kept) and padded with ``PAD``; the mask
is True on real tokens. So the empty caption (the null prompt of
classifier-free guidance) is ``[BOS, EOS]``, never an all-padding row that an
attention layer could not normalise, and the end token's state can serve as a
pooled summary, as in CLIP.
"""

from collections.abc import Iterable, Sequence
from functools import lru_cache

import torch

from .captions import split_words, vocabulary

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIAL_TOKENS = (PAD, UNK, BOS, EOS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = range(4)
MAX_LEN = 48  # longer than any caption of the grammar, two objects included


class WordTokenizer:
    """Maps captions to ids over a fixed word list (default: :func:`vocabulary`); unknown words get UNK_ID."""

    def __init__(self, words: Iterable[str] | None = None):
        words = sorted(set(vocabulary() if words is None else words))
        bad = [w for w in words if w in SPECIAL_TOKENS or split_words(w) != [w]]
        if bad:
            raise ValueError(f"words must be single lower-case tokens and not special tokens, got {bad[:5]}")
        self.tokens = SPECIAL_TOKENS + tuple(words)  # id -> token
        self.ids = {t: i for i, t in enumerate(self.tokens)}  # token -> id

    @property
    def vocab_size(self) -> int:
        """The number of ids, special tokens included."""
        return len(self.tokens)

    def __call__(self, captions: Sequence[str], max_len: int = MAX_LEN) -> tuple[torch.Tensor, torch.Tensor]:
        """Ids ``(B, L)`` int64 and mask ``(B, L)`` bool (True on real tokens) of ``captions``, ``L = max_len``."""
        if isinstance(captions, str) or not all(isinstance(c, str) for c in captions):
            raise ValueError("captions must be a list of strings (wrap a single caption in a list)")
        if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 2:
            raise ValueError(f"max_len must be an int >= 2 (room for the start and end tokens), got {max_len!r}")
        ids = torch.full((len(captions), max_len), PAD_ID, dtype=torch.int64)  # (B, L)
        for row, caption in enumerate(captions):
            words = [self.ids.get(w, UNK_ID) for w in split_words(caption)][: max_len - 2]
            tokens = [BOS_ID, *words, EOS_ID]
            ids[row, : len(tokens)] = torch.tensor(tokens)
        return ids, ids != PAD_ID

    def decode(self, ids: torch.Tensor) -> list[str]:
        """The words of each row of ``ids`` ``(B, L)``, joined by spaces, without special tokens (UNK shown)."""
        return [" ".join(self.tokens[i] for i in row if i not in (PAD_ID, BOS_ID, EOS_ID)) for row in ids.tolist()]


@lru_cache(maxsize=1)
def default_tokenizer() -> WordTokenizer:
    """The tokenizer over the grammar's vocabulary (shared; it holds no state that changes)."""
    return WordTokenizer()


def tokenize(captions: Sequence[str], max_len: int = MAX_LEN) -> tuple[torch.Tensor, torch.Tensor]:
    """Ids ``(B, max_len)`` int64 and mask ``(B, max_len)`` bool of ``captions`` with :func:`default_tokenizer`."""
    return default_tokenizer()(captions, max_len)
