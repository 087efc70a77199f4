"""UNIT: weight sharing (one submodule, used by both domains), the forward's wiring and VAE noise by hand,
the losses by hand with probe Ds (what reaches each D, every scale summed), the code's KL term, one run of
each network per step, D first in a compiled step, the weight decay of the optimizer, the configs and the
paper-size networks."""

import dataclasses
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from jaxgan import config as config_lib
from jaxgan import methods, optim
from jaxgan import train as train_lib
from jaxgan.errors import ConfigError
from jaxgan.methods.base import ArraySpec, DataInfo, apply_train
from jaxgan.methods.unit import Discriminators, kl
from jaxgan.networks.unit import PrivateEncoder, PrivateGenerator, ResidualBlocks, UNITGenerator
from jaxgan.state import GANState, Side
from jaxgan.train_step import make_train_step

from conftest import called_modules, load_config, resume_trainer

D_A_SCALE, D_B_SCALE = 1.0, 3.0


class Probe(nn.Module):
    """A parameter-free two-scale D: logits ``scale`` * the image's mean and 2 ``scale`` * it."""

    scale: float

    @nn.compact
    def __call__(self, x, *, train):
        m = x.mean(axis=(1, 2, 3))[:, None, None, None]
        return [self.scale * m, 2 * self.scale * m]


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    return resume_trainer("unit", tmp_path_factory.mktemp("unit"))


def _state():
    side = Side(params={}, collections={}, opt_state=None)
    return GANState(step=jnp.zeros((), jnp.int32), rng=jax.random.PRNGKey(0), generator=side, discriminator=side,
                    ema_params=None, method_state={}, nonfinite_steps=jnp.zeros((), jnp.int32))


def _batch(trainer):
    return {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(0).items()}


# --- Weight sharing ---------------------------------------------------------------------------------------

def _bump(variables, path):
    """A copy of ``variables`` with 0.5 added to every parameter under ``path`` (a tuple of keys)."""
    params = jax.tree_util.tree_map_with_path(
        lambda p, x: x + 0.5 if tuple(k.key for k in p[:len(path)]) == path else x, variables["params"])
    return {**variables, "params": params}


def test_shared_layers_are_one_module_used_by_both_domains(trainer):
    """The tree holds encoder_a, encoder_b, generator_a, generator_b and ONE shared_encoder and ONE
    shared_generator; changing the shared encoder changes both domains' latents, changing encoder_a only
    domain a's; changing the shared generator changes both domains' images."""
    variables = trainer.state.generator_variables(use_ema=False)
    assert sorted(variables["params"]["net"]) == ["encoder_a", "encoder_b", "generator_a", "generator_b",
                                                  "shared_encoder", "shared_generator"]
    net = trainer.method.generators.net
    x = _batch(trainer)["image_a"][:2]

    def encodings(v):
        return [net.apply({"params": v["params"]["net"]}, x, d, method=UNITGenerator.encode) for d in "ab"]

    def decodings(v):
        z = encodings(variables)[0]
        return net.apply({"params": v["params"]["net"]}, z, method=UNITGenerator.decode_both)

    def changed(before, after):
        return [float(jnp.abs(b - a).max()) > 1e-6 for b, a in zip(before, after)]

    assert changed(encodings(variables), encodings(_bump(variables, ("net", "shared_encoder")))) == [True, True]
    assert changed(encodings(variables), encodings(_bump(variables, ("net", "encoder_a")))) == [True, False]
    assert changed(decodings(variables), decodings(_bump(variables, ("net", "shared_generator")))) == [True, True]
    assert changed(decodings(variables), decodings(_bump(variables, ("net", "generator_b")))) == [False, True]


def test_paper_size_parameters_are_the_codes_less_the_shared_blocks():
    """At dim 64, 2 downsamplings, 4 residual blocks (1 shared), RGB: the code's VAEGen counted by hand
    (conv7 3->64, 4x4 64->128, 128->256, 8 3x3 256->256 in the encoder; 8 of those, 5x5 256->128 + LN,
    128->64 + LN, conv7 64->3 in the decoder), twice, less one encoder and one decoder residual block."""
    conv = lambda cin, cout, k: cin * k * k * cout + cout  # noqa: E731
    block = 2 * conv(256, 256, 3)
    encoder = conv(3, 64, 7) + conv(64, 128, 4) + conv(128, 256, 4) + 4 * block
    decoder = 4 * block + conv(256, 128, 5) + 2 * 128 + conv(128, 64, 5) + 2 * 64 + conv(64, 3, 7)
    net = UNITGenerator(3, 3)
    shapes = jax.eval_shape(lambda: net.init(jax.random.PRNGKey(0), jnp.zeros((1, 64, 64, 3)), jnp.zeros((1, 64, 64, 3))))
    assert sum(p.size for p in jax.tree.leaves(shapes)) == 2 * (encoder + decoder) - 2 * block == 19_920_646


def test_generator_refuses_bad_sizes_and_sharing():
    net = UNITGenerator(1, 1, features=2, blocks=2)
    with pytest.raises(ConfigError, match="divisible by"):
        net.init(jax.random.PRNGKey(0), jnp.zeros((1, 18, 16, 1)), jnp.zeros((1, 18, 16, 1)))
    with pytest.raises(ConfigError, match="shared_blocks"):
        UNITGenerator(1, 1, features=2, blocks=2, shared_blocks=3).init(
            jax.random.PRNGKey(0), jnp.zeros((1, 16, 16, 1)), jnp.zeros((1, 16, 16, 1)))


# --- The forward, by hand -----------------------------------------------------------------------------------

def test_forward_is_the_papers_wiring_with_unit_variance_noise(trainer):
    """generator_forward(key) equals the compositions written out: z = mu + eps with eps the 4 normal draws
    of split(key, 4) in the order z_a, z_b, re-encoded fake_b, re-encoded fake_a."""
    method, state, batch = trainer.method, trainer.state, _batch(trainer)
    key = jax.random.PRNGKey(7)
    out, _ = method.generator_forward(state.generator.params, state, batch, key)
    v = {"params": state.generator.params["net"]}
    net = method.generators.net
    enc = lambda x, d: net.apply(v, x, d, method=UNITGenerator.encode)  # noqa: E731
    dec = lambda z, d: net.apply(v, z, d, method=UNITGenerator.decode)  # noqa: E731

    @jax.jit
    def by_hand(a, b):
        eps = [jax.random.normal(k, out["mu_a"].shape) for k in jax.random.split(key, 4)]
        mu_a, mu_b = enc(a, "a"), enc(b, "b")
        fake_b, fake_a = dec(mu_a + eps[0], "b"), dec(mu_b + eps[1], "a")
        mu_ab, mu_ba = enc(fake_b, "b"), enc(fake_a, "a")
        return {"mu_a": mu_a, "mu_b": mu_b, "rec_a": dec(mu_a + eps[0], "a"), "fake_b": fake_b,
                "fake_a": fake_a, "rec_b": dec(mu_b + eps[1], "b"), "mu_ab": mu_ab, "mu_ba": mu_ba,
                "cyc_a": dec(mu_ab + eps[2], "a"), "cyc_b": dec(mu_ba + eps[3], "b"),
                "fake_b_at_mean": dec(mu_a, "b")}

    expected = by_hand(batch["image_a"], batch["image_b"])
    at_mean = expected.pop("fake_b_at_mean")
    assert sorted(out) == sorted(expected)
    for name in expected:
        np.testing.assert_allclose(out[name], expected[name], atol=1e-4, err_msg=name)
    # The noise matters: the translation at the mean differs from the noisy one.
    assert float(jnp.abs(at_mean - out["fake_b"]).max()) > 1e-3


def test_translations_depend_on_input_and_direction(trainer):
    variables = trainer.state.generator_variables()
    x = _batch(trainer)["image_a"][:2]
    translate = jax.jit(trainer.method.translate, static_argnames="direction")
    to_b = translate(variables, x, jax.random.PRNGKey(0), direction="AtoB")
    to_a = translate(variables, x, jax.random.PRNGKey(0), direction="BtoA")
    assert to_b.shape == x.shape
    assert float(jnp.abs(to_b[0] - to_b[1]).mean()) > 1e-4  # Two digits, two translations.
    assert float(jnp.abs(to_b - to_a).mean()) > 1e-4  # G_b(E_a(x)) and G_a(E_b(x)).
    with pytest.raises(ConfigError, match="direction"):
        trainer.method.translate(variables, x, jax.random.PRNGKey(0), direction="AtoC")


# --- Losses by hand --------------------------------------------------------------------------------------------

def test_kl_is_the_codes_mean_square():
    mu = jnp.asarray([[[[1.0, -2.0]], [[0.5, 0.0]]], [[[3.0, 1.0]], [[-1.0, 2.0]]]])  # [2, 2, 1, 2]
    expected = np.mean(np.square(np.asarray(mu)))  # torch.mean(mu ** 2) of UNIT_Trainer.__compute_kl.
    np.testing.assert_allclose(kl(mu), expected, rtol=1e-6)
    # = 2/d KL(N(mu, I) || N(0, I)), the KL being 1/2 ||mu||^2 per example (d = 4).
    np.testing.assert_allclose(kl(mu), 2 / 4 * np.mean(0.5 * np.square(np.asarray(mu)).sum(axis=(1, 2, 3))))


VALUES = dict(a=0.1, b=0.5, rec_a=0.15, rec_b=0.4, fake_a=-0.2, fake_b=0.3, cyc_a=0.0, cyc_b=0.8)


def test_losses_by_hand_with_what_reaches_each_d(trainer):
    """D_a sees real a and fake_a = G_a(z_b), D_b real b and fake_b; each D's 2 scales are summed. With the
    code's weights (w = 2 on jaxgan's halved LSGAN, 10, 0.01, 10, 0.01):
    loss_D = 2 sum_s [1/2 (D_a^s(a) - 1)^2 + 1/2 D_a^s(fake_a)^2 + the same for D_b];
    loss_G = 2 sum_s [1/2 (D_a^s(fake_a) - 1)^2 + 1/2 (D_b^s(fake_b) - 1)^2] + 10 (|rec_a - a| + |rec_b - b|)
    + 0.01 (mean mu_a^2 + mean mu_b^2) + 10 (|cyc_a - a| + |cyc_b - b|) + 0.01 (mean mu_ab^2 + mean mu_ba^2)."""
    method = dataclasses.replace(trainer.method, discriminators=Discriminators(Probe(D_A_SCALE), Probe(D_B_SCALE)))
    const = lambda v: jnp.full((2, 4, 4, 1), v, jnp.float32)  # noqa: E731
    v = VALUES
    batch = {"image_a": const(v["a"]), "image_b": const(v["b"])}
    mus = {name: jnp.arange(8.0).reshape(2, 2, 2, 1) * s for name, s in
           (("mu_a", 0.1), ("mu_b", -0.2), ("mu_ab", 0.3), ("mu_ba", 0.05))}
    generated = {**{k: const(v[k]) for k in ("rec_a", "rec_b", "fake_a", "fake_b", "cyc_a", "cyc_b")}, **mus}
    scales = (1, 2)
    d_loss, (d_metrics, _) = method.discriminator_loss({}, _state(), batch, generated, jax.random.PRNGKey(1))
    d_a = sum(0.5 * (s * D_A_SCALE * v["a"] - 1) ** 2 + 0.5 * (s * D_A_SCALE * v["fake_a"]) ** 2 for s in scales)
    d_b = sum(0.5 * (s * D_B_SCALE * v["b"] - 1) ** 2 + 0.5 * (s * D_B_SCALE * v["fake_b"]) ** 2 for s in scales)
    np.testing.assert_allclose(d_loss, 2 * (d_a + d_b), rtol=1e-6)
    np.testing.assert_allclose([d_metrics["da_real_logit"], d_metrics["db_fake_logit"]],
                               [D_A_SCALE * v["a"], D_B_SCALE * v["fake_b"]], rtol=1e-6)
    g_loss, (g_metrics, _) = method.generator_loss(generated, _state(), batch, jax.random.PRNGKey(2))
    adversarial = 2 * sum(0.5 * (s * D_A_SCALE * v["fake_a"] - 1) ** 2 + 0.5 * (s * D_B_SCALE * v["fake_b"] - 1) ** 2
                          for s in scales)
    ms = {k: float(np.mean(np.square(np.asarray(m)))) for k, m in mus.items()}
    expected = {"reconstruction": 10 * (abs(v["rec_a"] - v["a"]) + abs(v["rec_b"] - v["b"])),
                "kl": 0.01 * (ms["mu_a"] + ms["mu_b"]),
                "cycle": 10 * (abs(v["cyc_a"] - v["a"]) + abs(v["cyc_b"] - v["b"])),
                "cycle_kl": 0.01 * (ms["mu_ab"] + ms["mu_ba"])}
    for name, value in expected.items():
        np.testing.assert_allclose(g_metrics[name], value, rtol=1e-5, err_msg=name)
    np.testing.assert_allclose(g_loss, adversarial + sum(expected.values()), rtol=1e-5)


# --- The step ---------------------------------------------------------------------------------------------------

def test_each_network_runs_once_per_step(trainer):
    """Per step: encoder_a on a and fake_a, encoder_b on b and fake_b (2 each); generator_a for rec_a, fake_a,
    cyc_a, generator_b for rec_b, fake_b, cyc_b (3 each); the shared encoder 4 times and the shared generator
    4 (once per latent: decode_both runs it once for two outputs); none repeated by G's gradient or D."""
    calls = [name for name in called_modules(trainer, (PrivateEncoder, PrivateGenerator, ResidualBlocks))
             if name.startswith(("encoder", "generator", "shared"))]
    assert sorted(calls) == sorted(["encoder_a"] * 2 + ["encoder_b"] * 2 + ["generator_a"] * 3
                                   + ["generator_b"] * 3 + ["shared_encoder"] * 4 + ["shared_generator"] * 4)


def test_real_steps_discriminator_first(trainer):
    """Two compiled steps of the tiny config (last in this module: it trains the shared trainer). Step 1: D
    learned from this step's translations under the start-of-step D, and G's adversarial terms are those of
    the D the step produced (D first, the code's dis_update then gen_update)."""
    method, old = trainer.method, jax.device_get(trainer.state)
    batch = _batch(trainer)
    forward_rng = jax.random.split(jax.random.fold_in(old.rng, old.step), 3)[2]
    generated, _ = jax.jit(method.generator_forward)(old.generator.params, old, batch, forward_rng)
    metrics = jax.device_get(trainer.train_steps(1))
    apply = jax.jit(lambda variables: apply_train(method.discriminators, variables, generated["fake_a"],
                                                  generated["fake_b"], rng=jax.random.PRNGKey(0)))

    def finest_fake_logits(side):
        (da, db), _ = apply(side.variables())
        return float(da[0].mean()), float(db[0].mean())

    old_logits, new_logits = finest_fake_logits(old.discriminator), finest_fake_logits(trainer.state.discriminator)
    np.testing.assert_allclose([metrics["d/da_fake_logit"], metrics["d/db_fake_logit"]], old_logits, rtol=1e-4)
    np.testing.assert_allclose([metrics["g/da_fake_logit"], metrics["g/db_fake_logit"]], new_logits, rtol=1e-4)
    assert abs(old_logits[0] - new_logits[0]) > 1e-6
    metrics = jax.device_get(trainer.train_steps(1))
    assert all(np.isfinite(m) for m in jax.tree.leaves(metrics))
    assert int(trainer.state.step) == 2


# --- Weight decay in the optimizer --------------------------------------------------------------------------------

def _side_config(**overrides):
    return ml_collections.ConfigDict({**config_lib.optimizer_config().to_dict(), **overrides})


def test_weight_decay_is_added_to_the_gradient_before_the_rule():
    """PyTorch's weight_decay: the rule sees g + lambda theta. SGD(0.1), lambda 0.1, theta (1, -2), g (0.5, 0.5):
    update -0.1 (0.6, 0.3). Adam's first update is -lr (g + lambda theta) / |g + lambda theta| = -lr per
    coordinate here (coupled: normalised with the gradient; AdamW would give -lr (sign(g) + lambda theta))."""
    params = {"w": jnp.asarray([1.0, -2.0])}
    grads = {"w": jnp.asarray([0.5, 0.5])}
    sgd = optim.build(_side_config(name="sgd", learning_rate=0.1, weight_decay=0.1))
    updates, _ = sgd.update(grads, sgd.init(params), params)
    np.testing.assert_allclose(updates["w"], [-0.06, -0.03], rtol=1e-6)
    adam = optim.build(_side_config(learning_rate=1e-3, weight_decay=0.1))
    updates, _ = adam.update({"w": jnp.asarray([0.05, 0.5])}, adam.init(params), params)  # g' = (0.15, 0.3).
    np.testing.assert_allclose(updates["w"], [-1e-3, -1e-3], rtol=1e-5)
    # Without weight decay the optimizer is the rule alone (the state of runs saved before the option).
    plain = optim.build(_side_config(learning_rate=1e-3))
    assert type(adam.init(params)) is tuple and type(plain.init(params)) is not tuple  # A chain's state, or not.


def test_weight_decay_must_be_non_negative():
    config = load_config("unit_mnist")
    config.optimizer.generator.weight_decay = -1e-4
    with pytest.raises(ConfigError, match="optimizer.generator.weight_decay"):
        config_lib.validate(config)


# --- Configs and the paper's size ---------------------------------------------------------------------------------

def test_mnist_config_builds_the_codes_method():
    config = load_config("unit_mnist")
    config_lib.validate(config)
    data = DataInfo({"image_a": ArraySpec((32, 32, 1), "float32"), "image_b": ArraySpec((32, 32, 1), "float32")})
    method = methods.build(config, data)
    assert (method.adversarial_weight, method.lambda_reconstruction, method.lambda_kl, method.lambda_cycle,
            method.lambda_cycle_kl, method.update_order) == (2.0, 10.0, 0.01, 10.0, 0.01, "discriminator_first")
    assert method.discriminators.d_a.num_d == 3
    config.model.generator = dict(name="resnet_translator")
    with pytest.raises(ConfigError, match="unit_generator"):
        methods.build(config, data)


def test_paper_size_networks_build_and_trace_a_step():
    """configs/unit_paper.py at 256x256, batch 1, shapes only (jax.eval_shape: a real step of the 19.9 M
    parameter generator side, 4 encodings and 6 decodings at 256x256, takes minutes on the shared test CPU):
    19,920,646 generator parameters, 2 x 3 PatchGANs of 2,764,737 (C64-C128-C256-C512 + logit, no norm),
    the optimizers carry the weight decay, and the step's metrics are scalars."""
    config = load_config("unit_paper")
    config_lib.validate(config)
    data = DataInfo({"image_a": ArraySpec((256, 256, 3), "float32"), "image_b": ArraySpec((256, 256, 3), "float32")})
    method = methods.build(config, data)
    config.train.steps = 2
    g_tx, d_tx = optim.build_pair(config, method)
    state = jax.eval_shape(functools.partial(train_lib.init_state, method, config, g_tx, d_tx), data.example(1))
    count = lambda tree: sum(p.size for p in jax.tree.leaves(tree))  # noqa: E731
    assert count(state.generator.params) == 19_920_646
    assert count(state.discriminator.params) == 6 * 2_764_737
    assert isinstance(state.generator.opt_state, tuple) and len(state.generator.opt_state) == 2  # Decay, Adam.
    step = make_train_step(method, discriminator_tx=d_tx, generator_tx=g_tx)
    new_state, metrics = jax.eval_shape(step, state, data.example(1))
    assert all(m.shape == () for m in metrics.values()) and "g/cycle_kl" in metrics
    assert jax.tree.structure(new_state) == jax.tree.structure(state)
