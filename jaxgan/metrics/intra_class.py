"""Intra-class Frechet distance (Miyato & Koyama 2018, "cGANs with projection discriminator").

The FID of a conditional model measures the match of the marginal distributions only: a model
that draws a perfect 3 when asked for a 7 can still score well. Miyato & Koyama (2018) therefore
also report the intra-class FID, the Frechet distance (Dowson & Landau 1982)

    d_k^2 = ||mu_k - mu'_k||^2 + Tr(S_k) + Tr(S'_k) - 2 Tr((S_k S'_k)^{1/2})

between the features of the samples generated for class k and those of the real images of class k,
averaged over the classes. ``jaxgan.evaluate`` uses the MNIST classifier's features (intra-FCD).
"""

from __future__ import annotations

from typing import Dict

import numpy as np

from jaxgan.metrics.frechet import frechet_classifier_distance


def intra_class_frechet_distance(features: np.ndarray, labels: np.ndarray, real_features: np.ndarray,
                                 real_labels: np.ndarray, num_classes: int) -> Dict[str, object]:
    """Per-class Frechet distances between ``features [N, D]`` of class k and ``real_features [M, D]``
    of class k: dict(per_class [num_classes], mean). A class with fewer than two samples in either set
    has no covariance: NaN, left out of the mean."""
    labels, real_labels = np.asarray(labels), np.asarray(real_labels)
    per_class = np.full(num_classes, np.nan)
    for k in range(num_classes):
        a, b = features[labels == k], real_features[real_labels == k]
        if len(a) >= 2 and len(b) >= 2:
            per_class[k] = frechet_classifier_distance(a, b)
    if np.isnan(per_class).all():
        raise ValueError("intra-class Frechet distance needs a class with at least two samples in both sets")
    return {"per_class": per_class.tolist(), "mean": float(np.nanmean(per_class))}
