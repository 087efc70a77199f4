"""StarGAN: the networks (sizes of the paper's, G depends on its labels, D's two heads), the losses by hand
with a probe D (which images and labels reach D_src and D_cls on each side, the reconstruction against
the original image), the mask vector (label vectors and D's classification restricted to the step's
dataset, by hand), the alternation as a pure function of the step, the step's one forward (two
applications of G), n_critic in real steps, translate and panels, the configs, and the paper's size."""

import dataclasses
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgan import methods, optim
from jaxgan import train as train_lib
from jaxgan.errors import ConfigError
from jaxgan.methods.base import ArraySpec, DataInfo
from jaxgan.methods.stargan import dataset_of
from jaxgan.networks.stargan import StarGANDiscriminator, StarGANGenerator
from jaxgan.state import GANState, Side
from jaxgan.train_step import make_train_step

from conftest import load_config, one_device_mesh, tiny_stargan

SRC_SCALE = 2.0


class ProbeD(nn.Module):
    """A parameter-free D that tells what it saw: D_src = SRC_SCALE * mean(x) per example ([B, 1, 1, 1]),
    D_cls[:, j] = (j + 1) * mean(x) for each of ``num_labels`` outputs."""

    num_labels: int

    @nn.compact
    def __call__(self, x, *, train):
        m = x.mean(axis=(1, 2, 3))
        return (SRC_SCALE * m)[:, None, None, None], m[:, None] * jnp.arange(1, self.num_labels + 1)


def _state(step=0):
    side = Side(params={}, collections={}, opt_state=None)
    return GANState(step=jnp.asarray(step, jnp.int32), rng=jax.random.PRNGKey(0), generator=side,
                    discriminator=side, ema_params=None, method_state={}, nonfinite_steps=jnp.zeros((), jnp.int32))


def _images(*means, shape=(4, 4, 1)):
    return jnp.stack([jnp.full(shape, m, jnp.float32) for m in means])


def _bce(logits, targets):
    """sum_j -(t log s(l) + (1 - t) log(1 - s(l))), mean over examples (numpy, by hand)."""
    logits, targets = np.asarray(logits, np.float64), np.asarray(targets, np.float64)
    per = targets * np.log1p(np.exp(-logits)) + (1 - targets) * np.log1p(np.exp(logits))
    return per.sum(axis=1).mean()


def _data_info(mask_vector: bool, size: int = 32) -> DataInfo:
    image = ArraySpec((size, size, 3), "float32")
    if not mask_vector:
        return DataInfo({"image": image, "attributes": ArraySpec((4,), "float32")},
                        attribute_names=("thick", "slanted", "coloured", "negative"))
    return DataInfo({"image_a": image, "attributes_a": ArraySpec((4,), "float32"),
                     "image_b": image, "attributes_b": ArraySpec((3,), "float32")})


@pytest.fixture(scope="module")
def method():
    return methods.build(load_config("stargan_mnist"), _data_info(False))


@pytest.fixture(scope="module")
def mask_method():
    return methods.build(load_config("stargan_mnist", "mask_vector"), _data_info(True))


# --- Networks ------------------------------------------------------------------------------------------

def _count(tree):
    return sum(p.size for p in jax.tree.leaves(tree))


def test_paper_networks_have_the_reference_sizes():
    """128x128, 5 CelebA attributes, ngf = ndf = 64, 6 blocks, 6 layers: 8,430,528 and 44,762,048 parameters,
    as yunjey/stargan's Generator and Discriminator count (PyTorch, see the module docstring); by hand:
    G = 8*64*49 + 64*128*16 + 128*256*16 + 12*256*256*9 + 256*128*16 + 128*64*16 + 64*3*49 + IN (2 * 1,728)."""
    g = StarGANGenerator(3)
    d = StarGANDiscriminator(5)
    g_shapes = jax.eval_shape(lambda: g.init(jax.random.PRNGKey(0), jnp.zeros((1, 128, 128, 3)), jnp.zeros((1, 5)),
                                             train=False))
    d_shapes = jax.eval_shape(lambda: d.init(jax.random.PRNGKey(0), jnp.zeros((1, 128, 128, 3)), train=False))
    assert _count(g_shapes) == 8_430_528
    assert _count(d_shapes) == 44_762_048
    assert d_shapes["params"]["cls"]["kernel"].shape == (2, 2, 2048, 5)  # A kernel over the 2x2 map.
    src, cls = jax.eval_shape(lambda v: d.apply(v, jnp.zeros((3, 128, 128, 3)), train=False), d_shapes)
    assert src.shape == (3, 2, 2, 1) and cls.shape == (3, 5)


def test_generator_depends_on_its_labels_and_keeps_the_size():
    g = StarGANGenerator(3, features=4, residual_blocks=1)
    x = jax.random.uniform(jax.random.PRNGKey(1), (2, 8, 8, 3), minval=-1, maxval=1)
    variables = jax.jit(functools.partial(g.init, train=False))(jax.random.PRNGKey(0), x, jnp.zeros((2, 3)))
    apply = jax.jit(functools.partial(g.apply, train=True))
    y0 = apply(variables, x, jnp.asarray([[0.0, 0, 0], [0, 0, 0]]))
    y1 = apply(variables, x, jnp.asarray([[1.0, 0, 0], [0, 0, 0]]))
    assert y0.shape == x.shape and float(jnp.abs(y0).max()) <= 1.0
    assert float(jnp.abs(y0[0] - y1[0]).mean()) > 1e-3  # Other labels, other image.
    np.testing.assert_allclose(y0[1], y1[1], atol=1e-6)  # Example 1's labels are the same: per-example G.


def test_networks_refuse_sizes_they_cannot_take():
    with pytest.raises(ConfigError, match="not divisible by 2\\^layers = 64"):
        StarGANDiscriminator(5).init(jax.random.PRNGKey(0), jnp.zeros((1, 32, 32, 3)), train=False)
    with pytest.raises(ConfigError, match="not divisible by 2\\^downsamplings"):
        StarGANGenerator(3).init(jax.random.PRNGKey(0), jnp.zeros((1, 10, 8, 3)), jnp.zeros((1, 2)), train=False)


# --- Losses by hand ----------------------------------------------------------------------------------------

def test_losses_by_hand_with_what_reaches_d(method):
    """Real x (means 0.1, -0.2) with labels c; G(x, c') (means 0.3, 0.5) with c' = the batch's labels swapped;
    G(G(x, c'), c) = x + 0.05. WGAN-GP with a probe D whose critic gradient has norm SRC_SCALE / 4 for
    4x4x1 images (GP = (0.5 - 1)^2 whatever the interpolate):
    loss_D = -mean D_src(x) + mean D_src(G(x, c')) + 10 GP + BCE(D_cls(x), c);
    loss_G = -mean D_src(G(x, c')) + BCE(D_cls(G(x, c')), c') + 10 |x - G(G(x, c'), c)|."""
    probe = dataclasses.replace(method, discriminator=ProbeD(4))
    labels = jnp.asarray([[1.0, 0, 1, 0], [0, 1, 1, 1]])
    x, fake = _images(0.1, -0.2), _images(0.3, 0.5)
    batch = {"image": x, "attributes": labels}
    generated = {"fake": fake, "reconstruction": x + 0.05, "target": labels[::-1]}
    mx, mf = np.asarray([0.1, -0.2]), np.asarray([0.3, 0.5])
    j = np.arange(1, 5)
    d_loss, (d_metrics, _) = probe.discriminator_loss({}, _state(), batch, generated, jax.random.PRNGKey(1))
    gp = (SRC_SCALE / 4 - 1) ** 2
    cls_real = _bce(mx[:, None] * j, labels)  # D_cls on the real images, with their own labels.
    np.testing.assert_allclose(d_metrics["gradient_penalty"], gp, rtol=1e-5)
    np.testing.assert_allclose(d_metrics["classification"], cls_real, rtol=1e-5)
    np.testing.assert_allclose(d_loss, -SRC_SCALE * mx.mean() + SRC_SCALE * mf.mean() + 10 * gp + cls_real, rtol=1e-5)
    g_loss, (g_metrics, _) = probe.generator_loss(generated, _state(), batch, jax.random.PRNGKey(2))
    cls_fake = _bce(mf[:, None] * j, np.asarray(labels)[::-1])  # D_cls on G(x, c'), with the targets c'.
    np.testing.assert_allclose(g_metrics["classification"], cls_fake, rtol=1e-5)
    np.testing.assert_allclose(g_metrics["reconstruction"], 0.05, rtol=1e-5)  # Against x, not G(x, c').
    np.testing.assert_allclose(g_loss, -SRC_SCALE * mf.mean() + cls_fake + 10 * 0.05, rtol=1e-5)
    assert abs(cls_fake - _bce(mf[:, None] * j, labels)) > 0.1  # Targets and real labels give other losses.


def test_identity_term_by_hand(method):
    """lambda_id > 0 (an option, not the paper's): loss_G gains lambda_id |x - G(x, c)|, against the real x."""
    probe = dataclasses.replace(method, discriminator=ProbeD(4), lambda_identity=5.0)
    labels = jnp.asarray([[1.0, 0, 1, 0], [0, 1, 1, 1]])
    x = _images(0.1, -0.2)
    batch = {"image": x, "attributes": labels}
    generated = {"fake": _images(0.3, 0.5), "reconstruction": x + 0.05, "target": labels[::-1], "identity": x - 0.1}
    g_loss, (metrics, _) = probe.generator_loss(generated, _state(), batch, jax.random.PRNGKey(2))
    paper_loss, (paper_metrics, _) = dataclasses.replace(probe, lambda_identity=0.0).generator_loss(
        generated, _state(), batch, jax.random.PRNGKey(2))
    np.testing.assert_allclose(metrics["identity"], 0.1, rtol=1e-5)
    np.testing.assert_allclose(g_loss, paper_loss + 5.0 * 0.1, rtol=1e-5)
    assert "identity" not in paper_metrics


# --- The mask vector --------------------------------------------------------------------------------------

def _mask_batch():
    return {"image_a": _images(0.1, -0.2), "attributes_a": jnp.asarray([[1.0, 0, 1, 1], [0, 0, 0, 1]]),
            "image_b": _images(0.4, 0.6), "attributes_b": jnp.asarray([[0.0, 1, 1], [1, 0, 0]])}


def test_mask_vector_label_vectors_by_hand(mask_method):
    """c~ = [c_1, c_2, m]: the other dataset's labels zeroed, m the one-hot of the example's dataset (eq. 7)."""
    batch = _mask_batch()
    assert mask_method.label_dim == 4 + 3 + 2
    np.testing.assert_array_equal(mask_method.label_vector(batch["attributes_a"], 0),
                                  [[1, 0, 1, 1, 0, 0, 0, 1, 0], [0, 0, 0, 1, 0, 0, 0, 1, 0]])
    np.testing.assert_array_equal(mask_method.label_vector(batch["attributes_b"], 1),
                                  [[0, 0, 0, 0, 0, 1, 1, 0, 1], [0, 0, 0, 0, 1, 0, 0, 0, 1]])


@pytest.mark.parametrize("step", [0, 1, 2, 7, 10_001])
def test_alternation_is_a_pure_function_of_the_step(mask_method, step):
    """Step s trains on dataset s mod 2: its images and label vectors, whatever ran before."""
    batch = _mask_batch()
    x, c, k = jax.jit(mask_method.real_inputs)(batch, jnp.asarray(step, jnp.int32))
    expected = step % 2
    assert int(k) == int(dataset_of(step, 2)) == expected
    key = "ab"[expected]
    np.testing.assert_array_equal(x, batch[f"image_{key}"])
    np.testing.assert_array_equal(c, mask_method.label_vector(batch[f"attributes_{key}"], expected))


@pytest.mark.parametrize("step", [0, 1])
def test_mask_vector_restricts_the_classification_losses(mask_method, step):
    """D has 7 classification outputs (4 + 3); on dataset 1's steps only outputs 0..3 enter L_cls with its
    labels, on dataset 2's only 4..6 (D_cls[:, j] = (j + 1) mean(x)). D sees the step's dataset's images."""
    probe = dataclasses.replace(mask_method, discriminator=ProbeD(7))
    batch = _mask_batch()
    fake = _images(0.3, 0.5)
    target = mask_method.label_vector(batch["attributes_" + "ab"[step]][::-1], step)
    generated = {"fake": fake, "reconstruction": fake, "target": target}
    mx = np.asarray([0.1, -0.2]) if step == 0 else np.asarray([0.4, 0.6])
    known = slice(0, 4) if step == 0 else slice(4, 7)
    j = np.arange(1, 8)[known]
    attributes = np.asarray(batch["attributes_" + "ab"[step]])
    _, (d_metrics, _) = probe.discriminator_loss({}, _state(step), batch, generated, jax.random.PRNGKey(1))
    np.testing.assert_allclose(d_metrics["classification"], _bce(mx[:, None] * j, attributes), rtol=1e-5)
    np.testing.assert_allclose(d_metrics["real_src"], SRC_SCALE * mx.mean(), rtol=1e-5)
    _, (g_metrics, _) = probe.generator_loss(generated, _state(step), batch, jax.random.PRNGKey(2))
    np.testing.assert_allclose(g_metrics["classification"], _bce(np.asarray([0.3, 0.5])[:, None] * j, attributes[::-1]),
                               rtol=1e-5)
    np.testing.assert_allclose(g_metrics["reconstruction"], np.abs(np.asarray([0.3, 0.5]) - mx).mean(), rtol=1e-5)


# --- The step: forward, n_critic, real training -------------------------------------------------------------

@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The tiny mask-vector config with the paper's n_critic 5 and 5 real steps: the state before and the
    parameters and metrics after each step."""
    config = tiny_stargan(steps=5, variant="mask_vector")
    config.train.n_critic = 5
    trainer = train_lib.Trainer(config, str(tmp_path_factory.mktemp("stargan")), mesh=one_device_mesh())
    initial = jax.device_get(trainer.state)  # A host copy: the step donates the state's buffers.
    history = []
    for _ in range(5):
        metrics = jax.device_get(trainer.train_steps(1))
        history.append((jax.device_get(trainer.state.generator.params),
                        jax.device_get(trainer.state.discriminator.params), metrics))
    return trainer, initial, history


def _changed(before, after):
    return any(not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(after)))


def test_n_critic_five_real_steps(run):
    """D updates every step; G only on the 5th (n_critic 5, Choi et al. 2018); the datasets alternate 0, 1, 0,
    1, 0; every reported loss is finite."""
    _, initial, history = run
    g_before, d_before = initial.generator.params, initial.discriminator.params
    for step, (g, d, metrics) in enumerate(history):
        assert _changed(d_before, d)
        assert _changed(g_before, g) == (step == 4), step
        assert float(metrics["d/dataset"]) == step % 2
        assert all(np.isfinite(v) for v in metrics.values())
        g_before, d_before = g, d
    assert float(history[4][2]["g/reconstruction"]) > 0 and float(history[3][2]["g/loss"]) == 0.0


def test_forward_permutes_the_real_labels_and_reconstructs_with_the_originals(run):
    """generated['target'] is the step's label vectors in another order; fake = G(x, c'), and the
    reconstruction is G(fake, c) with the original labels c."""
    trainer, initial, _ = run
    method = trainer.method
    batch = {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(1).items()}
    state = initial.replace(step=jnp.asarray(1, jnp.int32))
    generated, _ = jax.jit(method.generator_forward)(initial.generator.params, state, batch, jax.random.PRNGKey(3))
    x, c, _ = method.real_inputs(batch, state.step)
    target = np.asarray(generated["target"])
    assert sorted(map(tuple, target)) == sorted(map(tuple, np.asarray(c)))
    np.testing.assert_array_equal(target[:, -2:], [[0, 1]] * len(target))  # Dataset 2's mask.
    g = jax.jit(lambda images, labels: method.generator.apply(initial.generator.variables(), images, labels, train=True))
    np.testing.assert_allclose(generated["fake"], g(x, target), atol=1e-5)
    np.testing.assert_allclose(generated["reconstruction"], g(generated["fake"], c), atol=1e-5)


def test_identity_forward_asks_g_for_the_images_own_labels(run):
    """With lambda_id > 0 the forward also returns G(x, c), c the step's own label vectors; with 0 (the
    paper) it does not run G a third time."""
    trainer, initial, _ = run
    batch = {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(1).items()}
    state = initial.replace(step=jnp.asarray(1, jnp.int32))
    with_identity = dataclasses.replace(trainer.method, lambda_identity=5.0)
    generated, _ = jax.jit(with_identity.generator_forward)(initial.generator.params, state, batch,
                                                            jax.random.PRNGKey(3))
    x, c, _ = with_identity.real_inputs(batch, state.step)
    g = jax.jit(lambda images, labels: trainer.method.generator.apply(initial.generator.variables(), images, labels,
                                                                      train=True))
    np.testing.assert_allclose(generated["identity"], g(x, c), atol=1e-5)
    assert float(jnp.abs(generated["identity"] - generated["fake"]).max()) > 1e-3  # c, not the targets c'.
    paper, _ = jax.jit(trainer.method.generator_forward)(initial.generator.params, state, batch, jax.random.PRNGKey(3))
    assert "identity" not in paper


def test_one_forward_per_step(run):
    """G runs exactly twice per step, G(x, c') and G(G(x, c'), c), both inside ``generator_forward``: D's loss
    and G's gradient (pulled back through that forward) run no further G."""
    trainer, initial, _ = run
    calls = []

    def count(next_fun, args, kwargs, context):
        if isinstance(context.module, StarGANGenerator) and context.method_name == "__call__":
            calls.append(1)
        return next_fun(*args, **kwargs)

    sgd = optax.sgd(0.1)
    state = initial.replace(generator=initial.generator.replace(opt_state=sgd.init(initial.generator.params)),
                            discriminator=initial.discriminator.replace(opt_state=sgd.init(initial.discriminator.params)))
    batch = {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(0).items()}
    step = make_train_step(trainer.method, discriminator_tx=sgd, generator_tx=sgd)
    with nn.intercept_methods(count):
        jax.eval_shape(step, state, batch)
    assert len(calls) == 2


# --- Translate, panels ------------------------------------------------------------------------------------

def test_translate_and_panels(run):
    trainer, initial, _ = run
    method, variables = trainer.method, initial.generator_variables()
    batch = {k: jnp.asarray(v[:2]) for k, v in trainer.pipeline.local_batch(0).items()}
    x = batch["image_a"]
    y0 = method.translate(variables, x, jax.random.PRNGKey(0), target=[0.0, 0, 0, 0])
    y1 = method.translate(variables, x, jax.random.PRNGKey(0), target=[1.0, 1, 0, 0])
    whole = method.translate(variables, x, jax.random.PRNGKey(0), target=[1.0, 1, 0, 0, 0, 0, 0, 1, 0])
    other = method.translate(variables, x, jax.random.PRNGKey(0), target=[1.0, 1, 0], dataset=1)
    assert y0.shape == x.shape and float(jnp.abs(y0 - y1).mean()) > 1e-4
    np.testing.assert_allclose(y1, whole, atol=1e-6)  # Dataset 0's attributes embedded with its mask.
    assert float(jnp.abs(other - y1).mean()) > 1e-4
    with pytest.raises(ConfigError, match="target attributes"):
        method.translate(variables, x, jax.random.PRNGKey(0))
    with pytest.raises(ConfigError, match="dataset 0 has 4 attributes"):
        method.translate(variables, x, jax.random.PRNGKey(0), target=[1.0, 0])
    columns = method.panel_columns(variables, batch)
    assert len(columns) == len(method.panel_column_names) == 1 + 4 + 1 + 3
    assert method.panel_column_names[:2] == ("input", "~attributes_a[0]")
    np.testing.assert_array_equal(columns[0], x)
    np.testing.assert_allclose(columns[1], method.translate(  # Attribute 0 of each example flipped.
        variables, x, jax.random.PRNGKey(0), target=batch["attributes_a"].at[:, 0].set(1 - batch["attributes_a"][:, 0])),
        atol=1e-6)


# --- Configs ----------------------------------------------------------------------------------------------

def test_configs_build_what_they_describe(method, mask_method):
    assert [s.names for s in method.label_sets] == [("thick", "slanted", "coloured", "negative")]
    assert method.label_dim == 4 and method.discriminator.num_labels == 4
    assert (method.adversarial_loss, method.lambda_cls, method.lambda_rec, method.penalties.gradient_penalty,
            method.lambda_identity) == ("wasserstein", 1.0, 10.0, 10.0, 0.0)
    assert method.panel_column_names == ("input", "~thick", "~slanted", "~coloured", "~negative")
    assert [len(s.names) for s in mask_method.label_sets] == [4, 3] and mask_method.discriminator.num_labels == 7
    config = load_config("stargan_mnist")
    assert config.train.n_critic == 5 and config.train.batch_size == 16
    g_tx, d_tx = optim.build_pair(config, method)  # Constant for the first half, then linearly to 0.
    assert (config.optimizer.generator.decay_start, config.optimizer.discriminator.decay_start) == (1000, 5000)
    config.train.steps, config.train.n_critic = 6000, 1  # Overrides move G's half-way point with them.
    assert (config.optimizer.generator.decay_start, config.optimizer.discriminator.decay_start) == (3000, 3000)


def test_config_errors_name_the_problem():
    config = load_config("stargan_mnist", "mask_vector")
    config.train.n_critic = 4
    with pytest.raises(ConfigError, match="coprime"):
        methods.build(config, _data_info(True))
    no_attributes = DataInfo({"image_a": ArraySpec((32, 32, 3), "float32"), "image_b": ArraySpec((32, 32, 3), "float32")})
    with pytest.raises(ConfigError, match="attribute-labelled"):
        methods.build(load_config("stargan_mnist"), no_attributes)
    config = load_config("stargan_mnist")
    config.loss.lambda_identity = -1.0
    with pytest.raises(ConfigError, match="lambda_identity"):
        methods.build(config, _data_info(False))


# --- The paper's size ---------------------------------------------------------------------------------------

def test_paper_size_builds_and_traces_a_step():
    """configs/stargan_celeba.py (128x128, 5 attributes, ngf = ndf = 64, 6 blocks, 6 D layers), batch 1,
    shapes only (jax.eval_shape: 2 real steps of the 8.4 M + 44.8 M parameter networks at 128x128 took over
    3 minutes on the shared test CPU); G and D steps both trace, metrics are scalars."""
    config = load_config("stargan_celeba")
    assert (config.data.load_size, config.data.flip, config.train.n_critic, config.train.batch_size) == (128, True, 5, 16)
    assert config.optimizer.generator.decay_start == 20_000 and config.optimizer.discriminator.decay_start == 100_000
    config.train.steps, config.train.n_critic = 1000, 1  # Overrides move both sides' half-way points.
    assert (config.optimizer.generator.decay_start, config.optimizer.discriminator.decay_start) == (500, 500)
    config.train.steps, config.train.n_critic = 200_000, 5
    data = DataInfo({"image": ArraySpec((128, 128, 3), "float32"), "attributes": ArraySpec((5,), "float32")},
                    attribute_names=("Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young"))
    method = methods.build(config, data)
    g_tx, d_tx = optim.build_pair(config, method)
    state = jax.eval_shape(functools.partial(train_lib.init_state, method, config, g_tx, d_tx), data.example(1))
    assert _count(state.generator.params) == 8_430_528 and _count(state.discriminator.params) == 44_762_048
    step = make_train_step(method, discriminator_tx=d_tx, generator_tx=g_tx)
    for update_generator in (False, True):
        new_state, metrics = jax.eval_shape(functools.partial(step, update_generator=update_generator), state,
                                            data.example(1))
        assert all(m.shape == () for m in metrics.values()) and "g/reconstruction" in metrics
        assert jax.tree.structure(new_state) == jax.tree.structure(state)


# --- attrs: folders with a CelebA-style attribute list ------------------------------------------------------

ALL_ATTRIBUTES = ("5_o_Clock_Shadow", "Black_Hair", "Blond_Hair", "Male", "Young")


def _write_celeba(root, n, height=12, width=10, seed=0):
    """``n`` RGB images in root/images (pixel [0, 0] = the image's number) and root/list_attr_celeba.txt with
    image i's attribute j = 1 when (i + j) is even, else -1."""
    from jaxgan import images

    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    lines = [str(n), " ".join(ALL_ATTRIBUTES)]
    for i in range(n):
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        pixels[(height - min(height, width)) // 2, (width - min(height, width)) // 2] = i  # The crop's corner.
        images.write_png(str(root / "images" / f"{i:06d}.png"), pixels)
        lines.append(f"{i:06d}.png " + " ".join("1" if (i + j) % 2 == 0 else "-1" for j in range(len(ALL_ATTRIBUTES))))
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")


def test_attribute_folder_source(tmp_path, monkeypatch):
    """Selected attributes in the given order as {0, 1}, the authors' split (random.seed(1234) shuffle, the
    first TEST_LINES lines 'test'), the centred square crop, and slices of a split."""
    import random

    from jaxgan.data import attributes
    from jaxgan.data.sources import build_source

    monkeypatch.setattr(attributes, "TEST_LINES", 2)
    _write_celeba(tmp_path / "celeba", 6)
    order = list(range(6))
    random.Random(1234).shuffle(order)  # The authors' draws: random.seed(1234); random.shuffle(lines).
    spec = f"attrs:{tmp_path / 'celeba'}:Young,Black_Hair"
    train, test = build_source(spec, "train"), build_source(spec, "test")
    assert (len(train), len(test)) == (4, 2) and train.attribute_names == ("Young", "Black_Hair")
    assert train.image_shape == (10, 10, 3) and train.num_classes is None
    batch = train.get(np.arange(4))
    assert batch["image"].shape == (4, 10, 10, 3) and batch["attributes"].dtype == np.float32
    numbers = batch["image"][:, 0, 0, 0]  # The centred 10x10 square of a 12x10 image starts at row 1.
    np.testing.assert_array_equal(numbers, order[2:])
    # Young is column 4, Black_Hair column 1: 1 when (i + 4), (i + 1) are even.
    np.testing.assert_array_equal(batch["attributes"], [[(i + 4) % 2 == 0, (i + 1) % 2 == 0] for i in order[2:]])
    np.testing.assert_array_equal(test.get(np.arange(2))["image"][:, 0, 0, 0], order[:2])
    assert len(build_source(f"attrs:{tmp_path / 'celeba'}", "train[:50%]")) == 2
    assert build_source(f"attrs:{tmp_path / 'celeba'}", "train").attribute_names == ALL_ATTRIBUTES


def test_attribute_folder_errors_name_the_problem(tmp_path, monkeypatch):
    from jaxgan.data import attributes
    from jaxgan.data.sources import build_source
    from jaxgan.errors import DataSourceError

    monkeypatch.setattr(attributes, "TEST_LINES", 1)
    root = tmp_path / "celeba"
    _write_celeba(root, 3)
    with pytest.raises(DataSourceError, match=r"unknown attribute\(s\) \['Blue_Hair'\]; the list has 5_o_Clock"):
        build_source(f"attrs:{root}:Black_Hair,Blue_Hair", "train")
    with pytest.raises(DataSourceError, match="no such folder"):
        build_source(f"attrs:{tmp_path / 'nowhere'}", "train")
    (root / "images" / "000002.png").unlink()
    with pytest.raises(DataSourceError, match="1 image\\(s\\) of the attribute list are not in .*000002.png"):
        build_source(f"attrs:{root}", "train")
    text = (root / "list_attr_celeba.txt").read_text().replace("000001.png -1", "000001.png 2")
    (root / "list_attr_celeba.txt").write_text(text)
    with pytest.raises(DataSourceError, match="line 4 should be a file name and 5 values"):
        build_source(f"attrs:{root}", "train")
