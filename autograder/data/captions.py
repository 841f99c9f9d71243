"""Captions from a small grammar: sampled ones for training, canonical ones for prompts, and their words.

A shapes caption names every attribute of every object (see
:mod:`autograder.data.shapes`), each by one of its synonyms, in one of the
word orders of :data:`TEMPLATES`, with optional words around it::

    a small red circle on the left
    left side: a tiny crimson disc
    red circle, small, at the left
    There is a little circle painted scarlet, in the left half on black.

With two objects the two phrases are joined by a connector ("and", "next to",
"beside"). A text encoder therefore has to read the words: one attribute
tuple has hundreds of captions. :func:`sample_captions` draws them from a
``torch.Generator`` (one ``torch.rand`` per batch, so they are deterministic
given the generator); :func:`canonical_caption` gives the one fixed caption of
a tuple ("a small red circle on the left"), for evaluation prompts.

Digit captions ("a handwritten seven", "the digit 7") come from
:data:`DIGIT_TEMPLATES` in the same way.

Words. :func:`split_words` lower-cases and splits a caption into words (runs
of letters and digits) and punctuation marks (one token each);
:func:`vocabulary` is every token the grammar can produce.
:func:`attributes_of_caption` and :func:`digit_of_caption` read the
attributes back from a caption by keyword (every synonym contains a word that
names its value alone).
"""

import re
from collections.abc import Sequence

import torch

from .shapes import ATTRIBUTES, COLOURS, POSITION, POSITIONS, SHAPES, SIZES, TABLES, check_attributes

# Synonyms, in the order of the tables in autograder.data.shapes.
SHAPE_WORDS = {
    "circle": ("circle", "disc", "disk"),
    "square": ("square", "box", "block"),
    "triangle": ("triangle", "pyramid"),
    "cross": ("cross", "plus", "plus sign"),
    "diamond": ("diamond", "rhombus", "lozenge"),
    "ring": ("ring", "annulus", "donut", "hoop"),
    "star": ("star", "five pointed star"),
}
COLOUR_WORDS = {
    "red": ("red", "crimson", "scarlet"),
    "green": ("green", "emerald", "lime"),
    "blue": ("blue", "azure", "cobalt"),
    "yellow": ("yellow", "golden", "lemon"),
    "magenta": ("magenta", "purple", "fuchsia"),
    "cyan": ("cyan", "turquoise", "aqua"),
    "white": ("white", "ivory", "snowy"),
}
SIZE_WORDS = {
    "small": ("small", "little", "tiny"),
    "large": ("large", "big", "huge"),
}
# Where the object is, as an adverbial phrase ...
POSITION_PHRASES = {
    "left": ("on the left", "at the left", "to the left", "on the left side", "in the left half"),
    "right": ("on the right", "at the right", "to the right", "on the right side", "in the right half"),
    "top": ("at the top", "on top", "near the top", "in the upper half", "up top"),
    "bottom": ("at the bottom", "near the bottom", "in the lower half", "on the bottom", "down low"),
    "centre": ("in the centre", "in the center", "in the middle", "at the centre", "centred"),
}
# ... or as a label before a colon ("left side: a red disc").
POSITION_LABELS = {
    "left": ("left", "left side", "left half"),
    "right": ("right", "right side", "right half"),
    "top": ("top", "top side", "upper half"),
    "bottom": ("bottom", "bottom side", "lower half"),
    "centre": ("centre", "center", "middle"),
}
# The word of each value that the parser looks for (each synonym phrase contains one).
POSITION_KEYWORDS = {
    "left": ("left",), "right": ("right",), "top": ("top", "upper"), "bottom": ("bottom", "lower", "low"),
    "centre": ("centre", "center", "middle", "centred"),
}
CANONICAL_POSITION = {"left": "on the left", "right": "on the right", "top": "at the top",
                      "bottom": "at the bottom", "centre": "in the centre"}

DETERMINERS = ("a", "one", "a single", "the")
PAINTED = ("coloured", "colored", "painted")
# (template, whether it starts with a determiner, so that an intro may come before it)
TEMPLATES = (
    ("{det} {size} {colour} {shape} {position}", True),
    ("{label}: {det} {size} {colour} {shape}", False),
    ("{colour} {shape}, {size}, {position}", False),
    ("{position}, {det} {size} {colour} {shape}", False),
    ("{det} {size} {shape} in {colour} {position}", True),
    ("{det} {size} {shape} {painted} {colour}, {position}", True),
    ("{det} {colour} {shape} of {size} size {position}", True),
    ("{shape}, {colour}, {size}, {position}", False),
)
INTROS = ("a picture of", "an image of", "a drawing of", "there is", "here is", "showing")
SUFFIXES = ("on a black background", "on black", "against a dark background")
CONNECTORS = ("and", "next to", "beside")

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# {word}: the digit's name, {numeral}: "7"
DIGIT_TEMPLATES = (
    ("a handwritten {word}", True),
    ("a handwritten {numeral}", True),
    ("the digit {numeral}", True),
    ("the digit {word}", True),
    ("the number {word}", True),
    ("a hand drawn {numeral}", True),
    ("{word}, written by hand", False),
    ("digit: {numeral}", False),
)

# Chances of the optional parts: an intro (when the template allows one), a suffix,
# a capital first letter and a final full stop.
P_INTRO, P_SUFFIX, P_CAPITAL, P_STOP = 0.4, 0.25, 0.5, 0.3
_SLOTS = ("template", "det", "size", "colour", "shape", "position", "label", "painted")  # draws per object
_EXTRAS = ("intro", "intro_word", "suffix", "suffix_word", "capital", "stop", "connector")  # draws per caption

_TOKEN = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")


def split_words(text: str) -> list[str]:
    """The tokens of ``text``: lower-cased runs of letters and digits, and each other non-space character alone."""
    return _TOKEN.findall(text.lower())


def _pick(options: Sequence, u: float):
    """The option that a uniform ``u`` in ``[0, 1)`` selects."""
    return options[min(int(u * len(options)), len(options) - 1)]


def _articles(text: str) -> str:
    """``a`` -> ``an`` before a vowel sound ("an emerald", "an 8"), leaving "a one" alone."""
    return re.sub(r"\b([Aa]) (?=(?!one\b)[aeiouAEIOU8])", r"\1n ", text)


def _finish(text: str, u: list[float], det_led: bool) -> str:
    """Add the optional intro and suffix, the capital and the full stop that the draws ``u`` (per _EXTRAS) select."""
    if det_led and u[0] < P_INTRO:
        text = f"{_pick(INTROS, u[1])} {text}"
    if u[2] < P_SUFFIX:
        text = f"{text} {_pick(SUFFIXES, u[3])}"
    text = _articles(text)
    if u[4] < P_CAPITAL:
        text = text[0].upper() + text[1:]
    return text + "." if u[5] < P_STOP else text


def _phrase(row: list[int], u: list[float], templates=TEMPLATES) -> tuple[str, bool]:
    """One object's phrase for its attribute indices ``row`` and draws ``u`` (per _SLOTS); True if it opens with "a"."""
    shape, colour, position, size = (TABLES[i][v] for i, v in enumerate(row))
    template, det_led = _pick(templates, u[0])
    words = dict(
        det=_pick(DETERMINERS, u[1]), size=_pick(SIZE_WORDS[size], u[2]), colour=_pick(COLOUR_WORDS[colour], u[3]),
        shape=_pick(SHAPE_WORDS[shape], u[4]), position=_pick(POSITION_PHRASES[position], u[5]),
        label=_pick(POSITION_LABELS[position], u[6]), painted=_pick(PAINTED, u[7]),
    )
    return template.format(**words), det_led


# The second object of a pair takes only templates that do not open with its position,
# so that "... beside top side: a ..." never reads as one run of positions.
_SECOND_TEMPLATES = tuple(t for t in TEMPLATES if not t[0].startswith(("{label}", "{position}")))


def sample_captions(
    attributes: torch.Tensor, generator: torch.Generator | None = None, second: torch.Tensor | None = None
) -> list[str]:
    """One sampled caption per object (or pair of objects), ``attributes`` ``(n, 4)`` int64.

    ``second`` ``(n, 4)``, when given, is a second object per caption, joined
    to the first by a connector. Takes one ``torch.rand((n, k), generator=generator)``.
    """
    check_attributes(attributes)
    rows = [attributes.tolist()]
    if second is not None:
        rows.append(_checked(second, len(attributes)).tolist())
    per_object = len(_SLOTS)
    u = torch.rand((len(attributes), per_object * len(rows) + len(_EXTRAS)), generator=generator).tolist()
    captions = []
    for i, draws in enumerate(u):
        phrases = [_phrase(r[i], draws[j * per_object:(j + 1) * per_object], TEMPLATES if j == 0 else _SECOND_TEMPLATES)
                   for j, r in enumerate(rows)]
        extras = draws[per_object * len(rows):]
        text = phrases[0][0] if second is None else f"{phrases[0][0]} {_pick(CONNECTORS, extras[6])} {phrases[1][0]}"
        captions.append(_finish(text, extras, phrases[0][1]))
    return captions


def _checked(second: torch.Tensor, n: int) -> torch.Tensor:
    check_attributes(second)
    if len(second) != n:
        raise ValueError(f"second must have one row per caption ({n}), got {len(second)}")
    return second


def canonical_caption(row: Sequence[int], second: Sequence[int] | None = None) -> str:
    """The fixed caption of the tuple ``row`` (shape, colour, position, size): "a small red circle on the left".

    With ``second``, the two objects' canonical captions joined by "and".
    """
    def one(r: Sequence[int]) -> str:
        shape, colour, position, size = (TABLES[i][int(v)] for i, v in enumerate(r))
        return f"a {size} {colour} {shape} {CANONICAL_POSITION[position]}"
    return one(row) if second is None else f"{one(row)} and {one(second)}"


def canonical_captions(attributes: torch.Tensor, second: torch.Tensor | None = None) -> list[str]:
    """:func:`canonical_caption` of each row of ``attributes`` ``(n, 4)`` (and of ``second`` ``(n, 4)``)."""
    check_attributes(attributes)
    if second is None:
        return [canonical_caption(r) for r in attributes.tolist()]
    return [canonical_caption(a, b) for a, b in zip(attributes.tolist(), _checked(second, len(attributes)).tolist())]


def sample_digit_captions(labels: torch.Tensor, generator: torch.Generator | None = None) -> list[str]:
    """One sampled caption per digit label ``labels`` ``(n,)`` int64 in 0..9; one ``torch.rand((n, 8))``."""
    if labels.ndim != 1 or labels.dtype != torch.int64 or (len(labels) and (labels.min() < 0 or labels.max() > 9)):
        raise ValueError(f"labels must be int64 (n,) in 0..9, got {labels.dtype} {tuple(labels.shape)}")
    u = torch.rand((len(labels), 1 + len(_EXTRAS)), generator=generator).tolist()
    captions = []
    for d, draws in zip(labels.tolist(), u):
        template, det_led = _pick(DIGIT_TEMPLATES, draws[0])
        captions.append(_finish(template.format(word=DIGIT_WORDS[d], numeral=str(d)), draws[1:], det_led))
    return captions


def canonical_digit_caption(digit: int) -> str:
    """The fixed caption of a digit: "a handwritten seven"."""
    return f"a handwritten {DIGIT_WORDS[digit]}"


def _keywords() -> dict[str, tuple[int, int]]:
    """Parser table: keyword -> (attribute column, value index)."""
    tables = (SHAPE_WORDS, COLOUR_WORDS, POSITION_KEYWORDS, SIZE_WORDS)
    found = {}
    for column, (names, words) in enumerate(zip(TABLES, tables)):
        for value, name in enumerate(names):
            for phrase in words[name]:
                if column == POSITION:
                    found[phrase] = (column, value)
                else:  # the phrase's last word names the value ("plus sign" is the exception)
                    key = "plus" if phrase == "plus sign" else split_words(phrase)[-1]
                    found[key] = (column, value)
    return found


_KEYWORDS = _keywords()
_CONNECTOR = re.compile(r"\b(?:" + "|".join(re.escape(c) for c in CONNECTORS) + r")\b", re.IGNORECASE)


def attributes_of_caption(caption: str) -> torch.Tensor:
    """The attributes that ``caption`` names, int64 ``(k, 4)``, one row per object phrase.

    Phrases are split at the connectors; in each, an attribute is the value
    whose keyword occurs, or -1 when none does or two values do.
    """
    rows = []
    for part in _CONNECTOR.split(caption):
        row = [-1] * len(ATTRIBUTES)
        seen = [set() for _ in ATTRIBUTES]
        for word in split_words(part):
            if word in _KEYWORDS:
                column, value = _KEYWORDS[word]
                seen[column].add(value)
        for column, values in enumerate(seen):
            row[column] = values.pop() if len(values) == 1 else -1
        rows.append(row)
    return torch.tensor(rows, dtype=torch.int64)


def digit_of_caption(caption: str) -> int:
    """The digit that ``caption`` names by word or numeral, or -1 when none or several do."""
    found = {DIGIT_WORDS.index(w) if w in DIGIT_WORDS else int(w) for w in split_words(caption)
             if w in DIGIT_WORDS or (w.isdigit() and len(w) == 1)}
    return found.pop() if len(found) == 1 else -1


def vocabulary() -> tuple[str, ...]:
    """Every token the grammars (shapes and digits) can produce, sorted, lower case, punctuation included."""
    texts = [t for t, _ in TEMPLATES + DIGIT_TEMPLATES]
    texts += DETERMINERS + PAINTED + INTROS + SUFFIXES + CONNECTORS + DIGIT_WORDS + ("an", ".")
    texts += tuple(str(d) for d in range(10))
    for table in (SHAPE_WORDS, COLOUR_WORDS, SIZE_WORDS, POSITION_PHRASES, POSITION_LABELS):
        texts += tuple(p for phrases in table.values() for p in phrases)
    words = set()
    for text in texts:
        words.update(split_words(re.sub(r"\{\w+\}", " ", text)))
    return tuple(sorted(words))


def _check_tables() -> None:
    """The synonym tables name exactly the values of the attribute tables (a guard against drift)."""
    for names, table in ((SHAPES, SHAPE_WORDS), (COLOURS, COLOUR_WORDS), (SIZES, SIZE_WORDS),
                         (POSITIONS, POSITION_PHRASES), (POSITIONS, POSITION_LABELS), (POSITIONS, POSITION_KEYWORDS)):
        if tuple(table) != names:
            raise RuntimeError(f"caption tables out of step with autograder.data.shapes: {tuple(table)} != {names}")


_check_tables()
