"""Latent Constraints (Engel et al. 2017): networks, the ELBO, the distance penalty and the gated actor
against hand values, exact phases, real training steps across the phase boundary, the transformation."""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import images as image_io, methods
from jaxgan import train as train_lib
from jaxgan.errors import ConfigError
from jaxgan.methods.base import DataInfo
from jaxgan.losses import gaussian_nll
from jaxgan.methods.latent_constraints import (LatentConstraints, distance_penalty,
                                               phase_counter)
from jaxgan.networks.vae import gated_update

from conftest import tiny_latent_constraints
from test_cli import _run

MNIST = DataInfo.labelled((28, 28, 1), 10)


def _count(tree):
    return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


def _method(**overrides) -> LatentConstraints:
    config = tiny_latent_constraints()
    for key, value in overrides.items():
        section, _, name = key.rpartition(".")
        config[section][name] = value
    return methods.build(config, MNIST)


def _variables(method, seed=0):
    batch = {"image": jnp.zeros((2, 28, 28, 1)), "label": jnp.array([3, 7])}
    g_vars, d_vars, _ = method.init(jax.random.PRNGKey(seed), batch)
    return g_vars, d_vars


def test_networks_parameter_counts_and_shapes():
    method = _method()
    g_vars, d_vars = _variables(method)
    params = g_vars["params"]
    assert set(params) == {"encoder", "decoder", "actor"} and set(g_vars) == {"params"} and set(d_vars) == {"params"}
    # Encoder 784 -> 8 -> 2x4; decoder 4 -> 8 -> 784; actor [z(4), Dense(onehot(10)) (4)] -> 8 -> 8 -> 2x4;
    # critic [z(4), Dense(onehot(10)) (4)] -> 8 -> 8 -> 1; attribute classifier z(4) -> 8 -> 10.
    assert _count(params["encoder"]) == (784 * 8 + 8) + (8 * 8 + 8)
    assert _count(params["decoder"]) == (4 * 8 + 8) + (8 * 784 + 784)
    assert _count(params["actor"]) == (10 * 4 + 4) + (8 * 8 + 8) + (8 * 8 + 8) + (8 * 8 + 8)
    assert set(d_vars["params"]) == {"critic", "attribute"}
    assert _count(d_vars["params"]["critic"]) == (10 * 4 + 4) + (8 * 8 + 8) + (8 * 8 + 8) + (8 * 1 + 1)
    assert _count(d_vars["params"]["attribute"]) == (4 * 8 + 8) + (8 * 10 + 10)

    images, z, labels = jnp.zeros((3, 28, 28, 1)), jnp.ones((3, 4)), jnp.array([0, 5, 9])
    mean, log_variance = method.encode(g_vars, images)
    assert mean.shape == log_variance.shape == (3, 4)
    z_new, gate = method.move(g_vars, z, labels)
    assert z_new.shape == gate.shape == (3, 4)  # Gate and update values by hand: test_gated_actor_by_hand.
    out = method.generate(g_vars, z, labels)
    assert out.shape == (3, 28, 28, 1) and float(jnp.abs(out).max()) <= 1.0  # The engine's image range.
    assert method.critic.apply(d_vars, z, labels).shape == (3,)
    log_probs = method.attribute_log_probs(d_vars, z)
    assert log_probs.shape == (3, 10) and np.allclose(jnp.exp(log_probs).sum(-1), 1.0, rtol=1e-5)

    # The config's full-size networks: encoder 784-512-512-2x16, decoder 16-512-512-784, actor and critic
    # 4 x 512 with a 512-unit label embedding, attribute classifier 16-512-512-10.
    full = methods.build(__import__("conftest").load_config("latent_constraints_mnist"), MNIST)
    shapes = jax.eval_shape(full.init, jax.random.PRNGKey(0), {"image": jnp.zeros((1, 28, 28, 1)),
                                                               "label": jnp.zeros((1,), jnp.int32)})
    g, d = shapes[0]["params"], shapes[1]["params"]
    assert _count(g["encoder"]) == 784 * 512 + 512 + 512 * 512 + 512 + 512 * 32 + 32
    assert _count(g["decoder"]) == 16 * 512 + 512 + 512 * 512 + 512 + 512 * 784 + 784
    trunk = (10 * 512 + 512) + (528 * 512 + 512) + 3 * (512 * 512 + 512)
    assert _count(g["actor"]) == trunk + 512 * 32 + 32
    assert _count(d["critic"]) == trunk + 512 + 1
    assert _count(d["attribute"]) == (16 * 512 + 512) + (512 * 512 + 512) + (512 * 10 + 10)


def test_gaussian_nll_kl_and_elbo_by_hand():
    # Two pixels, sigma 0.5: per pixel (x - mu)^2 / (2 sigma^2) + log sigma + log(2 pi) / 2.
    x, mu = jnp.array([[0.5, -1.0]]), jnp.array([[0.0, -0.5]])
    const = math.log(0.5) + 0.5 * math.log(2 * math.pi)
    expected = (0.25 / 0.5 + const) + (0.25 / 0.5 + const)
    assert float(gaussian_nll(x=x, mean=mu, sigma=0.5)) == pytest.approx(expected, rel=1e-6)

    # The method's -ELBO: the NLL of the decoder's mean at z = m + s * eps, plus kl_weight * KL, from the
    # encoder's and decoder's outputs computed here.
    method = _method(**{"model.sigma_x": 0.3, "loss.kl_weight": 0.5})
    g_vars, _ = _variables(method)
    images = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (2, 28, 28, 1)), jnp.float32)
    rng = jax.random.PRNGKey(4)
    loss, metrics = method.negative_elbo(g_vars, images, rng)
    m, log_var = (np.asarray(a, np.float64) for a in method.encode(g_vars, images))
    z = m + np.exp(0.5 * log_var) * np.asarray(jax.random.normal(rng, m.shape))
    recon = np.asarray(method.decode(g_vars, jnp.asarray(z, jnp.float32)), np.float64).reshape(2, -1)
    x = np.asarray(images, np.float64).reshape(2, -1)
    nll = np.mean(np.sum((x - recon) ** 2 / (2 * 0.09) + math.log(0.3) + 0.5 * math.log(2 * math.pi), axis=1))
    kl = np.mean(np.sum(0.5 * (m ** 2 + np.exp(log_var) - 1 - log_var), axis=1))
    assert float(metrics["reconstruction"]) == pytest.approx(nll, rel=1e-5)
    assert float(metrics["kl"]) == pytest.approx(kl, rel=1e-5)
    assert float(metrics["neg_elbo"]) == pytest.approx(nll + kl, rel=1e-5)
    assert float(loss) == pytest.approx(nll + 0.5 * kl, rel=1e-5)


def test_distance_penalty_by_hand():
    # (1 / sigma^2) log(1 + (z' - z)^2), averaged over latent dimensions.
    z_new, z = jnp.array([[1.0, 0.0], [2.0, -1.0]]), jnp.array([[0.0, 0.0], [0.0, 1.0]])
    got = distance_penalty(z_new, z, jnp.float32(0.5))
    assert np.allclose(got, [math.log(2) / 2 / 0.25, (math.log(5) + math.log(5)) / 2 / 0.25], rtol=1e-6)
    assert float(distance_penalty(z, z, jnp.float32(0.1)).max()) == 0.0


def test_gated_actor_by_hand():
    z, dz, gate = jnp.array([[2.0, -1.0]]), jnp.array([[0.0, 3.0]]), jnp.array([[0.25, 1.0]])
    assert np.allclose(gated_update(z, dz, gate), [[0.75 * 2.0, 3.0]])
    # Through the module: with the last layer's kernel 0 its output is its bias [dz, g] whatever the input,
    # so z' = (1 - sigmoid(g)) z + sigmoid(g) dz exactly.
    method = _method()
    g_vars, _ = _variables(method)
    params = jax.tree.map(lambda x: x, g_vars["params"])
    last = "output"
    bias = jnp.array([1.0, -2.0, 0.5, 0.0, 0.0, 2.0, -1.0, 1.0])  # dz (4), then gate logits (4).
    params["actor"][last] = {"kernel": jnp.zeros_like(params["actor"][last]["kernel"]), "bias": bias}
    z = jnp.array([[0.3, -0.7, 1.5, 2.0]])
    z_new, gate = method.move({"params": params}, z, jnp.array([4]))
    sig = 1 / (1 + np.exp(-np.array([0.0, 2.0, -1.0, 1.0])))
    assert np.allclose(gate, [sig]) and np.allclose(z_new, [(1 - sig) * np.array(z[0]) + sig * np.array(bias[:4])],
                                                    rtol=1e-6)


def test_critic_loss_by_hand():
    # Non-saturating: L_D = softplus(-D(z_q, c)) + softplus(D(z_p, c)) + softplus(D(G(z_p', c), c))
    # - log softmax(D_attr(z_q))_c, from the networks' outputs computed here with the loss's own draws.
    method = _method()
    g_vars, d_vars = _variables(method)
    images = jnp.asarray(np.random.default_rng(1).uniform(-1, 1, (3, 28, 28, 1)), jnp.float32)
    labels, rng = jnp.array([1, 4, 9]), jax.random.PRNGKey(7)
    loss, metrics = method.critic_loss(d_vars, g_vars, {"image": images, "label": labels}, rng)

    eps_rng, prior_rng, actor_rng = jax.random.split(rng, 3)
    m, log_var = method.encode(g_vars, images)
    z_q = m + jnp.exp(0.5 * log_var) * jax.random.normal(eps_rng, m.shape)
    z_p = jax.random.normal(prior_rng, (3, 4))
    z_a = method.move(g_vars, jax.random.normal(actor_rng, (3, 4)), labels)[0]
    d = lambda z: np.asarray(method.critic.apply(d_vars, z, labels), np.float64)  # noqa: E731
    softplus = lambda x: np.log1p(np.exp(x))  # noqa: E731
    class_logits = np.asarray(method.critic.apply(d_vars, z_q, method="classify"), np.float64)
    log_softmax = class_logits - np.log(np.exp(class_logits).sum(-1, keepdims=True))
    cross_entropy = -np.mean(log_softmax[np.arange(3), np.asarray(labels)])
    expected = (np.mean(softplus(-d(z_q))) + np.mean(softplus(d(z_p))) + np.mean(softplus(d(z_a)))
                + cross_entropy)
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    assert float(metrics["attribute_loss"]) == pytest.approx(cross_entropy, rel=1e-5)
    accuracy = np.mean(class_logits.argmax(-1) == np.asarray(labels))
    assert float(metrics["attribute_accuracy"]) == pytest.approx(accuracy)


@pytest.mark.parametrize("key, value, message", [
    ("model.vae_steps", 3, r"vae_steps=3: the VAE phase needs 1 <= vae_steps < train.steps=3"),
    ("model.vae_steps", 0, r"vae_steps=0"),
    ("train.n_critic", 2, r"n_critic=2: .* set it to 1"),
    ("model.sigma_x", 0.0, r"sigma_x=0.0"),
    ("loss.lambda_dist", -1.0, r"lambda_dist=-1.0 must be >= 0"),
    ("model.noise", "uniform", r"noise='uniform': the prior of the VAE is N\(0, I\)"),
    ("sample.transform_steps", 0, r"transform_steps=0 must be a positive integer"),
    ("sample.transform_realism_weight", -0.5, r"transform_realism_weight=-0.5 must be >= 0"),
])
def test_config_mistakes_name_the_key(key, value, message):
    with pytest.raises(ConfigError, match=message):
        _method(**{key: value})


def test_config_mistakes_are_reported_together_and_need_labels():
    with pytest.raises(ConfigError, match=r"(?s)vae_steps=5.*n_critic=3"):
        _method(**{"model.vae_steps": 5, "train.n_critic": 3})
    with pytest.raises(ConfigError, match="needs labelled data"):
        methods.build(tiny_latent_constraints(), DataInfo.labelled((28, 28, 1), None))
    config = tiny_latent_constraints()
    config.model.generator = dict(name="mlp_generator")
    with pytest.raises(ConfigError, match="model.generator.name='vae_actor'"):
        methods.build(config, MNIST)


def _changed(a, b):
    return [not np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b))]


def test_training_across_the_phase_boundary_freezes_exactly(tmp_path):
    """Real steps on built-in MNIST: 3 VAE updates, then 3 actor-critic updates. Phase 1 leaves the actor
    and the critic (parameters and optimizer states) bit-for-bit as initialised, phase 2 the VAE."""
    trainer = train_lib.Trainer(tiny_latent_constraints(steps=6, vae_steps=3), str(tmp_path))
    states, history = [jax.device_get(trainer.state)], []
    for _ in range(6):
        history.append(jax.device_get(trainer.train_steps(1)))
        states.append(jax.device_get(trainer.state))
        assert int(phase_counter(states[-1].generator.opt_state)) == int(states[-1].step)
        assert int(phase_counter(states[-1].discriminator.opt_state)) == int(states[-1].step)

    vae = lambda s: {k: v for k, v in s.generator.params.items() if k != "actor"}  # noqa: E731
    vae_opt = lambda s: s.generator.opt_state.inner_states["vae"]  # noqa: E731
    actor_opt = lambda s: s.generator.opt_state.inner_states["actor"]  # noqa: E731
    init, boundary, last = states[0], states[3], states[6]
    # Phase 1: the VAE trains; actor and critic untouched (parameters and Adam states).
    assert all(_changed(vae(init), vae(boundary)))
    assert not any(_changed(init.generator.params["actor"], boundary.generator.params["actor"]))
    assert not any(_changed(init.discriminator.params, boundary.discriminator.params))
    assert not any(_changed(actor_opt(init).inner_state.inner_state, actor_opt(boundary).inner_state.inner_state))
    assert not any(_changed(init.discriminator.opt_state.inner_state, boundary.discriminator.opt_state.inner_state))
    # Phase 2: the VAE frozen bit for bit (parameters and Adam state); actor and critic train.
    assert not any(_changed(vae(boundary), vae(last)))
    assert not any(_changed(vae_opt(boundary).inner_state.inner_state, vae_opt(last).inner_state.inner_state))
    assert all(_changed(boundary.generator.params["actor"], last.generator.params["actor"]))
    assert all(_changed(boundary.discriminator.params, last.discriminator.params))

    assert [h["g/phase"] for h in history] == [0, 0, 0, 1, 1, 1]
    for h in history:
        assert all(np.isfinite(v) for v in h.values()), h
    vae_steps, actor_steps = history[:3], history[3:]
    assert vae_steps[0]["g/neg_elbo"] != vae_steps[-1]["g/neg_elbo"] and vae_steps[0]["g/kl"] > 0
    assert all(h["d/loss"] == 0 and h["d/grad_norm"] == 0 and h["g/distance"] == 0 for h in vae_steps)
    assert all(h["d/attribute_loss"] == 0 for h in vae_steps)
    assert all(h["g/neg_elbo"] == 0 and h["d/loss"] > 0 and h["g/distance"] > 0 and h["d/attribute_loss"] > 0
               for h in actor_steps)
    for name in ("d/loss", "g/loss", "g/adversarial", "d/real_logit", "d/attribute_loss"):
        assert actor_steps[0][name] != actor_steps[-1][name], name

    # The identity-preserving transformation on real test images with the trained state: images of the same
    # shape in [-1, 1]; gradient ascent from z0 on J = log p_attr(target | z) + rho log D(z, target)
    # - lambda L_dist(z, z0), with L_dist >= 0 and 0 at z0, raises the target class's critic terms.
    method, state = trainer.method, trainer.state
    images = jnp.asarray(trainer.pipeline.local_batch(100)["image"][:4])
    targets = jnp.array([0, 3, 5, 9])
    transform = jax.jit(functools.partial(method.transform, steps=5, step_size=0.05, lambda_dist=0.1,
                                          realism_weight=1.0))
    out, z = transform(state.generator_variables(), state.discriminator.variables(), images, targets)
    assert out.shape == images.shape and float(jnp.abs(out).max()) <= 1.0
    z0 = method.encode(state.generator_variables(), images)[0]
    d_vars = state.discriminator.variables()
    target_terms = lambda z: (method.attribute_log_probs(d_vars, z)  # noqa: E731
                              + method.critic_log_probs(d_vars, z))[jnp.arange(4), targets]
    before, after = target_terms(z0), target_terms(z)
    assert bool(jnp.all(after > before)), (before, after)
    # Weights over classes replace the one-hot target: all-zero weights leave z0 where it is.
    _, z_same = transform(state.generator_variables(), state.discriminator.variables(), images, targets,
                          weights=jnp.zeros((10,)))
    np.testing.assert_allclose(z_same, z0, atol=1e-6)


def test_sample_command_writes_originals_and_transformations(tmp_path):
    train_lib.Trainer(tiny_latent_constraints(steps=2), str(tmp_path / "run")).run()
    out = tmp_path / "to7.png"
    result = _run("jaxgan.sample", "--workdir", str(tmp_path / "run"), "--transform_to=7", "--num=3", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Wrote 3 test images and their transformations to class 7 (step 2)" in result.stdout
    expected = image_io.make_grid(np.zeros((6, 28, 28, 1), np.uint8), ncol=3).shape  # 2 rows of 3.
    assert image_io.read_png(str(out)).shape == expected
    result = _run("jaxgan.sample", "--workdir", str(tmp_path / "run"), "--transform_to=12", "--out", str(out))
    assert result.returncode != 0 and "--transform_to=12 is outside [0, 10)" in result.stderr
