"""jaxgan.translate on a label-map run (pix2pixHD with instance maps): label-map PNGs of class ids (and
instance-id PNGs) -> images, equal to the method's own translation of the maps resized by nearest
neighbour; a class id outside the run's classes and a missing --instances are clear errors."""

import jax
import numpy as np
import pytest
from PIL import Image

from jaxgan import images, restore, train, translate
from jaxgan.errors import ConfigError, JaxganError

from conftest import tiny_pix2pixhd
from test_cli import _run


def _maps(rng, size: int):
    """A label map of 2x2 blocks of classes 0..10 (its instances: the block number), at size x size."""
    blocks = rng.integers(0, 11, (2, 2))
    labels = np.kron(blocks, np.ones((size // 2, size // 2), int)).astype(np.uint8)
    instances = np.kron(np.arange(4).reshape(2, 2), np.ones((size // 2, size // 2), int)).astype(np.uint8)
    return labels, instances


def test_label_map_folder_is_translated(tmp_path):
    workdir = str(tmp_path / "run")
    train.Trainer(tiny_pix2pixhd(steps=2, batch_size=8), workdir).run()
    rng = np.random.default_rng(0)
    for folder in ("labels", "instances", "bad"):
        (tmp_path / folder).mkdir()
    label_maps, instance_maps = [], []
    for i in range(3):  # 40x40 files: the command resizes them to the run's 32x32.
        labels, instances = _maps(rng, 40)
        Image.fromarray(labels, "L").save(tmp_path / "labels" / f"m{i}.png")
        Image.fromarray(instances, "L").save(tmp_path / "instances" / f"m{i}.png")
        label_maps.append(labels)
        instance_maps.append(instances)
    result = _run("jaxgan.translate", "--workdir", workdir, "--input", str(tmp_path / "labels"),
                  "--instances", str(tmp_path / "instances"), "--output", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "Wrote 3 translation(s)" in result.stdout

    run = restore.restore_run(workdir)
    nearest = lambda maps: np.stack([np.kron(m[::20, ::20], np.ones((16, 16), int)) for m in maps])  # noqa: E731
    expected = run.method.translate(run.state.generator_variables(), nearest(label_maps), jax.random.PRNGKey(0),
                                    instance_map=nearest(instance_maps))
    expected = images.to_uint8(np.asarray(expected))
    for i in range(3):
        written = images.read_png(str(tmp_path / "out" / f"m{i}.png"))
        assert written.shape == (32, 32, 3)
        assert np.abs(written.astype(int) - expected[i]).max() <= 1

    # The errors, through translate_folder (what the command calls; its exit code 2: tests/test_cli.py).
    with pytest.raises(ConfigError, match="pass --instances FOLDER"):
        translate.translate_folder(workdir, str(tmp_path / "labels"), str(tmp_path / "none"))
    labels, _ = _maps(rng, 32)
    labels[3, 5] = 11  # The run has 11 classes, ids 0..10.
    Image.fromarray(labels, "L").save(tmp_path / "bad" / "m0.png")
    with pytest.raises(JaxganError, match=r"m0.png holds class id 11; this run has 11 label classes \(ids 0..10\)"):
        translate.translate_folder(workdir, str(tmp_path / "bad"), str(tmp_path / "none"),
                                   instances=str(tmp_path / "instances"))
