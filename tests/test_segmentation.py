"""jaxgan.metrics.segmentation: the FCN-score's confusion matrix and scores by hand (Long et al. 2015's
definitions), the segmentation network learning a task with a known answer, its cache, and
jaxgan.evaluate's FCN-score entries of a label-map run."""

import dataclasses
import os

import jax
import numpy as np
import pytest

from jaxgan.errors import ConfigError
from jaxgan.metrics import segmentation

LABELS = np.array([[0, 0, 1], [1, 2, 2]])
PREDICTIONS = np.array([[0, 1, 1], [1, 2, 0]])


def test_confusion_matrix_by_hand():
    # Pixels (true, predicted): (0,0) (0,1) (1,1) (1,1) (2,2) (2,0).
    expected = [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    np.testing.assert_array_equal(segmentation.confusion_matrix(LABELS, PREDICTIONS, 3), expected)
    with pytest.raises(ConfigError, match=r"predicted class ids 0..3 outside \[0, 3\)"):
        segmentation.confusion_matrix(LABELS, np.where(PREDICTIONS == 2, 3, PREDICTIONS), 3)


def test_scores_by_hand():
    # n_ii = 1, 2, 1; t_i = 2, 2, 2; sum_j n_ji = 2, 3, 1.
    scores = segmentation.segmentation_scores(segmentation.confusion_matrix(LABELS, PREDICTIONS, 3))
    assert scores["pixel_accuracy"] == pytest.approx(4 / 6)
    assert scores["mean_class_accuracy"] == pytest.approx((1 / 2 + 2 / 2 + 1 / 2) / 3)
    ious = [1 / (2 + 2 - 1), 2 / (2 + 3 - 2), 1 / (2 + 1 - 1)]
    np.testing.assert_allclose(scores["per_class_iou"], ious)
    assert scores["mean_iou"] == pytest.approx(np.mean(ious))
    assert scores["num_pixels"] == 6


def test_classes_absent_from_truth_and_prediction_are_left_out():
    # A fourth class nobody has or predicts changes nothing and gets None.
    scores = segmentation.segmentation_scores(segmentation.confusion_matrix(LABELS, PREDICTIONS, 4))
    assert scores["mean_iou"] == pytest.approx(0.5) and scores["mean_class_accuracy"] == pytest.approx(2 / 3)
    assert scores["per_class_accuracy"][3] is None and scores["per_class_iou"][3] is None
    # Class 1 predicted but absent from the truth: out of the class accuracy, IoU 0 in the mean IoU.
    scores = segmentation.segmentation_scores(segmentation.confusion_matrix([0, 0], [0, 1], 2))
    assert scores["per_class_accuracy"] == [0.5, None] and scores["mean_class_accuracy"] == pytest.approx(0.5)
    assert scores["per_class_iou"] == [0.5, 0.0] and scores["mean_iou"] == pytest.approx(0.25)


def test_fcn_scores_read_the_images_through_the_segmenter():
    # A segmenter that reads the class as the brightest channel: one-hot images give back their labels.
    segment = lambda x: np.argmax(x, axis=-1)  # noqa: E731
    oracle = segmentation.Segmenter(segment, 3, "")
    images = 2.0 * np.eye(3, dtype=np.float32)[LABELS][None] - 1.0  # [1, 2, 3, 3]
    assert oracle.segment(images).shape == (1, 2, 3)
    assert segmentation.fcn_scores(oracle, images, LABELS[None])["mean_iou"] == 1.0
    wrong = 2.0 * np.eye(3, dtype=np.float32)[PREDICTIONS][None] - 1.0
    assert segmentation.fcn_scores(oracle, wrong, LABELS[None])["mean_iou"] == pytest.approx(0.5)


def _colour_blocks(n: int, seed: int):
    """16x16 RGB images of 4x4 blocks, each of one of 3 classes drawn in its own colour plus noise."""
    rng = np.random.default_rng(seed)
    labels = np.kron(rng.integers(0, 3, (n, 4, 4)), np.ones((4, 4), int))
    colours = np.array([[-0.8, -0.8, -0.8], [0.8, -0.5, -0.5], [-0.5, 0.2, 0.8]], np.float32)
    return colours[labels] + rng.normal(0, 0.1, (n, 16, 16, 3)).astype(np.float32), labels


SMALL = segmentation.SegmenterSettings(steps=60, batch_size=8, learning_rate=1e-2, train_size=64, features=(8, 8))


def test_segmenter_learns_a_known_segmentation_and_is_cached(tmp_path):
    calls = []

    def train_data():
        calls.append(1)
        return _colour_blocks(64, seed=0)

    kwargs = dict(image_shape=(16, 16, 3), num_classes=3, train_data=train_data, settings=SMALL)
    trained = segmentation.segmenter("test:blocks", str(tmp_path), **kwargs)
    test_images, test_labels = _colour_blocks(16, seed=1)
    scores = segmentation.fcn_scores(trained, test_images, test_labels)
    assert scores["pixel_accuracy"] > 0.95 and scores["mean_iou"] > 0.9, scores
    cached = segmentation.segmenter("test:blocks", str(tmp_path), **kwargs)
    assert len(calls) == 1 and cached.weights_path == trained.weights_path  # Read back, not retrained.
    np.testing.assert_array_equal(cached.segment(test_images), trained.segment(test_images))
    assert os.path.isfile(trained.weights_path.replace(".msgpack", ".json"))
    other = segmentation.segmenter("test:blocks", str(tmp_path), **{**kwargs, "settings": dataclasses.replace(
        SMALL, steps=1)})
    assert len(calls) == 2 and other.weights_path != trained.weights_path  # Settings are in the key.


def test_evaluate_reports_the_fcn_score_of_a_label_map_run(tmp_path, monkeypatch):
    """The translated row is the segmenter's reading of the method's own translations of the held-out
    maps; the real targets' row is the ceiling; the segmenter is cached where evaluate looks for it."""
    from jaxgan import evaluate, restore, train

    from conftest import tiny_pix2pixhd

    train.Trainer(tiny_pix2pixhd(steps=2, batch_size=8), str(tmp_path)).run()
    monkeypatch.setattr(segmentation, "DEFAULT_SETTINGS", dataclasses.replace(SMALL, steps=5, train_size=16))
    result = evaluate.evaluate(str(tmp_path), num_samples=4, batch_size=4)
    fcn = result["fcn_score"]
    assert set(fcn) == {"translated", "real_target", "segmenter"} and fcn["segmenter"]["steps"] == 5
    run = restore.restore_run(str(tmp_path))
    pairs = evaluate._held_out_pairs(run, 4, 4, 0)
    out = run.method.translate(run.state.generator_variables(), pairs["label_map"], jax.random.PRNGKey(0),
                               instance_map=pairs["instance_map"])

    def no_training(*args, **kwargs):
        raise AssertionError("the cached segmenter should have been read")

    monkeypatch.setattr(segmentation, "train_segmenter", no_training)
    segmenter = segmentation.segmenter(run.config.data.source, str(tmp_path / "eval" / "classifiers"),
                                       image_shape=(32, 32, 3), num_classes=11, train_data=no_training,
                                       settings=segmentation.DEFAULT_SETTINGS)
    for row, images in (("translated", out), ("real_target", pairs["image_b"])):
        expected = segmentation.fcn_scores(segmenter, np.asarray(images), pairs["label_map"])
        assert fcn[row]["mean_iou"] == pytest.approx(expected["mean_iou"])
        assert fcn[row]["per_class_accuracy"] == pytest.approx(expected["per_class_accuracy"])
    assert "FCN-score" in evaluate.format_table(result)
