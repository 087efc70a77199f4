"""Projection discriminator (Miyato & Koyama 2018) as DCGAN D's conditioning mode, and its config:
cGAN with a ResNet CBN generator, spectral-norm projection D and hinge loss."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import networks
from jaxgan.errors import ConfigError
from jaxgan import train as train_lib

from conftest import load_config, tiny_config


def test_projection_adds_the_inner_product_of_the_class_embedding_and_phi():
    """D(x, y) = psi(phi(x)) + <V_y, phi(x)>. With V_y = c_y * w_psi (psi's weight column),
    <V_y, phi> = c_y (psi(phi) - b_psi), so D(x, y) = (1 + c_y) psi(phi(x)) - c_y b_psi, where
    psi(phi(x)) is the same network with conditioning 'none' and the same weights."""
    kwargs = dict(num_classes=3, features=(4, 8), batch_norm=False)
    projection = networks.build("dcgan_discriminator", conditioning="projection", **kwargs)
    unconditional = networks.build("dcgan_discriminator", conditioning="none", **kwargs)
    x = jax.random.normal(jax.random.PRNGKey(0), (3, 8, 8, 1))
    params = projection.init(jax.random.PRNGKey(1), x, jnp.arange(3), train=False)["params"]
    c = jnp.array([0.0, 1.0, -2.5])
    w_psi, b_psi = params["Dense_0"]["kernel"][:, 0], params["Dense_0"]["bias"][0]
    params = {**params, "Embed_0": {"embedding": c[:, None] * w_psi[None, :]}}
    psi = unconditional.apply({"params": {k: v for k, v in params.items() if k != "Embed_0"}}, x, None, train=False)
    for y in range(3):
        out = projection.apply({"params": params}, x, jnp.full((3,), y), train=False)
        np.testing.assert_allclose(out, (1 + c[y]) * psi - c[y] * b_psi, rtol=1e-5, atol=1e-5)


def test_config_has_the_papers_settings():
    config = load_config("projection_mnist")
    assert config.method == "cgan" and config.loss.adversarial == "hinge" and config.train.n_critic == 5
    assert config.model.generator.name == "resnet_generator"  # CBN in every block.
    d = config.model.discriminator
    assert d.conditioning == "projection" and d.spectral_norm and not d.batch_norm
    for side in ("generator", "discriminator"):
        opt = config.optimizer[side]
        assert (opt.name, opt.learning_rate, opt.b1, opt.b2, opt.linear_decay) == ("adam", 2e-4, 0.0, 0.9, True)


def test_n_dis1_variant_changes_only_the_schedule():
    paper, variant = load_config("projection_mnist"), load_config("projection_mnist", "n_dis1")
    assert variant.model == paper.model and variant.loss == paper.loss
    assert (variant.train.n_critic, variant.train.steps) == (1, 8000)
    for side in ("generator", "discriminator"):
        opt = variant.optimizer[side]
        assert (opt.learning_rate, opt.b1, opt.b2, opt.linear_decay) == (2e-4, 0.5, 0.999, False)
    with pytest.raises(ConfigError, match="unknown variant"):
        load_config("projection_mnist", "ndis1")


def test_real_training_steps(tmp_path):
    """Five steps with n_dis = 5: D updates on every step, G on the fifth; the spectral-norm vectors
    (in D's batch_stats) and CBN's running statistics (in G's) are updated by training; both
    Adam rates decay linearly to 0 over the run (D: 5 updates, G: 1)."""
    trainer = train_lib.Trainer(tiny_config("projection_mnist", steps=5), str(tmp_path))
    d_stats0 = jax.device_get(trainer.state.discriminator.collections)
    g_stats0 = jax.device_get(trainer.state.generator.collections)
    history = [jax.device_get(trainer.train_steps(1)) for _ in range(5)]
    assert all(np.isfinite(h["d/loss"]) for h in history) and history[0]["d/loss"] != history[-1]["d/loss"]
    assert [h["g/loss"] == 0 for h in history] == [True] * 4 + [False]  # G skipped on steps 1-4.
    assert np.isfinite(history[-1]["g/loss"])
    changed = jax.tree.map(lambda a, b: not np.array_equal(a, b), d_stats0,
                           jax.device_get(trainer.state.discriminator.collections))
    assert all(jax.tree.leaves(changed))  # Every u and sigma moved.
    g_changed = jax.tree.map(lambda a, b: not np.array_equal(a, b), g_stats0,
                             jax.device_get(trainer.state.generator.collections))
    assert all(jax.tree.leaves(g_changed))
    assert all(np.isfinite(v).all() for v in jax.tree.leaves(jax.device_get(trainer.state.generator.params)))
    rate = {side: float(getattr(trainer.state, side).opt_state.hyperparams["learning_rate"])
            for side in ("discriminator", "generator")}  # The rate each side's last update used.
    assert rate == {"discriminator": pytest.approx(2e-4 * (1 - 4 / 5)), "generator": pytest.approx(2e-4)}
