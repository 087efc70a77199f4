"""jaxgan.translate on an attribute-conditional run (StarGAN): --attributes picks the target, and bad
names are one clear error. (Paired and two-way runs are translated in tests/test_pix2pix.py and
tests/test_cyclegan.py.)"""

import numpy as np

from jaxgan import images, train

from conftest import tiny_stargan
from test_cli import _run


def test_stargan_translates_to_the_named_attributes(tmp_path):
    train.Trainer(tiny_stargan(steps=2), str(tmp_path / "run")).run()
    rng = np.random.default_rng(0)
    (tmp_path / "in").mkdir()
    for i in range(2):
        images.write_png(str(tmp_path / "in" / f"{i}.png"), rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
    outputs = {}
    for target in ("negative=1", "thick=1,coloured=0.5"):
        out = tmp_path / target.replace(",", "_").replace("=", "")
        result = _run("jaxgan.translate", "--workdir", str(tmp_path / "run"), "--input", str(tmp_path / "in"),
                      "--output", str(out), f"--attributes={target}")
        assert result.returncode == 0, result.stderr
        outputs[target] = images.read_png(str(out / "1.png"))
        assert outputs[target].shape == (16, 16, 3)
    assert np.abs(outputs["negative=1"].astype(int) - outputs["thick=1,coloured=0.5"]).max() > 0  # G reads c.
    result = _run("jaxgan.translate", "--workdir", str(tmp_path / "run"), "--input", str(tmp_path / "in"),
                  "--output", str(tmp_path / "bad"), "--attributes=bold=1")
    assert result.returncode == 2
    assert "unknown attribute 'bold'; this run's are thick, slanted, coloured, negative" in result.stderr
    result = _run("jaxgan.translate", "--workdir", str(tmp_path / "run"), "--input", str(tmp_path / "in"),
                  "--output", str(tmp_path / "none"))
    assert result.returncode == 2 and "translates to target attributes: pass --attributes" in result.stderr
