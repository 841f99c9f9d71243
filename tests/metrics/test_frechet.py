"""The Frechet distance between Gaussians, checked against an independent computation."""

import warnings

import numpy as np
import pytest
import scipy.linalg
import torch

from autograder.metrics import frechet_distance


def independent_frechet(mu1, sigma1, mu2, sigma2) -> float:
    """The same distance by symmetric eigendecompositions, without scipy's sqrtm.

    Tr(sqrtm(s1 s2)) = sum of sqrt(eigenvalues of sqrt(s1) s2 sqrt(s1)), a symmetric PSD matrix.
    """
    w, v = np.linalg.eigh(sigma1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T  # sqrt(s1)
    inner = np.linalg.eigvalsh(root1 @ sigma2 @ root1)
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.sqrt(np.clip(inner, 0, None)).sum())


def gaussian(rng: np.random.Generator, d: int, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A random mean (d,) and covariance (d, d); rank min(n - 1, d) when estimated from n samples."""
    mu = rng.normal(size=d)
    if n is None:
        a = rng.normal(size=(d, d))
        return mu, a @ a.T / d + 0.1 * np.eye(d)
    return mu, np.cov(rng.normal(size=(n, d)) @ rng.normal(size=(d, d)), rowvar=False)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("d", [1, 5, 64])
def test_agrees_with_eigendecomposition(seed, d):
    """Does it agree with the eigendecomposition formula to 1e-6 relative?"""
    rng = np.random.default_rng(seed)
    (mu1, s1), (mu2, s2) = gaussian(rng, d), gaussian(rng, d)
    expected = independent_frechet(mu1, s1, mu2, s2)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-6)


def test_one_dimension_closed_form():
    """In 1-D, is it (m1 - m2)^2 + (s1 - s2)^2 for standard deviations s1, s2?"""
    got = frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([-2.0]), np.array([[9.0]]))
    assert got == pytest.approx(3.0**2 + (2.0 - 3.0) ** 2, rel=1e-12)


def test_identical_gaussians_give_zero():
    """Is the distance of a Gaussian to itself zero, up to rounding?"""
    mu, s = gaussian(np.random.default_rng(0), 64)
    assert abs(frechet_distance(mu, s, mu, s)) < 1e-8 * np.trace(s)


def test_symmetric():
    """Is d(a, b) = d(b, a)?"""
    rng = np.random.default_rng(1)
    (mu1, s1), (mu2, s2) = gaussian(rng, 32), gaussian(rng, 32)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(frechet_distance(mu2, s2, mu1, s1), rel=1e-9)


def test_tensors_and_arrays_agree():
    """Do float32 tensors give what float64 arrays give (computed in float64)?"""
    rng = np.random.default_rng(2)
    (mu1, s1), (mu2, s2) = gaussian(rng, 8), gaussian(rng, 8)
    as_tensors = [torch.from_numpy(a).float() for a in (mu1, s1, mu2, s2)]
    as_arrays = [t.double().numpy() for t in as_tensors]
    assert frechet_distance(*as_tensors) == frechet_distance(*as_arrays)
    assert isinstance(frechet_distance(*as_tensors), float)


def test_rank_deficient_covariances():
    """With covariances from fewer samples than dimensions, is the result finite and right?"""
    rng = np.random.default_rng(3)
    (mu1, s1), (mu2, s2) = gaussian(rng, 20, n=8), gaussian(rng, 20, n=8)
    assert np.linalg.matrix_rank(s1) < 20
    got = frechet_distance(mu1, s1, mu2, s2)
    assert got == pytest.approx(independent_frechet(mu1, s1, mu2, s2), rel=1e-5, abs=1e-4)


def test_singular_product_falls_back_to_eps_ridge(monkeypatch):
    """When sqrtm of the product is not finite, is eps * I added to both covariances?"""
    rng = np.random.default_rng(4)
    (mu1, s1), (mu2, s2) = gaussian(rng, 6), gaussian(rng, 6)
    eps = 1e-2
    real_sqrtm = scipy.linalg.sqrtm
    calls = []

    def flaky_sqrtm(a):
        calls.append(a)
        return np.full_like(a, np.nan) if len(calls) == 1 else real_sqrtm(a)

    monkeypatch.setattr(scipy.linalg, "sqrtm", flaky_sqrtm)
    got = frechet_distance(mu1, s1, mu2, s2, eps=eps)
    ridge = eps * np.eye(6)
    assert len(calls) == 2 and np.allclose(calls[1], (s1 + ridge) @ (s2 + ridge))
    # Only the square root sees the ridge; the traces use the covariances as given.
    w = np.linalg.eigvals((s1 + ridge) @ (s2 + ridge))
    diff = mu1 - mu2
    expected = diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(w.real).sum()
    assert got == pytest.approx(expected, rel=1e-6)


def test_zero_covariances_use_the_fallback():
    """Do exactly singular (zero) covariances take the eps ridge, silently, and stay finite?"""
    mu1, mu2, zero, eps = np.zeros(4), np.full(4, 0.5), np.zeros((4, 4)), 1e-3
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy's "matrix is singular" warning is handled, not shown
        got = frechet_distance(mu1, zero, mu2, zero, eps=eps)
    # ||mu1 - mu2||^2 = 1; Tr sqrtm((eps I)(eps I)) = 4 eps.
    assert got == pytest.approx(1.0 - 2 * 4 * eps, rel=1e-9)


def test_large_imaginary_part_is_an_error():
    """Does a product without a real square root (not covariances) raise a ValueError?"""
    with pytest.raises(ValueError, match="imaginary"):
        frechet_distance(np.zeros(2), -np.eye(2), np.zeros(2), np.eye(2))


@pytest.mark.parametrize(
    "shapes, match",
    [
        (((3, 1), (3, 3), (3,), (3, 3)), "mu1 must be a vector"),
        (((3,), (3, 3), (4,), (3, 3)), "mu2 must have the shape"),
        (((3,), (3, 4), (3,), (3, 3)), "sigma1 must be a \\(3, 3\\)"),
        (((3,), (3, 3), (3,), (2, 2)), "sigma2 must be a \\(3, 3\\)"),
    ],
)
def test_shape_errors(shapes, match):
    """Do mismatched shapes raise a ValueError that names the argument?"""
    with pytest.raises(ValueError, match=match):
        frechet_distance(*[np.ones(s) for s in shapes])


def test_non_finite_and_bad_eps():
    """Do NaN entries and a negative eps raise ValueErrors?"""
    s = np.eye(2)
    with pytest.raises(ValueError, match="sigma2 has NaN"):
        frechet_distance(np.zeros(2), s, np.zeros(2), np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="eps"):
        frechet_distance(np.zeros(2), s, np.zeros(2), s, eps=-1.0)
