"""The Frechet distance between two Gaussians, as in FID (Heusel et al., 2017).

For ``N(mu1, sigma1)`` and ``N(mu2, sigma2)`` in ``D`` dimensions::

    d^2 = ||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 sqrtm(sigma1 @ sigma2))

computed in float64 with ``scipy.linalg.sqrtm`` exactly as the reference
implementation pytorch-fid does (``calculate_frechet_distance``): when the
product is singular or its square root is not finite, ``eps * I`` is added to
both covariances; a small imaginary part of the square root (rounding) is
dropped, a large one is an error.
"""

import warnings

import numpy as np
import scipy.linalg
import torch

ArrayLike = np.ndarray | torch.Tensor

# pytorch-fid's bound on the imaginary part of diag(sqrtm(sigma1 @ sigma2)).
IMAGINARY_ATOL = 1e-3


def frechet_distance(
    mu1: ArrayLike,
    sigma1: ArrayLike,
    mu2: ArrayLike,
    sigma2: ArrayLike,
    eps: float = 1e-6,
) -> float:
    """Squared Frechet distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    ``mu1``, ``mu2``: ``(D,)``; ``sigma1``, ``sigma2``: ``(D, D)`` covariances
    (numpy arrays or tensors on any device; computed on the CPU in float64).
    ``eps`` is the ridge added to both covariances when their product is
    singular. Returns a Python float (it can be a tiny negative number, from
    rounding, when the two Gaussians are equal).
    """
    mu1, mu2 = _float64(mu1, "mu1"), _float64(mu2, "mu2")
    sigma1, sigma2 = _float64(sigma1, "sigma1"), _float64(sigma2, "sigma2")
    if mu1.ndim != 1:
        raise ValueError(f"mu1 must be a vector (D,), got shape {mu1.shape}")
    d = mu1.shape[0]
    if mu2.shape != (d,):
        raise ValueError(f"mu2 must have the shape of mu1 ({d},), got {mu2.shape}")
    for name, sigma in (("sigma1", sigma1), ("sigma2", sigma2)):
        if sigma.shape != (d, d):
            raise ValueError(f"{name} must be a ({d}, {d}) covariance to match mu1, got shape {sigma.shape}")
    for name, a in (("mu1", mu1), ("mu2", mu2), ("sigma1", sigma1), ("sigma2", sigma2)):
        if not np.isfinite(a).all():
            raise ValueError(f"{name} has NaN or infinite entries")
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")

    diff = mu1 - mu2  # (D,)
    covmean, singular = _sqrtm(sigma1 @ sigma2)  # (D, D), sqrtm(sigma1 sigma2)
    if singular or not np.isfinite(covmean).all():
        offset = np.eye(d) * eps  # (D, D)
        covmean, _ = _sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=IMAGINARY_ATOL):
            largest = np.max(np.abs(covmean.imag))
            raise ValueError(
                f"sqrtm(sigma1 @ sigma2) has a large imaginary component ({largest:.3g}); "
                "are both matrices symmetric positive semi-definite covariances?"
            )
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def _sqrtm(a: np.ndarray) -> tuple[np.ndarray, bool]:
    """``(sqrtm(a), singular)``: scipy's square root and whether scipy warned that ``a`` is singular."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", scipy.linalg.LinAlgWarning)
        root = scipy.linalg.sqrtm(a)
    singular = False
    for w in caught:
        if issubclass(w.category, scipy.linalg.LinAlgWarning):
            singular = True
        else:  # not ours to swallow
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return root, singular


def _float64(a: ArrayLike, name: str) -> np.ndarray:
    """``a`` as a float64 numpy array on the CPU."""
    if isinstance(a, torch.Tensor):
        if a.is_complex():
            raise ValueError(f"{name} must be real, got dtype {a.dtype}")
        return a.detach().to("cpu", torch.float64).numpy()
    a = np.asarray(a)
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise ValueError(f"{name} must be a real array, got dtype {a.dtype}")
    return a.astype(np.float64)
