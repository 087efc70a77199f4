"""folder:DIR sources: class sub-folders of your own images, and clear errors on bad files."""

import numpy as np
import pytest

from jaxgan import config as config_lib, images
from jaxgan.data.sources import build_source
from jaxgan.errors import ConfigError, DataSourceError
from jaxgan.train import Trainer

from conftest import tiny_cgan

pytest.importorskip("PIL")  # folder: sources need Pillow (in the test extra).


def _write(root, cls, name, pixels):
    images.write_png(str(root / cls / name), pixels)


def _digits(root, size=8, channels=1, per_class=3):
    rng = np.random.default_rng(0)
    written = {}
    for cls in ("cat", "dog"):
        for i in range(per_class):
            pixels = rng.integers(0, 256, (size, size, channels), dtype=np.uint8)
            _write(root, cls, f"{i}.png", pixels)
            written[(cls, i)] = pixels
    return written


def test_reads_class_folders_in_sorted_order(tmp_path):
    written = _digits(tmp_path)
    source = build_source(f"folder:{tmp_path}")
    assert (len(source), source.num_classes, source.image_shape) == (6, 2, (8, 8, 1))
    batch = source.get(np.array([4, 0]))
    np.testing.assert_array_equal(batch["label"], [1, 0])  # 'cat' < 'dog'.
    np.testing.assert_array_equal(batch["image"][0], written[("dog", 1)])
    np.testing.assert_array_equal(batch["image"][1], written[("cat", 0)])


def test_rgb_and_split_folders(tmp_path):
    _digits(tmp_path / "train", channels=3)
    _digits(tmp_path / "test", channels=3, per_class=1)
    assert build_source(f"folder:{tmp_path}", "train").image_shape == (8, 8, 3)
    assert len(build_source(f"folder:{tmp_path}", "test")) == 2


def test_corrupt_image_is_named(tmp_path):
    _digits(tmp_path)
    (tmp_path / "dog" / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(DataSourceError, match=r"cannot read image .*dog/broken.png"):
        build_source(f"folder:{tmp_path}")


def _truncated_png(path, size=8):
    """A noise PNG whose header is whole but whose pixel data (IDAT) stops 10 bytes in."""
    png = images.encode_png(np.random.default_rng(1).integers(0, 256, (size, size, 1), dtype=np.uint8))
    path.write_bytes(png[:png.index(b"IDAT") + 4 + 10])


def _with_two_corrupt_files(root, per_class=3):
    """The images of _digits (returned), a non-image 'broken.png' and a truncated 'cut.png'."""
    written = _digits(root, per_class=per_class)
    (root / "dog" / "broken.png").write_bytes(b"not a png at all")
    _truncated_png(root / "cat" / "cut.png")
    return written


def test_truncated_image_is_named_when_its_batch_is_read(tmp_path):
    _digits(tmp_path)
    _truncated_png(tmp_path / "cat" / "cut.png")
    source = build_source(f"folder:{tmp_path}")  # With on_corrupt='error' only headers are read at open...
    assert len(source) == 7
    index = source.paths.index(str(tmp_path / "cat" / "cut.png"))
    with pytest.raises(DataSourceError, match=r"cannot decode image .*cat/cut.png \(image file is truncated"):
        source.get(np.array([index]))  # ...so the cut pixel data is caught when its batch is decoded.


def test_skip_drops_and_counts_corrupt_images(tmp_path):
    written = _with_two_corrupt_files(tmp_path)
    with pytest.raises(DataSourceError, match=r"cannot read image .*dog/broken.png.*on_corrupt=skip"):
        build_source(f"folder:{tmp_path}", on_corrupt="error")
    source = build_source(f"folder:{tmp_path}", on_corrupt="skip")
    assert len(source) == 6 and sorted(source.skipped) == [str(tmp_path / "cat" / "cut.png"),
                                                            str(tmp_path / "dog" / "broken.png")]
    batch = source.get(np.arange(6))  # Every file left decodes.
    np.testing.assert_array_equal(batch["label"], [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(batch["image"][3], written[("dog", 0)])


def test_skip_with_every_image_corrupt_is_an_error(tmp_path):
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "a.png").write_bytes(b"garbage")
    _truncated_png(tmp_path / "cat" / "b.png")
    with pytest.raises(DataSourceError, match=r"none of its 2 image files can be decoded \(e.g. .*cat/a.png\)"):
        build_source(f"folder:{tmp_path}", on_corrupt="skip")


def test_on_corrupt_must_be_error_or_skip():
    config = config_lib.base_config()
    config.data.on_corrupt = "ignore"
    with pytest.raises(ConfigError, match=r"data.on_corrupt='ignore' must be one of 'error', 'skip'"):
        config_lib.validate(config)


def test_mixed_sizes_are_refused_with_examples(tmp_path):
    _digits(tmp_path)
    _write(tmp_path, "cat", "big.png", np.zeros((10, 12, 1), np.uint8))
    with pytest.raises(DataSourceError, match=r"different sizes \(8x8: 6 file\(s\).*12x10: 1 file\(s\), e.g. .*big.png"):
        build_source(f"folder:{tmp_path}")


@pytest.mark.parametrize("layout, message", [("missing", "no such folder"), ("empty", "no images found"),
                                             ("no_test", "has no 'test' sub-folder")])
def test_unusable_folders(tmp_path, layout, message):
    if layout == "empty":
        (tmp_path / "cat").mkdir()
    if layout == "no_test":
        _digits(tmp_path)
    directory = tmp_path / "nope" if layout == "missing" else tmp_path
    with pytest.raises(DataSourceError, match=message):
        build_source(f"folder:{directory}", "test" if layout == "no_test" else "train")


def test_trains_on_a_folder_skipping_corrupt_images(tmp_path, capsys):
    _with_two_corrupt_files(tmp_path / "data", per_class=4)
    config = tiny_cgan("dcgan")
    config.data.source = f"folder:{tmp_path / 'data'}"
    config.data.split = "train"  # The config's train[:50000] is for MNIST.
    config.data.on_corrupt = "skip"
    config.train.batch_size = 8
    trainer = Trainer(config, str(tmp_path / "run"))
    assert capsys.readouterr().out.startswith(f"folder:{tmp_path / 'data'}: skipped 2 of 10 image files that "
                                              "cannot be decoded (data.on_corrupt='skip'), e.g. ")
    assert trainer.checkpointer.run["data"]["skipped_images"] == 2  # Saved beside every checkpoint.
    metrics = trainer.train_steps(2)
    assert np.isfinite(float(metrics["d/loss"])) and np.isfinite(float(metrics["g/loss"]))


def test_evaluating_a_run_on_a_folder_of_other_images_gives_fid_kid_and_intra_fid(tmp_path, monkeypatch):
    """A label-conditional run on 8x8 RGB images of two classes: the MNIST classifier cannot read them, so
    ``jaxgan.evaluate`` says to give --inception_weights, and with it scores class-balanced samples against the
    test folder: FID, KID and the per-class FID recomputed here (stand-in features, as in test_engine)."""
    from jaxgan import evaluate, metrics, restore
    from jaxgan.data.pipeline import to_float_image
    from jaxgan.metrics import fid

    from test_engine import pixel_features

    _digits(tmp_path / "data" / "train", channels=3, per_class=4)
    _digits(tmp_path / "data" / "test", channels=3, per_class=3)
    config = tiny_cgan("dcgan")
    config.data.source = f"folder:{tmp_path / 'data'}"
    config.data.split = "train"
    config.train.batch_size = 8
    config.train.steps = 2
    Trainer(config, str(tmp_path / "run")).run()
    with pytest.raises(ConfigError, match="8, 8, 3.*give --inception_weights FILE for FID, KID and intra-class FID"):
        evaluate.evaluate(str(tmp_path / "run"), num_samples=8, batch_size=8)
    monkeypatch.setattr(evaluate.fid, "scorer", lambda path, batch_size: pixel_features)
    result = evaluate.evaluate(str(tmp_path / "run"), num_samples=8, batch_size=8, inception_weights="any.npz")
    run = restore.restore_run(str(tmp_path / "run"))
    fake, labels = evaluate.generate(run.method, run.state.generator_variables(), 2, 8, 8, 0)
    test = build_source(config.data.source, "test")
    real = test.get(np.arange(len(test)))
    f, r = pixel_features(fake), pixel_features(to_float_image(real["image"]))
    row = result["rows"]["generated"]
    assert (result["num_samples"], result["num_real"]) == (8, 6)
    assert row["fid"] == pytest.approx(fid.fid_and_kid(f, r)["fid"], rel=1e-4)
    for k in (0, 1):
        assert row["per_class_intra_fid"][k] == pytest.approx(
            metrics.frechet_classifier_distance(f[labels == k], r[real["label"] == k]), rel=1e-4)
    assert "intra-class FID" in evaluate.format_table(result)
