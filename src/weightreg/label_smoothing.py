"""Label smoothing: the optimal logits it implies.

Introduced in the chapter *Label smoothing bounds the logits*
(``book/implicit/label_smoothing.md``).

Conventions
-----------
* ``K`` classes (``num_classes``), one-hot target ``y`` of an example, smoothing strength
  ``eps`` (the book's :math:`\\varepsilon`; not Adam's :math:`\\epsilon`).  The smoothed target
  is ``q = (1 - eps) * y + eps / K``: the true class gets ``1 - eps + eps / K``, every other
  class ``eps / K``.  This is exactly PyTorch's convention
  (``torch.nn.functional.cross_entropy(..., label_smoothing=eps)``, checked in
  ``tests/test_label_smoothing.py``) and Szegedy et al.'s (2016) ``u(k) = 1 / K``.  Some code
  spreads ``eps`` over the ``K - 1`` other classes only (``eps / (K - 1)`` each); that is
  PyTorch's ``eps`` times ``K / (K - 1)``.
* The loss of one example with logits ``z`` is the cross-entropy
  ``-sum_j q_j log softmax(z)_j``.  It is convex in ``z``; for ``eps > 0`` its minimum is
  attained where ``softmax(z) = q`` (Gibbs' inequality), i.e. at logits
  ``z_j = log q_j + const``, and the minimum value is the entropy of ``q``.
* The **logit gap** is the target logit minus any other logit at that minimum:

  ``z_y - z_j = log(q_y / q_j) = log(1 + K (1 - eps) / eps)``,

  the same for every ``j != y``.  It is finite for ``eps > 0`` and grows like
  ``log(K / eps)`` as ``eps -> 0``; without smoothing (``eps = 0``) the cross-entropy has no
  minimum, only an infimum 0 approached as the gap grows without bound.  For ``K = 2`` it is
  the optimal margin ``y w^T x`` of a logistic regression with smoothed targets.
"""

from __future__ import annotations

import math

from .validation import check_int, check_real

__all__ = ["optimal_logit_gap"]


def optimal_logit_gap(num_classes: int, eps: float) -> float:
    """The logit gap ``log(1 + K (1 - eps) / eps)`` at the minimum of the smoothed cross-entropy.

    With ``K = num_classes`` classes and targets ``(1 - eps) * onehot + eps / K`` (PyTorch's
    ``label_smoothing=eps``), the cross-entropy of one example is minimal where
    ``softmax(z)`` equals the target; there the target logit exceeds every other logit by this
    gap.  ``num_classes`` is an int ``>= 2``; ``eps`` a real number with ``0 < eps <= 1``
    (``eps = 1`` gives uniform targets and gap 0; ``eps = 0`` is refused: the minimum does not
    exist and the gap is unbounded).  Returns a Python float.  Chapter: *Label smoothing bounds
    the logits* (``book/implicit/label_smoothing.md``).
    """
    k = check_int("num_classes", num_classes, minimum=2)
    eps = check_real("eps", eps)
    if eps == 0.0:
        raise ValueError(
            "eps must be > 0: without smoothing (eps = 0) the cross-entropy has no minimum and "
            "the optimal logit gap is unbounded"
        )
    if not 0.0 < eps <= 1.0:
        raise ValueError(f"eps must lie in (0, 1], got {eps}")
    ratio = k * (1.0 - eps) / eps
    if math.isfinite(ratio):
        return math.log1p(ratio)  # full precision when the ratio is small (eps near 1)
    return math.log(k * (1.0 - eps)) - math.log(eps)  # eps subnormal: the ratio overflows
