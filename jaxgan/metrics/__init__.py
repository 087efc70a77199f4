"""Evaluation metrics: classifier features and label accuracy, Frechet distance (overall and
intra-class), Inception score, improved precision and recall, MS-SSIM diversity, Parzen windows; FID and
KID in the FID Inception network's features (``jaxgan.metrics.fid``, imported on its own)."""

from jaxgan.metrics.classifier import (
    DEFAULT_WEIGHTS,
    ClassifierFn,
    MNISTClassifier,
    classify_in_batches,
    label_accuracy,
    load_classifier,
    make_classifier_fn,
    per_class_accuracy,
)
from jaxgan.metrics.frechet import feature_statistics, frechet_classifier_distance, frechet_distance
from jaxgan.metrics.inception import NUM_SPLITS, inception_score
from jaxgan.metrics.intra_class import intra_class_frechet_distance
from jaxgan.metrics.ms_ssim import SMALL_IMAGE_FILTER_SIZE, class_diversity, multiscale_ssim, scale_weights
from jaxgan.metrics.parzen import (
    DEFAULT_SIGMAS,
    parzen_estimate,
    parzen_log_likelihood,
    select_sigma,
    to_unit_vectors,
)
from jaxgan.metrics.precision_recall import improved_precision_recall, knn_radii

__all__ = [
    "DEFAULT_SIGMAS",
    "DEFAULT_WEIGHTS",
    "NUM_SPLITS",
    "SMALL_IMAGE_FILTER_SIZE",
    "ClassifierFn",
    "MNISTClassifier",
    "class_diversity",
    "classify_in_batches",
    "feature_statistics",
    "frechet_classifier_distance",
    "frechet_distance",
    "improved_precision_recall",
    "inception_score",
    "intra_class_frechet_distance",
    "knn_radii",
    "label_accuracy",
    "load_classifier",
    "make_classifier_fn",
    "multiscale_ssim",
    "parzen_estimate",
    "parzen_log_likelihood",
    "per_class_accuracy",
    "scale_weights",
    "select_sigma",
    "to_unit_vectors",
]
