"""CycleGAN (and the DualGAN / DiscoGAN configs): the ResNet translator's layers and size, the losses by
hand with what reaches each D (through the image pools), G first, one run of each generator
application per step, the pools in the state, a test-made CycleGAN folder trained and translated
both ways, and the paper-size networks."""

import dataclasses
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgan import images, methods, optim
from jaxgan import train as train_lib
from jaxgan.errors import ConfigError
from jaxgan.methods import image_pool
from jaxgan.methods.base import ArraySpec, DataInfo, apply_train
from jaxgan.methods.cyclegan import Discriminators
from jaxgan.networks.conv import ConvTranspose, correlation_kernel
from jaxgan.networks.resnet_translator import UP_PADDING, ResNetTranslator
from jaxgan.state import GANState, Side
from jaxgan.train_step import make_train_step

from conftest import load_config, one_device_mesh, tiny_cyclegan
from test_cli import _run

D_A_SCALE, D_B_SCALE = 1.0, 3.0


class Probe(nn.Module):
    """A parameter-free D whose logit is ``scale`` * the image's mean: it tells which image it saw."""

    scale: float

    @nn.compact
    def __call__(self, x, *, train):
        return (self.scale * x.mean(axis=(1, 2, 3)))[:, None, None, None]


def _probe_method(trainer, **changes):
    return dataclasses.replace(trainer.method, discriminators=Discriminators(Probe(D_A_SCALE), Probe(D_B_SCALE)),
                               **changes)


def _state(method_state):
    side = Side(params={}, collections={}, opt_state=None)
    return GANState(step=jnp.zeros((), jnp.int32), rng=jax.random.PRNGKey(0), generator=side, discriminator=side,
                    ema_params=None, method_state=method_state, nonfinite_steps=jnp.zeros((), jnp.int32))


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    """Batch 4 and pools of 6: the pools are still filling in the first step."""
    return train_lib.Trainer(tiny_cyclegan(batch_size=4), str(tmp_path_factory.mktemp("cyclegan")),
                             mesh=one_device_mesh())


# --- The ResNet translator ---------------------------------------------------------------------------

def test_transposed_convolution_is_pytorchs_k3_s2_p1_output_padding_1():
    """y[i s - p + k] += x[i] W[k] (PyTorch's ConvTranspose2d(3, stride 2, padding 1, output_padding 1),
    weight [in, out, kh, kw] = Flax's kernel [kh, kw, out, in] = correlation_kernel(W') of the layer's W'),
    cropped to 2H x 2W."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 3, 4, 2)).astype(np.float32)
    layer = ConvTranspose(5, (3, 3), strides=(2, 2), padding=UP_PADDING, transpose_kernel=True, use_bias=False)
    variables = layer.init(jax.random.PRNGKey(0), jnp.asarray(x))
    kernel = np.asarray(correlation_kernel(variables["params"]["correlation_kernel"]))  # [kh, kw, out, in]
    y = np.asarray(layer.apply(variables, jnp.asarray(x)))
    h, w = x.shape[1:3]
    full = np.zeros((2 * h + 2, 2 * w + 2, 5))  # Uncropped: (N - 1) s + k, then padding 1 off the front.
    for i in range(h):
        for j in range(w):
            for kh in range(3):
                for kw in range(3):
                    full[2 * i + kh, 2 * j + kw] += kernel[kh, kw] @ x[0, i, j]
    assert y.shape == (1, 2 * h, 2 * w, 5)
    np.testing.assert_allclose(y[0], full[1:1 + 2 * h, 1:1 + 2 * w], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("blocks, expected", [(9, 11_378_179), (6, 7_837_699)])
def test_parameter_counts_match_the_reference(blocks, expected):
    """resnet_9blocks / resnet_6blocks at ngf 64, 3 -> 3 channels, instance norm: counted from the layer
    shapes (c7s1-64: 9,472; d128: 73,856; d256: 295,168; R256: 1,180,160 each; u128: 295,040;
    u64: 73,792; c7s1-3: 9,411); junyanz's code prints 11.378 M and 7.838 M."""
    net = ResNetTranslator(3, features=64, blocks=blocks)
    shapes = jax.eval_shape(lambda: net.init(jax.random.PRNGKey(0), jnp.zeros((1, 64, 64, 3)), train=False))
    assert sum(p.size for p in jax.tree.leaves(shapes)) == expected


def test_translator_keeps_the_size_and_refuses_a_bad_one():
    net = ResNetTranslator(1, features=2, blocks=1)
    init = lambda h, w: jax.eval_shape(  # noqa: E731
        lambda: net.init_with_output(jax.random.PRNGKey(0), jnp.zeros((2, h, w, 3)), train=False))
    assert init(12, 8)[0].shape == (2, 12, 8, 1)
    with pytest.raises(ConfigError, match="not divisible by"):
        init(10, 8)


# --- Losses, what reaches D, the pools ------------------------------------------------------------------

VALUES = dict(a=0.1, b=0.5, fake_b=0.3, fake_a=-0.2, rec_a=0.15, rec_b=0.4, idt_a=0.45, idt_b=0.2)


def _constant(v, n=2):
    return jnp.full((n, 4, 4, 1), v, jnp.float32)


def _batch_and_generated():
    batch = {"image_a": _constant(VALUES["a"]), "image_b": _constant(VALUES["b"])}
    generated = {k: _constant(VALUES[k]) for k in ("fake_b", "fake_a", "rec_a", "rec_b", "idt_a", "idt_b")}
    return batch, generated


@pytest.mark.parametrize("cycle_norm", ["l1", "l2"])
def test_losses_by_hand_with_what_reaches_each_d(trainer, cycle_norm):
    """No pool: D_A sees real b and G_A(a), D_B real a and G_B(b). LSGAN with weight 2 (the paper's MSE):
    loss_D = 2 (1/2 [1/2 (D_A(b) - 1)^2 + 1/2 D_A(fake_b)^2] + the same for D_B on a, fake_a);
    loss_G = 2 [1/2 (D_A(fake_b) - 1)^2 + 1/2 (D_B(fake_a) - 1)^2] + 10 |rec_a - a| + 10 |rec_b - b|
    + 0.5 (10 |idt_a - b| + 10 |idt_b - a|); with cycle_norm 'l2' squares in place of |.|."""
    method = _probe_method(trainer, pool_size=0, cycle_norm=cycle_norm)
    batch, generated = _batch_and_generated()
    v = VALUES
    r_a, f_a = D_A_SCALE * v["b"], D_A_SCALE * v["fake_b"]
    r_b, f_b = D_B_SCALE * v["a"], D_B_SCALE * v["fake_a"]
    d_loss, (d_metrics, _, new_state) = method.discriminator_loss({}, _state({}), batch, generated,
                                                                  jax.random.PRNGKey(1))
    d_a, d_b = 0.5 * (0.5 * (r_a - 1) ** 2 + 0.5 * f_a ** 2), 0.5 * (0.5 * (r_b - 1) ** 2 + 0.5 * f_b ** 2)
    np.testing.assert_allclose(d_loss, 2 * (d_a + d_b), rtol=1e-6)
    np.testing.assert_allclose([d_metrics[k] for k in ("da_real_logit", "da_fake_logit", "db_real_logit",
                                                        "db_fake_logit")], [r_a, f_a, r_b, f_b], rtol=1e-6)
    assert new_state == {}
    dist = (lambda p, t: abs(p - t)) if cycle_norm == "l1" else (lambda p, t: (p - t) ** 2)
    g_loss, (g_metrics, _) = method.generator_loss(generated, _state({}), batch, jax.random.PRNGKey(2))
    cycle = 10 * dist(v["rec_a"], v["a"]) + 10 * dist(v["rec_b"], v["b"])
    identity = 0.5 * (10 * dist(v["idt_a"], v["b"]) + 10 * dist(v["idt_b"], v["a"]))
    np.testing.assert_allclose(g_loss, 2 * (0.5 * (f_a - 1) ** 2 + 0.5 * (f_b - 1) ** 2) + cycle + identity,
                               rtol=1e-5)
    np.testing.assert_allclose(g_metrics["idt_a"], 0.5 * 10 * dist(v["idt_a"], v["b"]), rtol=1e-5)
    no_identity = dataclasses.replace(method, lambda_identity=0.0)
    g_loss, _ = no_identity.generator_loss(generated, _state({}), batch, jax.random.PRNGKey(2))
    np.testing.assert_allclose(g_loss, 2 * (0.5 * (f_a - 1) ** 2 + 0.5 * (f_b - 1) ** 2) + cycle, rtol=1e-5)


def test_each_d_sees_its_pools_answer_and_the_pools_are_returned(trainer):
    """Full pools of 2 (stored images 0.9 for fake_b's pool, -0.9 for fake_a's): D_A's fake input is what
    pool_B answers for fake_b, D_B's what pool_A answers for fake_a, and the new pools are the third aux."""
    method = _probe_method(trainer, pool_size=2)
    batch, generated = _batch_and_generated()
    generated["fake_b"] = generated["fake_b"] + jnp.asarray([0.0, 0.01])[:, None, None, None]  # Tell them apart.

    def full(value, seed):
        pool = image_pool.init(2, (4, 4, 1), jax.random.PRNGKey(seed))
        return {**pool, "images": jnp.full((2, 4, 4, 1), value), "count": jnp.asarray(2, jnp.int32)}

    pools = {"pool_fake_a": full(-0.9, 1), "pool_fake_b": full(0.9, 9)}  # Keys whose draws swap images.
    seen_b, pool_b = image_pool.query(pools["pool_fake_b"], generated["fake_b"])
    seen_a, pool_a = image_pool.query(pools["pool_fake_a"], generated["fake_a"])
    # Both pools swapped an image, so the logits below differ from those of the unpooled images.
    assert not np.allclose(seen_b, generated["fake_b"]) and not np.allclose(seen_a, generated["fake_a"])
    _, (metrics, _, new_state) = method.discriminator_loss({}, _state(pools), batch, generated, jax.random.PRNGKey(1))
    np.testing.assert_allclose(metrics["da_fake_logit"], D_A_SCALE * float(seen_b.mean()), rtol=1e-6)
    np.testing.assert_allclose(metrics["db_fake_logit"], D_B_SCALE * float(seen_a.mean()), rtol=1e-6)
    jax.tree.map(np.testing.assert_array_equal, new_state, {"pool_fake_a": pool_a, "pool_fake_b": pool_b})


def _count_generator_calls(method, state, batch):
    calls = []

    def count(next_fun, args, kwargs, context):
        if isinstance(context.module, ResNetTranslator) and context.method_name == "__call__":
            calls.append(context.module.name)
        return next_fun(*args, **kwargs)

    step = make_train_step(method, discriminator_tx=optax.sgd(0.1), generator_tx=optax.sgd(0.1))
    with nn.intercept_methods(count):
        jax.eval_shape(step, state, batch)
    return sorted(calls)


def test_each_generator_application_runs_once_per_step(trainer):
    """G_A on a, G_B(b) and b; G_B on b, G_A(a) and a: 3 calls each, none repeated by G's gradient or D's
    loss; 2 each without the identity loss."""
    batch = {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(0).items()}
    state = _sgd_state(trainer, 0.1)
    assert _count_generator_calls(trainer.method, state, batch) == ["g_a"] * 3 + ["g_b"] * 3
    method = dataclasses.replace(trainer.method, lambda_identity=0.0,
                                 generators=trainer.method.generators.clone(identity=False))
    assert _count_generator_calls(method, state, batch) == ["g_a"] * 2 + ["g_b"] * 2


def _sgd_state(trainer, lr):
    g, d = trainer.state.generator, trainer.state.discriminator
    return trainer.state.replace(generator=g.replace(opt_state=optax.sgd(lr).init(g.params)),
                                 discriminator=d.replace(opt_state=optax.sgd(lr).init(d.params)))


def test_translations_depend_on_input_and_direction(trainer):
    variables = trainer.state.generator_variables()
    x = jnp.asarray(trainer.pipeline.local_batch(0)["image_a"][:2])
    translate = jax.jit(trainer.method.translate, static_argnames="direction")
    to_b = translate(variables, x, jax.random.PRNGKey(0), direction="AtoB")
    to_a = translate(variables, x, jax.random.PRNGKey(0), direction="BtoA")
    assert to_b.shape == x.shape
    assert float(jnp.abs(to_b[0] - to_b[1]).mean()) > 1e-4  # Two digits, two translations.
    assert float(jnp.abs(to_b - to_a).mean()) > 1e-4  # G_A and G_B are two networks.
    with pytest.raises(ConfigError, match="direction"):
        trainer.method.translate(variables, x, jax.random.PRNGKey(0), direction="AtoC")


def test_real_steps_generator_first_and_pools_in_the_state(trainer):
    """Two compiled steps of the tiny config (batch 4, pools of 6; last in this module: it trains the
    shared trainer). Step 1: G's adversarial terms are D_A(fake_b) and D_B(fake_a) under the start-of-step
    D (G first), not under the D the step produced, and D learned from the same images (pools filling:
    returned as given). After step 2 each pool holds 6 of the 8 generated images and its key has moved."""
    method, old = trainer.method, jax.device_get(trainer.state)  # A host copy: the step donates the state.
    batch = {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(0).items()}
    forward_rng = jax.random.split(jax.random.fold_in(old.rng, old.step), 3)[2]
    generated, _ = jax.jit(method.generator_forward)(old.generator.params, old, batch, forward_rng)
    metrics = jax.device_get(trainer.train_steps(1))
    apply = jax.jit(lambda variables: apply_train(method.discriminators, variables, generated["fake_b"],
                                                  generated["fake_a"], rng=jax.random.PRNGKey(0)))

    def fake_logits(side):
        (da, db), _ = apply(side.variables())
        return float(da.mean()), float(db.mean())

    old_logits, new_logits = fake_logits(old.discriminator), fake_logits(trainer.state.discriminator)
    np.testing.assert_allclose([metrics["g/da_fake_logit"], metrics["g/db_fake_logit"]], old_logits, rtol=1e-4)
    assert abs(float(metrics["g/da_fake_logit"]) - new_logits[0]) > 1e-5
    np.testing.assert_allclose([metrics["d/da_fake_logit"], metrics["d/db_fake_logit"]], old_logits, rtol=1e-4)
    trainer.train_steps(1)
    end = jax.device_get(trainer.state.method_state)
    for name in ("pool_fake_a", "pool_fake_b"):
        assert int(end[name]["count"]) == 6
        assert not np.array_equal(end[name]["key"], old.method_state[name]["key"])
        stored = end[name]["images"]
        assert np.all(np.abs(stored).reshape(6, -1).max(axis=1) > 0) and np.abs(stored).max() <= 1.0


# --- Configs ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, norm, adversarial, pool", [
    ("dualgan_mnist", "l1", "wasserstein", 0), ("discogan_mnist", "l2", "non_saturating", 0),
    ("cyclegan_mnist", "l1", "least_squares", 50)])
def test_configs_build_the_method_they_describe(name, norm, adversarial, pool):
    config = load_config(name)
    data = DataInfo({"image_a": ArraySpec((32, 32, 1), "float32"), "image_b": ArraySpec((32, 32, 1), "float32")})
    method = methods.build(config, data)
    assert (method.cycle_norm, method.adversarial_loss, method.pool_size) == (norm, adversarial, pool)
    assert method.generators.identity == (config.loss.lambda_identity > 0)


@pytest.mark.parametrize("steps", [10000, 6000])
def test_cyclegan_mnist_rates_are_constant_then_decay_to_zero_over_the_second_half(steps):
    """configs/cyclegan_mnist.py: the paper's schedule shape (100 epochs at 2e-4, 100 decaying to 0), as halves
    of whatever train.steps the run is given."""
    config = load_config("cyclegan_mnist")
    config.train.steps = steps
    for side in ("generator", "discriminator"):
        lr = optim.learning_rate_schedule(config.optimizer[side], steps)
        np.testing.assert_allclose([lr(0), lr(steps // 2), lr(3 * steps // 4), lr(steps)], [2e-4, 2e-4, 1e-4, 0.0],
                                   atol=1e-9, err_msg=side)


def test_dualgan_clips_its_critics_and_uses_rmsprop():
    """configs/dualgan_mnist.py: D's params land in [-0.01, 0.01] after an update; G's optimizer is RMSProp(5e-5,
    decay 0.9)."""
    config = load_config("dualgan_mnist")
    data = DataInfo({"image_a": ArraySpec((32, 32, 1), "float32"), "image_b": ArraySpec((32, 32, 1), "float32")})
    method = methods.build(config, data)
    g_tx, d_tx = optim.build_pair(config, method)
    params = {"w": jnp.asarray([0.5, -0.005, 0.0])}
    updates, _ = d_tx.update({"w": jnp.asarray([-1.0, 1.0, -1.0])}, d_tx.init(params), params)
    clipped = optax.apply_updates(params, updates)["w"]
    assert float(jnp.abs(clipped).max()) <= 0.01 and float(clipped[0]) == pytest.approx(0.01)
    # RMSProp's first update with decay 0.9: -lr g / sqrt(0.1 g^2) = -lr sqrt(10) sign(g) (Adam's: -lr sign(g)).
    updates, _ = g_tx.update({"w": jnp.asarray([2.0, -1.0, 0.5])}, g_tx.init(params), params)
    np.testing.assert_allclose(updates["w"], -5e-5 * np.sqrt(10) * np.asarray([1, -1, 1]), rtol=1e-4)


def test_dualgan_code_variant_trains_as_the_released_code():
    """configs/dualgan_mnist.py:code: the sigmoid cross-entropy GAN of duxingren14/DualGAN, D unclipped, one D
    update per G update, 3000 G updates as the paper variant; an unknown variant is refused."""
    paper, code = load_config("dualgan_mnist"), load_config("dualgan_mnist", "code")
    data = DataInfo({"image_a": ArraySpec((32, 32, 1), "float32"), "image_b": ArraySpec((32, 32, 1), "float32")})
    method = methods.build(code, data)
    assert method.adversarial_loss == "non_saturating"
    assert code.train.steps // code.train.n_critic == paper.train.steps // paper.train.n_critic == 3000
    _, d_tx = optim.build_pair(code, method)
    params = {"w": jnp.asarray([0.5, -0.5])}
    updates, _ = d_tx.update({"w": jnp.asarray([-1.0, 1.0])}, d_tx.init(params), params)
    assert float(jnp.abs(optax.apply_updates(params, updates)["w"]).min()) > 0.4  # Not clipped to 0.01.
    with pytest.raises(ConfigError, match="variant"):
        load_config("dualgan_mnist", "wgan")


# --- A folder in CycleGAN's layout, end to end -----------------------------------------------------------

def _write_domain(folder, n, seed, bright):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        base = rng.integers(0, 128, (32, 32, 3), dtype=np.uint8)
        images.write_png(str(folder / f"{i:03d}.png"), base + 127 if bright else base)


def test_cyclegan_folder_trains_and_translates_both_ways(tmp_path):
    data, workdir = tmp_path / "horse2zebra", tmp_path / "run"
    for split, n in (("train", 4), ("test", 2)):
        _write_domain(data / f"{split}A", n, seed=len(split), bright=False)
        _write_domain(data / f"{split}B", n + 1, seed=10 + len(split), bright=True)
    result = _run("jaxgan.main", "--config", "configs/cyclegan_mnist.py", "--workdir", str(workdir),
                  f"--config.data.source=unpaired:{data}", "--config.data.load_size=0", "--config.data.crop_size=0",
                  "--config.model.generator.features=2", "--config.model.generator.blocks=1",
                  "--config.model.discriminator.features=2", "--config.model.discriminator.n_layers=1",
                  "--config.model.pool_size=3", "--config.train.steps=2", "--config.train.batch_size=2",
                  "--config.train.sample_every=2", "--config.train.checkpoint_every=2", "--config.sample.examples=2")
    assert result.returncode == 0, result.stderr
    panel = images.read_png(str(workdir / "samples" / "step_0000002.png"))
    assert panel.shape == (2 * 34 + 2, 6 * 34 + 2, 3)  # a | G_A(a) | G_B(G_A(a)) | b | G_B(b) | G_A(G_B(b)).
    outputs = {}
    for direction, folder in (("AtoB", "testA"), ("BtoA", "testB")):
        out = tmp_path / f"out_{direction}"
        result = _run("jaxgan.translate", "--workdir", str(workdir), "--input", str(data / folder),
                      "--output", str(out), "--direction", direction)
        assert result.returncode == 0, result.stderr
        outputs[direction] = {p.name: images.read_png(str(p)) for p in sorted(out.iterdir())}
    assert sorted(outputs["AtoB"]) == ["000.png", "001.png"]
    assert sorted(outputs["BtoA"]) == ["000.png", "001.png", "002.png"]
    assert all(v.shape == (32, 32, 3) for d in outputs.values() for v in d.values())
    # Same file name, other generator and other input: the two directions write different images.
    assert not np.array_equal(outputs["AtoB"]["000.png"], outputs["BtoA"]["000.png"])


# --- The paper's size -------------------------------------------------------------------------------------

def test_paper_size_networks_build_and_trace_a_step():
    """configs/cyclegan_paper.py at 256x256, batch 1, shapes only (jax.eval_shape: a real step of two
    resnet_9blocks generators run 3 times each takes minutes on the shared test CPU): 2 x 11,378,179 G
    parameters, 2 x 2,764,737 D parameters (70x70 PatchGAN, instance norm; the reference prints 2.765 M),
    pools of 50 images of 256x256x3 per domain, and a step whose metrics are scalars."""
    config = load_config("cyclegan_paper")
    data = DataInfo({"image_a": ArraySpec((256, 256, 3), "float32"), "image_b": ArraySpec((256, 256, 3), "float32")})
    method = methods.build(config, data)
    config.train.steps = 2
    for side in ("generator", "discriminator"):
        config.optimizer[side].decay_start = 1
    g_tx, d_tx = optim.build_pair(config, method)
    state = jax.eval_shape(functools.partial(train_lib.init_state, method, config, g_tx, d_tx), data.example(1))
    count = lambda tree: sum(p.size for p in jax.tree.leaves(tree))  # noqa: E731
    assert count(state.generator.params) == 2 * 11_378_179
    assert count(state.discriminator.params) == 2 * 2_764_737
    assert state.method_state["pool_fake_b"]["images"].shape == (50, 256, 256, 3)
    step = make_train_step(method, discriminator_tx=d_tx, generator_tx=g_tx)
    new_state, metrics = jax.eval_shape(step, state, data.example(1))
    assert all(m.shape == () for m in metrics.values()) and "g/idt_a" in metrics
    assert jax.tree.structure(new_state) == jax.tree.structure(state)
