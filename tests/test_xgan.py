"""XGAN: weight sharing (one submodule used by both domains), the forward's wiring by hand, every loss by
hand from the paper's equations with probe Ds and a probe c_dann (which images and embeddings reach which
network), both domain-adversarial encoder losses, one run of each network per step, D first in real
compiled steps, the configs' checks and the paper-size networks (2 steps at batch 1)."""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import config as config_lib
from jaxgan import images, methods
from jaxgan import train as train_lib
from jaxgan.errors import ConfigError
from jaxgan.methods.base import ArraySpec, DataInfo, apply_train
from jaxgan.methods.xgan import Discriminators
from jaxgan.networks.xgan import DecoderLayers, EncoderLayers, XGANAutoEncoders

from conftest import called_modules, load_config, one_device_mesh, probe_state, resume_trainer

DATA = DataInfo({"image_a": ArraySpec((32, 32, 1), "float32"), "image_b": ArraySpec((32, 32, 1), "float32")})


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    return resume_trainer("xgan", tmp_path_factory.mktemp("xgan"))


def _batch(trainer):
    return {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(0).items()}


# --- Weight sharing ---------------------------------------------------------------------------------------------

def _bump(variables, name):
    params = jax.tree_util.tree_map_with_path(
        lambda p, x: x + 0.5 if p[1].key == name else x, variables["params"])
    return {**variables, "params": params}


def test_shared_layers_are_one_module_used_by_both_domains(trainer):
    """ONE shared_encoder (last conv + embedding layer) and ONE shared_decoder (projection + first
    transposed conv) in the tree; bumping them changes both domains, a private part only its own."""
    variables = trainer.state.generator_variables(use_ema=False)
    assert sorted(variables["params"]["net"]) == ["decoder_a", "decoder_b", "encoder_a", "encoder_b",
                                                  "shared_decoder", "shared_encoder"]
    net = trainer.method.generators.net
    x = _batch(trainer)["image_a"][:2]

    def sub(v):
        return {k: c["net"] for k, c in v.items()}

    def encodings(v):
        return [net.apply(sub(v), x, d, train=False, method=XGANAutoEncoders.encode) for d in "ab"]

    def decodings(v):
        return net.apply(sub(v), encodings(variables)[0], train=False, method=XGANAutoEncoders.decode_both)

    def changed(before, after):
        return [float(jnp.abs(b - a).max()) > 1e-6 for b, a in zip(before, after)]

    assert changed(encodings(variables), encodings(_bump(variables, "shared_encoder"))) == [True, True]
    assert changed(encodings(variables), encodings(_bump(variables, "encoder_a"))) == [True, False]
    assert changed(decodings(variables), decodings(_bump(variables, "shared_decoder"))) == [True, True]
    assert changed(decodings(variables), decodings(_bump(variables, "decoder_b"))) == [False, True]


def test_network_refuses_bad_sharing_and_sizes():
    x = jnp.zeros((1, 16, 16, 1))
    with pytest.raises(ConfigError, match="shared_layers=2 must be in"):
        XGANAutoEncoders(1, 1, (16, 16), features=(2, 4), shared_layers=2).init(jax.random.PRNGKey(0), x, x, train=False)
    with pytest.raises(ConfigError, match="divisible by 2\\^len\\(features\\) = 8"):
        XGANAutoEncoders(1, 1, (12, 12), features=(2, 4, 4)).init(jax.random.PRNGKey(0), x[:, :12, :12], x[:, :12, :12],
                                                                   train=False)


# --- The forward, by hand ------------------------------------------------------------------------------------------

def test_forward_is_the_papers_wiring(trainer):
    """generator_forward = e_a(a), e_b(b), d_a/d_b of each, and the translations re-encoded by the other
    domain's encoder: e_b(d_b(e_a(a))), e_a(d_a(e_b(b))), all in training mode."""
    method, state, batch = trainer.method, trainer.state, _batch(trainer)
    out, _ = method.generator_forward(state.generator.params, state, batch, jax.random.PRNGKey(3))
    v = {"params": state.generator.params["net"], "batch_stats": state.generator.collections["batch_stats"]["net"]}
    net = method.generators.net

    def call(fn, *args):
        return net.apply(v, *args, train=True, method=fn, mutable=["batch_stats"])[0]

    enc = lambda x, d: call(XGANAutoEncoders.encode, x, d)  # noqa: E731
    dec = lambda z, d: call(XGANAutoEncoders.decode, z, d)  # noqa: E731
    e_a, e_b = enc(batch["image_a"], "a"), enc(batch["image_b"], "b")
    fake_b, fake_a = dec(e_a, "b"), dec(e_b, "a")
    expected = {"embedding_a": e_a, "embedding_b": e_b, "rec_a": dec(e_a, "a"), "rec_b": dec(e_b, "b"),
                "fake_a": fake_a, "fake_b": fake_b, "embedding_ab": enc(fake_b, "b"), "embedding_ba": enc(fake_a, "a")}
    assert sorted(out) == sorted(expected)
    for name in expected:
        np.testing.assert_allclose(out[name], expected[name], atol=1e-5, err_msg=name)
    assert out["embedding_a"].shape == (trainer.config.train.batch_size, 8)  # The 8-d embedding.


def test_translations_depend_on_input_and_direction(trainer):
    variables = trainer.state.generator_variables()
    x = _batch(trainer)["image_a"][:2]
    translate = jax.jit(trainer.method.translate, static_argnames="direction")
    to_b = translate(variables, x, jax.random.PRNGKey(0), direction="AtoB")
    to_a = translate(variables, x, jax.random.PRNGKey(0), direction="BtoA")
    assert to_b.shape == x.shape
    # At initialisation (N(0, 0.02^2) weights, running statistics) the outputs are tiny: compare to their size.
    scale = float(jnp.abs(to_b).mean())
    assert scale > 0 and float(jnp.abs(to_b[0] - to_b[1]).mean()) > 0.05 * scale  # Two digits, two translations.
    assert float(jnp.abs(to_b - to_a).mean()) > 0.05 * scale  # d_b(e_a(x)) and d_a(e_b(x)).
    with pytest.raises(ConfigError, match="direction"):
        trainer.method.translate(variables, x, jax.random.PRNGKey(0), direction="AtoC")
    columns = jax.jit(trainer.method.panel_columns)(variables, _batch(trainer))
    assert len(columns) == len(trainer.method.panel_column_names) == 6
    np.testing.assert_allclose(columns[2], translate(variables, _batch(trainer)["image_a"], jax.random.PRNGKey(0)),
                               atol=1e-6)


# --- Losses by hand -----------------------------------------------------------------------------------------------

class ProbeD(nn.Module):
    """Logit ``scale`` * the image's mean: it says which images a D saw."""

    scale: float

    @nn.compact
    def __call__(self, x, *, train):
        return self.scale * x.mean(axis=(1, 2, 3))


class ProbeC(nn.Module):
    """c_dann's logit: 2 * the embedding's mean (its input is the embedding as a 1x1 map)."""

    num_outputs: int = 1

    @nn.compact
    def __call__(self, z, *, train):
        assert z.shape[1:3] == (1, 1)
        return 2.0 * z.mean(axis=(1, 2, 3))[:, None]


V = dict(a=0.1, b=0.5, rec_a=0.15, rec_b=0.4, fake_a=-0.2, fake_b=0.3,
         embedding_a=0.2, embedding_b=-0.3, embedding_ab=0.5, embedding_ba=-0.1)
SP = lambda t: float(np.log1p(np.exp(t)))  # noqa: E731  softplus: -log sigmoid(-t).


def _probe_method(trainer, **overrides):
    return dataclasses.replace(trainer.method, discriminators=Discriminators(ProbeD(1.0), ProbeD(3.0), ProbeC()),
                               omega_rec=2.0, omega_dann=0.5, omega_sem=3.0, omega_gan=0.7, **overrides)


def _constants():
    image = lambda v: jnp.full((2, 4, 4, 1), v, jnp.float32)  # noqa: E731
    batch = {"image_a": image(V["a"]), "image_b": image(V["b"])}
    generated = {k: image(V[k]) for k in ("rec_a", "rec_b", "fake_a", "fake_b")}
    generated.update({k: jnp.full((2, 8), V[k], jnp.float32) for k in
                      ("embedding_a", "embedding_b", "embedding_ab", "embedding_ba")})
    return batch, generated


def test_discriminator_side_loss_by_hand(trainer):
    """L_D = omega_gan [-log s(D_a(a)) - log(1 - s(D_a(g_ba))) - log s(D_b(b)) - log(1 - s(D_b(g_ab)))]
    + omega_dann [-log s(c(e_a(a))) - log(1 - s(c(e_b(b))))]: D_a sees a and fake_a, D_b b and fake_b, c_dann
    the two embeddings with domain a as 1 (s the sigmoid; D_a = mean, D_b = 3 mean, c = 2 mean)."""
    method = _probe_method(trainer)
    batch, generated = _constants()
    loss, (metrics, _) = method.discriminator_loss({}, probe_state(), batch, generated, jax.random.PRNGKey(1))
    d_a = SP(-V["a"]) + SP(V["fake_a"])
    d_b = SP(-3 * V["b"]) + SP(3 * V["fake_b"])
    dann = SP(-2 * V["embedding_a"]) + SP(2 * V["embedding_b"])
    np.testing.assert_allclose([metrics["d_a"], metrics["d_b"], metrics["dann"]], [d_a, d_b, dann], rtol=1e-5)
    np.testing.assert_allclose(loss, 0.7 * (d_a + d_b) + 0.5 * dann, rtol=1e-5)
    np.testing.assert_allclose(metrics["dann_accuracy"], 1.0)  # e_a's logit 0.4 > 0, e_b's -0.6 < 0.
    for e_a, e_b, accuracy in ((-0.2, 0.3, 0.0), (0.0, 0.0, 0.5), (0.0, -0.1, 0.75)):  # Ties score 1/2.
        tied = {**generated, "embedding_a": jnp.full((2, 8), e_a), "embedding_b": jnp.full((2, 8), e_b)}
        _, (metrics, _) = method.discriminator_loss({}, probe_state(), batch, tied, jax.random.PRNGKey(1))
        np.testing.assert_allclose(metrics["dann_accuracy"], accuracy, err_msg=(e_a, e_b))


@pytest.mark.parametrize("dann_encoder", ["gradient_reversal", "swapped_labels"])
def test_generator_side_loss_by_hand(trainer, dann_encoder):
    """L_G = omega_rec (|rec_a - a| + |rec_b - b|) + omega_dann L_dann^enc + omega_sem (|e_b(g_ab) - e_a(a)|
    + |e_a(g_ba) - e_b(b)|) + omega_gan (-log s(D_a(g_ba)) - log s(D_b(g_ab))), L_dann^enc = -L_dann
    (gradient reversal) or c_dann's loss with the domains' labels swapped."""
    method = _probe_method(trainer, dann_encoder_loss=dann_encoder)
    batch, generated = _constants()
    loss, (metrics, _) = method.generator_loss(generated, probe_state(), batch, jax.random.PRNGKey(2))
    dann = (-(SP(-2 * V["embedding_a"]) + SP(2 * V["embedding_b"])) if dann_encoder == "gradient_reversal"
            else SP(-2 * V["embedding_b"]) + SP(2 * V["embedding_a"]))
    expected = {"reconstruction": 2.0 * (abs(V["rec_a"] - V["a"]) + abs(V["rec_b"] - V["b"])),
                "dann": 0.5 * dann,
                "semantic": 3.0 * (abs(V["embedding_ab"] - V["embedding_a"]) + abs(V["embedding_ba"] - V["embedding_b"])),
                "gan": 0.7 * (SP(-V["fake_a"]) + SP(-3 * V["fake_b"]))}
    for name, value in expected.items():
        np.testing.assert_allclose(metrics[name], value, rtol=1e-5, err_msg=name)
    np.testing.assert_allclose(loss, sum(expected.values()), rtol=1e-5)


def test_l2_distance_squares_the_differences(trainer):
    method = _probe_method(trainer, distance="l2")
    batch, generated = _constants()
    _, (metrics, _) = method.generator_loss(generated, probe_state(), batch, jax.random.PRNGKey(2))
    np.testing.assert_allclose(metrics["reconstruction"], 2.0 * ((V["rec_a"] - V["a"]) ** 2 + (V["rec_b"] - V["b"]) ** 2),
                               rtol=1e-5)


# --- The step --------------------------------------------------------------------------------------------------------

def test_each_network_runs_once_per_step(trainer):
    """Per step: encoder_a on a and on fake_a, encoder_b on b and fake_b (2 each), the shared encoder 4 times;
    the shared decoder once per embedding (2: decode_both runs it once for two outputs), decoder_a and
    decoder_b 2 each; none repeated by G's gradient or by D's loss."""
    calls = called_modules(trainer, (EncoderLayers, DecoderLayers))
    assert sorted(calls) == sorted(["encoder_a"] * 2 + ["encoder_b"] * 2 + ["shared_encoder"] * 4
                                   + ["shared_decoder"] * 2 + ["decoder_a"] * 2 + ["decoder_b"] * 2)


def test_real_steps_discriminator_first(trainer):
    """Two compiled steps of the tiny config (last of the trainer's tests: it trains it). Step 1: D's metrics
    are the start-of-step D on this step's translations, G's those of the D the step produced; c_dann
    learned."""
    method, old = trainer.method, jax.device_get(trainer.state)
    batch = _batch(trainer)
    forward_rng = jax.random.split(jax.random.fold_in(old.rng, old.step), 3)[2]
    generated, _ = jax.jit(method.generator_forward)(old.generator.params, old, batch, forward_rng)
    metrics = jax.device_get(trainer.train_steps(1))
    apply = jax.jit(lambda variables: apply_train(method.discriminators, variables, "images", generated["fake_a"],
                                                  generated["fake_b"], rng=jax.random.PRNGKey(0)))

    def fake_logits(side):
        (da, db), _ = apply(side.variables())
        return float(da.mean()), float(db.mean())

    old_logits, new_logits = fake_logits(old.discriminator), fake_logits(trainer.state.discriminator)
    np.testing.assert_allclose([metrics["d/da_fake_logit"], metrics["d/db_fake_logit"]], old_logits, rtol=1e-4)
    np.testing.assert_allclose([metrics["g/da_fake_logit"], metrics["g/db_fake_logit"]], new_logits, rtol=1e-4)
    assert abs(old_logits[0] - new_logits[0]) > 1e-6
    c_old = old.discriminator.params["c_dann"]
    c_new = jax.device_get(trainer.state.discriminator.params["c_dann"])
    assert any(float(np.abs(o - n).max()) > 0 for o, n in zip(jax.tree.leaves(c_old), jax.tree.leaves(c_new)))
    metrics = jax.device_get(trainer.train_steps(1))
    assert all(np.isfinite(m) for m in jax.tree.leaves(metrics))
    assert int(trainer.state.step) == 2


# --- Configs and the paper's size ------------------------------------------------------------------------------------

def test_mnist_config_and_its_checks():
    config = load_config("xgan_mnist")
    config_lib.validate(config)
    method = methods.build(config, DATA)
    assert (method.omega_rec, method.omega_dann, method.omega_sem, method.omega_gan, method.dann_encoder_loss,
            method.update_order) == (10.0, 1.0, 1.0, 1.0, "swapped_labels", "discriminator_first")
    for key, value, match in (("dann_encoder", "reverse", "dann_encoder='reverse' is not one of"),
                              ("distance", "cosine", "distance='cosine'"),
                              ("omega_sem", -1.0, "omega_sem=-1.0: method 'xgan' needs a weight >= 0")):
        bad = load_config("xgan_mnist")
        bad.loss[key] = value
        with pytest.raises(ConfigError, match=match):
            methods.build(bad, DATA)
    bad = load_config("xgan_mnist")
    bad.model.generator = dict(name="unit_generator")
    with pytest.raises(ConfigError, match="xgan_autoencoders"):
        methods.build(bad, DATA)
    bad = load_config("xgan_mnist")
    del bad.model["domain_classifier"]
    with pytest.raises(ConfigError, match="domain_classifier"):
        methods.build(bad, DATA)
    with pytest.raises(ConfigError, match="one height and width"):
        methods.build(config, DataInfo({"image_a": ArraySpec((32, 32, 1), "float32"),
                                        "image_b": ArraySpec((16, 16, 1), "float32")}))


def test_paper_size_networks_two_steps(tmp_path):
    """configs/xgan_paper.py at 64x64 RGB from a folder in CycleGAN's layout, batch 1 on one device: the
    embedding is 1024-d and the shared layers hold the last two encoder convolutions; 2 finite steps."""
    rng = np.random.default_rng(0)
    for domain in ("trainA", "trainB"):
        (tmp_path / "data" / domain).mkdir(parents=True)
        for i in range(2):
            images.write_png(str(tmp_path / "data" / domain / f"{i}.png"), rng.integers(0, 256, (64, 64, 3), np.uint8))
    config = load_config("xgan_paper")
    config.data.source = f"unpaired:{tmp_path / 'data'}"
    config.train.batch_size = 1
    config.train.steps = 2
    trainer = train_lib.Trainer(config, str(tmp_path / "run"), mesh=one_device_mesh())
    assert trainer.data.shape("image_a") == (64, 64, 3)
    shared = trainer.state.generator.params["net"]["shared_encoder"]
    assert shared["Dense_0"]["kernel"].shape == (4 * 4 * 512, 1024) and shared["Conv_0"]["kernel"].shape[-1] == 256
    metrics = jax.device_get(trainer.train_steps(2))
    assert trainer.step == 2 and all(np.isfinite(v) for v in metrics.values())
