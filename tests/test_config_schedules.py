"""The MNIST-scale configs whose learning rates decay over the second half of the run: the decay start
follows --config.train.steps (a shorter or longer run still decays over its own second half), and an
explicit --config.optimizer.*.decay_start still wins."""

import pytest

from conftest import load_config


@pytest.mark.parametrize("name, g_per_step", [("stargan_mnist", 1 / 5), ("combogan_mnist", 1),
                                              ("pix2pixhd_scenes", 1), ("spade_scenes", 1)])
def test_decay_start_follows_the_run_length(name, g_per_step):
    config = load_config(name)
    config.lock()  # As jaxgan.main applies command-line overrides.
    config.train.steps = 3000
    assert config.optimizer.generator.decay_start == int(3000 * g_per_step) // 2
    assert config.optimizer.discriminator.decay_start == 1500
    config.optimizer.generator.decay_start = 7
    config.train.steps = 4000
    assert config.optimizer.generator.decay_start == 7
    assert config.optimizer.discriminator.decay_start == 2000
