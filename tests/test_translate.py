"""jaxgan.translate on an attribute-conditional run (StarGAN): --attributes picks the target, and bad
names are one clear error. (Paired and two-way runs are translated in tests/test_pix2pix.py and
tests/test_cyclegan.py.)"""

import functools
import os

import numpy as np
import pytest

from jaxgan import images, train
from jaxgan import translate as translate_lib
from jaxgan.errors import ConfigError

from conftest import tiny_stargan
from test_cli import _run


def test_stargan_translates_to_the_named_attributes(tmp_path):
    """One translation through the command (its flags and output), the rest through ``translate_folder``,
    what the command calls (the command's error exit is tested in tests/test_cli.py)."""
    train.Trainer(tiny_stargan(steps=2), str(tmp_path / "run")).run()
    rng = np.random.default_rng(0)
    (tmp_path / "in").mkdir()
    for i in range(2):
        images.write_png(str(tmp_path / "in" / f"{i}.png"), rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
    result = _run("jaxgan.translate", "--workdir", str(tmp_path / "run"), "--input", str(tmp_path / "in"),
                  "--output", str(tmp_path / "negative"), "--attributes=negative=1")
    assert result.returncode == 0, result.stderr
    negative = images.read_png(str(tmp_path / "negative" / "1.png"))
    assert negative.shape == (16, 16, 3)
    translate = functools.partial(translate_lib.translate_folder, str(tmp_path / "run"), str(tmp_path / "in"))
    written = translate(str(tmp_path / "thick"), attributes="thick=1,coloured=0.5")
    assert sorted(os.path.basename(p) for p in written) == ["0.png", "1.png"]
    assert np.abs(negative.astype(int) - images.read_png(str(tmp_path / "thick" / "1.png"))).max() > 0  # G reads c.
    with pytest.raises(ConfigError, match="unknown attribute 'bold'; this run's are thick, slanted, coloured, negative"):
        translate(str(tmp_path / "bad"), attributes="bold=1")
    with pytest.raises(ConfigError, match="translates to target attributes: pass --attributes"):
        translate(str(tmp_path / "none"))
