"""Train the grader's shapes attribute classifiers (16 and 32 px) and write their safetensors weights.

Each step draws a fresh batch of the "train" split of
``autograder.data.make_shapes`` (jittered), so the classifier never sees an
image twice; the loss is the sum of the four heads' cross-entropies. Two
augmentations:

- the colour channels of each image are permuted (one of the 6 orders, the
  colour label following: the palette is the corners of the RGB cube, so a
  permuted colour is a palette colour). The "train" split has no blue
  triangle, and without it the classifier reads small blue triangles as
  diamonds; the grader must read P4's held-out prompts as well as the others.
  (White is fixed by every permutation, so white diamonds at the bottom stay unseen.)
- light Gaussian pixel noise (a standard deviation drawn per image in
  ``[0, NOISE_STD]``): the images it will judge are samples of diffusion
  models, which keep a little residual noise.

Reproducible: fixed seeds, deterministic algorithms, one CPU thread; about
3 to 4 minutes per resolution on one core. Then it measures per-attribute
accuracy on fresh "test" and "heldout" batches (the held-out combinations were
never seen), stores resolution, steps, seed, those accuracies and the torch
version in the file's metadata, and prints the reference scales of FID and
precision/recall at the quality tests' set sizes (1000 vs 2000).

Run from the repository root::

    python scripts/train_shapes_classifier.py                   # both resolutions
    python scripts/train_shapes_classifier.py --resolution 32   # one
"""

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from autograder.data import colour_rgb, make_shapes  # noqa: E402
from autograder.data.shapes import COLOUR  # noqa: E402
from autograder.metrics.attributes import attribute_accuracy  # noqa: E402
from autograder.metrics.precision_recall import shapes_precision_recall  # noqa: E402
from autograder.metrics.shapes_classifier import (FEATURE_DIM, METADATA_KEY, RESOLUTIONS,  # noqa: E402
                                                  ShapesClassifier, load_shapes_classifier, weights_path)
from autograder.metrics.shapes_fid import shapes_reference_scales  # noqa: E402

STEPS = {16: 2000, 32: 1600}  # ~0.1 s and ~0.13 s per step of 128 images on one core
EVAL_SEED = 10_000  # the seed of the evaluation batches
EVAL_SIZE = 2000
STEP_SEEDS = 1_000_000  # training step k of seed s draws make_shapes(seed=STEP_SEEDS * s + k)
NOISE_STD = 0.1


CHANNEL_ORDERS = torch.tensor(list(itertools.permutations(range(3))))  # (6, 3)


def permute_colours(
    images: torch.Tensor, attributes: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``images`` ``(B, 3, R, R)`` with their channels in a random order each, and ``attributes`` ``(B, 4)`` to match.

    Channel ``c`` of the new image is channel ``order[c]`` of the old, so its
    colour is ``rgb[order]``, looked up in the palette.
    """
    order = CHANNEL_ORDERS[torch.randint(len(CHANNEL_ORDERS), (len(images),), generator=generator)]  # (B, 3)
    images = images.gather(1, order.view(-1, 3, 1, 1).expand_as(images))  # (B, 3, R, R)
    palette = colour_rgb()  # (7, 3)
    rgb = palette[attributes[:, COLOUR]].gather(1, order)  # (B, 3)
    attributes = attributes.clone()
    attributes[:, COLOUR] = (rgb[:, None, :] == palette[None]).all(dim=2).to(torch.int64).argmax(dim=1)  # (B,)
    return images, attributes


def loss_of(model: ShapesClassifier, images: torch.Tensor, attributes: torch.Tensor) -> torch.Tensor:
    """Sum over the four heads of the cross-entropy of ``images`` ``(B, 3, R, R)`` against ``attributes`` ``(B, 4)``."""
    return sum(F.cross_entropy(logits, attributes[:, column]) for column, logits in enumerate(model(images)))


def train(resolution: int, *, steps: int, batch_size: int = 128, lr: float = 3e-3, seed: int = 0,
          log_every: int = 200) -> ShapesClassifier:
    """A ShapesClassifier trained for ``steps`` steps (AdamW, one-cycle learning rate) on fresh train batches."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)  # the augmentations
    model = ShapesClassifier(resolution)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    model.train()
    start = time.perf_counter()
    for step in range(steps):
        # One stream per step; "train" streams never meet the evaluation's ("test" and "heldout"
        # seed their generators differently).
        batch = make_shapes(batch_size, resolution=resolution, split="train", seed=STEP_SEEDS * seed + step)
        images, attributes = permute_colours(batch.images, batch.attributes, generator)
        std = NOISE_STD * torch.rand((batch_size, 1, 1, 1), generator=generator)  # (B, 1, 1, 1)
        images = images + std * torch.randn(images.shape, generator=generator)  # (B, 3, R, R)
        loss = loss_of(model, images, attributes)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % log_every == 0 or step == steps - 1:
            print(f"{resolution} px  step {step:5d}  loss {loss.item():.4f}  {time.perf_counter() - start:6.1f} s",
                  flush=True)
    return model.eval()


def evaluate(model: ShapesClassifier, *, seed: int = EVAL_SEED, n: int = EVAL_SIZE) -> dict[str, dict[str, float]]:
    """Per-attribute accuracy (and "all") on fresh "test" and "heldout" batches, rounded to 4 places."""
    out = {}
    for split in ("test", "heldout"):
        batch = make_shapes(n, resolution=model.resolution, split=split, seed=seed)
        accuracy = attribute_accuracy(batch.images, batch.attributes, classifier=model)
        out[split] = {name: round(value, 4) for name, value in accuracy.items()}
    return out


def reference_figures(resolution: int, *, n: int = 1000, n_reference: int = 2000, seed: int = 0) -> dict:
    """FID and precision/recall of test vs train and noise vs train (n vs n_reference), with the shipped file."""
    classifier = load_shapes_classifier(resolution)
    train = make_shapes(n_reference, resolution=resolution, split="train", seed=seed).images
    test = make_shapes(n, resolution=resolution, split="test", seed=seed).images
    noise = torch.randn(test.shape, generator=torch.Generator().manual_seed(seed)).clamp(-1, 1)
    out = {f"fid_{name}": value for name, value in
           shapes_reference_scales(resolution, n, n_reference=n_reference, classifier=classifier, seed=seed).items()}
    out["precision_recall_test_vs_train"] = shapes_precision_recall(train, test, classifier=classifier)
    out["precision_recall_noise_vs_train"] = shapes_precision_recall(train, noise, classifier=classifier)
    return out


def main(*, resolutions: tuple[int, ...] = RESOLUTIONS, seed: int = 0, batch_size: int = 128) -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    for resolution in resolutions:
        out = weights_path(resolution)
        steps = STEPS[resolution]
        start = time.perf_counter()
        model = train(resolution, steps=steps, batch_size=batch_size, seed=seed)
        seconds = time.perf_counter() - start
        accuracy = evaluate(model)
        meta = {"resolution": resolution, "feature_dim": FEATURE_DIM, "steps": steps, "batch_size": batch_size,
                "seed": seed, "noise_std": NOISE_STD, "eval_seed": EVAL_SEED, "eval_size": EVAL_SIZE,
                "accuracy": accuracy, "torch": torch.__version__, "script": "scripts/train_shapes_classifier.py"}
        state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(out), metadata={METADATA_KEY: json.dumps(meta, sort_keys=True)})
        out.chmod(0o644)  # safetensors creates the file readable by its owner only
        if evaluate(load_shapes_classifier(resolution)) != accuracy:
            raise RuntimeError(f"the classifier reloaded from {out} disagrees with the trained one")
        print(f"{resolution} px: trained in {seconds:.0f} s; wrote {out} ({out.stat().st_size} bytes)")
        for split, figures in accuracy.items():
            print(f"  accuracy {split:>8}: " + "  ".join(f"{k} {v:.4f}" for k, v in figures.items()))
        for name, value in reference_figures(resolution).items():
            shown = f"{value:.4f}" if isinstance(value, float) else "precision {:.4f}  recall {:.4f}".format(*value)
            print(f"  {name:>32}: {shown}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, choices=RESOLUTIONS, action="append",
                        help="train only this resolution (repeatable; default: all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(resolutions=tuple(args.resolution or RESOLUTIONS), seed=args.seed)
