"""Attribute accuracy of shape images: does the shipped classifier read the attributes they were asked for?

For P4 the attributes are those of the prompt, so the ``"all"`` entry (every
attribute right at once) is the prompt accuracy. Real images of the "test"
split give the ceiling that a perfect generator reaches (recorded in each
shipped file's metadata, see ``benchmarks/RESULTS.md``).
"""

import torch

from autograder.data.shapes import ATTRIBUTES, check_attributes

from .shapes_classifier import ShapesClassifier, image_resolution, load_shapes_classifier


@torch.no_grad()
def attribute_accuracy(
    images: torch.Tensor,
    attributes: torch.Tensor,
    *,
    classifier: ShapesClassifier | None = None,
    batch_size: int = 512,
) -> dict[str, float]:
    """The fraction of ``images`` ``(B, 3, R, R)`` whose predicted attributes equal ``attributes`` ``(B, 4)`` int64.

    Returns ``{"shape", "colour", "position", "size": accuracy of that column,
    "all": the fraction with all four right}``. ``classifier`` defaults to the
    shipped one of the images' resolution, on the device of ``images``.
    """
    resolution = image_resolution(images)
    check_attributes(attributes)
    if len(attributes) != len(images):
        raise ValueError(f"attributes must have one row per image ({len(images)}), got {len(attributes)}")
    if classifier is None:
        classifier = load_shapes_classifier(resolution, images.device)
    elif classifier.resolution != resolution:
        raise ValueError(f"the classifier reads {classifier.resolution} px images, the images are {resolution} px")
    device = next(classifier.parameters()).device
    was_training = classifier.training
    classifier.eval()
    try:
        predicted = torch.cat([classifier.predict(batch.to(device, torch.float32)).cpu()
                               for batch in images.detach().split(batch_size)])  # (B, 4)
    finally:
        classifier.train(was_training)
    right = predicted == attributes.cpu()  # (B, 4)
    out = {name: right[:, column].double().mean().item() for column, name in enumerate(ATTRIBUTES)}
    out["all"] = right.all(dim=1).double().mean().item()
    return out
