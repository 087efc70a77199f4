"""CoGAN: weight sharing (one submodule used for both domains, in G and in D), the paper-size layers, the
losses by hand with a probe D, one generator run per step, D first in a compiled step, fixed-noise panels,
the pair and label agreements by hand, a run's generated pairs, and the configs."""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import config as config_lib
from jaxgan import methods
from jaxgan import train as train_lib
from jaxgan.data import derived
from jaxgan.errors import ConfigError
from jaxgan.methods.base import ArraySpec, DataInfo, apply_train
from jaxgan.methods.cogan import pair_agreement
from jaxgan.networks.cogan import CoGANDiscriminator, CoGANGenerator, GeneratorLayers
from jaxgan.state import GANState, Side

from conftest import called_modules, load_config, one_device_mesh, resume_trainer

GREY = DataInfo({"image_a": ArraySpec((28, 28, 1), "uint8"), "image_b": ArraySpec((28, 28, 1), "uint8")})


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    return resume_trainer("cogan", tmp_path_factory.mktemp("cogan"))


def _batch(trainer):
    return {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(0).items()}


def _bump(params, top):
    return {k: (jax.tree.map(lambda x: x + 0.5, v) if k == top else v) for k, v in params.items()}


def _changed(before, after):
    return [float(jnp.abs(b - a).max()) > 1e-6 for b, a in zip(before, after)]


# --- Weight sharing and the layers ----------------------------------------------------------------------------

def test_generators_share_their_first_layers(trainer):
    """One 'shared' subtree used by both: bumping it changes G_a(z) and G_b(z); bumping generator_a only G_a."""
    variables = trainer.state.generator_variables(use_ema=False)
    assert sorted(variables["params"]) == ["generator_a", "generator_b", "shared"]
    z = trainer.method.sample_noise(jax.random.PRNGKey(3), 2)

    generate = jax.jit(trainer.method.generate)

    def outputs(params):
        return generate({**variables, "params": params}, z)

    base = outputs(variables["params"])
    assert _changed(base, outputs(_bump(variables["params"], "shared"))) == [True, True]
    assert _changed(base, outputs(_bump(variables["params"], "generator_a"))) == [True, False]
    other = generate(variables, trainer.method.sample_noise(jax.random.PRNGKey(4), 2))
    assert _changed(base, other) == [True, True]  # The pair depends on z.


def test_discriminators_share_their_last_layers(trainer):
    variables = trainer.state.discriminator.variables()
    assert sorted(variables["params"]) == ["discriminator_a", "discriminator_b", "shared"]
    batch = _batch(trainer)
    d = trainer.method.discriminator

    @jax.jit
    def logits(params):
        return d.apply({"params": params}, batch["image_a"], batch["image_b"], train=False)

    base = logits(variables["params"])
    assert _changed(base, logits(_bump(variables["params"], "shared"))) == [True, True]
    assert _changed(base, logits(_bump(variables["params"], "discriminator_b"))) == [False, True]


def test_discriminator_dropout_in_training_only():
    """The Caffe net's dropout on D's hidden layer: in training the logits depend on the dropout key; at test
    time, and at rate 0 (the port's), training logits equal the test-time ones."""
    x = jax.random.normal(jax.random.PRNGKey(0), (3, 28, 28, 1))
    d = CoGANDiscriminator(features=(2, 4, 8), dropout=0.5)
    variables = d.init(jax.random.PRNGKey(1), x, x, train=False)

    def train(module, key):
        return module.apply(variables, x, x, train=True, rngs={"dropout": jax.random.PRNGKey(key)})

    test = d.apply(variables, x, x, train=False)
    assert _changed(train(d, 2), train(d, 3)) == [True, True]
    assert _changed(test, train(d, 2)) == [True, True]
    plain = CoGANDiscriminator(features=(2, 4, 8))
    jax.tree.map(np.testing.assert_array_equal, train(plain, 2), plain.apply(variables, x, x, train=False))
    with pytest.raises(ConfigError, match="dropout"):
        CoGANDiscriminator(features=(2, 4, 8), dropout=1.0).apply(variables, x, x, train=False)


def test_paper_size_layers_and_parameters():
    """The digit networks at the paper's widths, counted by hand: G = convT4 100->1024, convT3 1024->512,
    512->256, 256->128 (4 PReLU slopes; BN without affine parameters), then convT6 128->1 per domain;
    D = conv5 1->20 per domain, then conv5 20->50, FC 800->500, a PReLU slope, FC 500->1 shared. Without
    sharing (shared_layers 0) each domain has all of them."""
    t = lambda cin, cout, k: cin * k * k * cout + cout  # noqa: E731
    trunk = t(100, 1024, 4) + t(1024, 512, 3) + t(512, 256, 3) + t(256, 128, 3) + 4
    d_trunk = t(20, 50, 5) + 800 * 500 + 500 + 1 + 501
    count = lambda tree: sum(p.size for p in jax.tree.leaves(tree["params"]))  # noqa: E731
    g = jax.eval_shape(lambda: CoGANGenerator(1, 1).init(jax.random.PRNGKey(0), jnp.zeros((2, 100)), train=False))
    x = jnp.zeros((2, 28, 28, 1))
    d = jax.eval_shape(lambda: CoGANDiscriminator().init(jax.random.PRNGKey(0), x, x, train=False))
    assert count(g) == trunk + 2 * t(128, 1, 6) == 7_842_694
    assert count(d) == 2 * t(1, 20, 5) + d_trunk == 427_092
    apart = jax.eval_shape(lambda: CoGANGenerator(1, 1, shared_layers=0).init(
        jax.random.PRNGKey(0), jnp.zeros((2, 100)), train=False))
    assert count(apart) == 2 * (trunk + t(128, 1, 6)) and "shared" not in apart["params"]
    out = jax.eval_shape(lambda: CoGANGenerator(1, 3).init_with_output(
        jax.random.PRNGKey(0), jnp.zeros((2, 100)), train=False))[0]
    assert [o.shape for o in out] == [(2, 28, 28, 1), (2, 28, 28, 3)]
    with pytest.raises(ConfigError, match="28x28"):
        CoGANDiscriminator().init(jax.random.PRNGKey(0), jnp.zeros((1, 32, 32, 1)), jnp.zeros((1, 32, 32, 1)),
                                  train=False)


# --- Losses and the step ------------------------------------------------------------------------------------------

class Probe(nn.Module):
    """A parameter-free D pair: logits 1 x the mean of domain a's image, 3 x the mean of domain b's."""

    @nn.compact
    def __call__(self, image_a, image_b, *, train):
        return image_a.mean(axis=(1, 2, 3)), 3.0 * image_b.mean(axis=(1, 2, 3))


def test_losses_by_hand_with_what_reaches_each_d(trainer):
    """D_a sees real a and G_a(z), D_b real b and G_b(z); the paper's game, non-saturating G:
    loss_D = softplus(-D_a(a)) + softplus(D_a(G_a(z))) + softplus(-D_b(b)) + softplus(D_b(G_b(z)));
    loss_G = softplus(-D_a(G_a(z))) + softplus(-D_b(G_b(z)))."""
    method = dataclasses.replace(trainer.method, discriminator=Probe())
    const = lambda v: jnp.full((2, 28, 28, 1), v, jnp.float32)  # noqa: E731
    batch = {"image_a": const(0.2), "image_b": const(-0.4)}
    generated = {"fake_a": const(0.5), "fake_b": const(0.1)}
    side = Side(params={}, collections={}, opt_state=None)
    state = GANState(step=jnp.zeros((), jnp.int32), rng=jax.random.PRNGKey(0), generator=side, discriminator=side,
                     ema_params=None, method_state={}, nonfinite_steps=jnp.zeros((), jnp.int32))
    sp = lambda x: float(np.log1p(np.exp(x)))  # noqa: E731
    d_loss, (d_metrics, _) = method.discriminator_loss({}, state, batch, generated, jax.random.PRNGKey(1))
    np.testing.assert_allclose(d_loss, sp(-0.2) + sp(0.5) + sp(3 * 0.4) + sp(3 * 0.1), rtol=1e-5)
    np.testing.assert_allclose([d_metrics["da_real_logit"], d_metrics["db_fake_logit"]], [0.2, 0.3], rtol=1e-5)
    g_loss, _ = method.generator_loss(generated, state, batch, jax.random.PRNGKey(2))
    np.testing.assert_allclose(g_loss, sp(-0.5) + sp(-0.3), rtol=1e-5)


def test_generators_run_once_per_step(trainer):
    calls = called_modules(trainer, GeneratorLayers)
    assert sorted(calls) == ["generator_a", "generator_b", "shared"]


def test_panels_are_pairs_from_fixed_noise(trainer):
    """The held-out batch only sets the number of rows: two batches of 2 give the same pairs."""
    variables = trainer.state.generator_variables()
    batch = _batch(trainer)
    first = trainer.method.panel_columns(variables, {k: v[:2] for k, v in batch.items()})
    second = trainer.method.panel_columns(variables, {k: v[2:4] for k, v in batch.items()})
    assert [c.shape for c in first] == [(2, 28, 28, 1)] * 2
    jax.tree.map(np.testing.assert_array_equal, first, second)


def test_real_steps_discriminator_first_and_generated_pairs(trainer):
    """Two compiled steps of the tiny config (last to use the trainer: it trains it). Step 1: D learned from
    this step's pairs under the start-of-step D, G's terms are those of the updated D. Then generate_pairs
    gives the test-time pairs of its noise batches, across a partial last batch."""
    method, old = trainer.method, jax.device_get(trainer.state)
    batch = _batch(trainer)
    forward_rng = jax.random.split(jax.random.fold_in(old.rng, old.step), 3)[2]
    generated, _ = jax.jit(method.generator_forward)(old.generator.params, old, batch, forward_rng)
    metrics = jax.device_get(trainer.train_steps(1))
    apply = jax.jit(lambda variables: apply_train(method.discriminator, variables, generated["fake_a"],
                                                  generated["fake_b"], rng=jax.random.PRNGKey(0)))

    def fake_logits(side):
        (da, db), _ = apply(side.variables())
        return float(da.mean()), float(db.mean())

    old_logits, new_logits = fake_logits(old.discriminator), fake_logits(trainer.state.discriminator)
    np.testing.assert_allclose([metrics["d/da_fake_logit"], metrics["d/db_fake_logit"]], old_logits, rtol=1e-4)
    np.testing.assert_allclose([metrics["g/da_fake_logit"], metrics["g/db_fake_logit"]], new_logits, rtol=1e-4)
    assert abs(old_logits[0] - new_logits[0]) > 1e-6
    trainer.train_steps(1)
    variables = trainer.state.generator_variables()
    first, second = method.generate_pairs(variables, 6, jax.random.PRNGKey(5), batch_size=4)
    generate = jax.jit(method.generate)
    pairs = [generate(variables, method.sample_noise(jax.random.fold_in(jax.random.PRNGKey(5), s), size))
             for s, size in ((0, 4), (4, 2))]
    np.testing.assert_allclose(first, np.concatenate([p[0] for p in pairs]), atol=1e-5)
    np.testing.assert_allclose(second, np.concatenate([p[1] for p in pairs]), atol=1e-5)
    assert first.shape == (6, 28, 28, 1) and np.abs(first - second).max() > 0  # Two output layers.


# --- The pair agreement by hand -------------------------------------------------------------------------------------

def test_pair_agreement_by_hand():
    """Negative: the exact negative agrees everywhere; 3 flipped pixels of 2 x 4 x 4 = 32 give 29/32; values
    on the same side of the middle grey count as agreeing. Edges: derived.edges of a square's stroke agrees
    everywhere; an all-background second image agrees on the 36 - 12 pixels off the outline."""
    rng = np.random.default_rng(0)
    first = np.where(rng.random((2, 4, 4, 1)) > 0.5, 0.8, -0.9).astype(np.float32)
    assert pair_agreement(first, -first, "negative") == 1.0
    assert pair_agreement(first, -0.5 * first, "negative") == 1.0  # Binarised at the middle grey.
    flipped = -first.copy()
    flipped[0, 0, :3, 0] *= -1
    assert pair_agreement(first, flipped, "negative") == pytest.approx(29 / 32)
    stroke = -np.ones((1, 6, 6, 1), np.float32)
    stroke[0, 2:4, 2:4, 0] = 1.0  # A 2x2 stroke: its outer gradient is the 12 pixels around it.
    outline = derived.edges(((stroke[..., 0] + 1) * 127.5).astype(np.uint8))
    assert int((outline > 0).sum()) == 12
    assert pair_agreement(stroke, outline[..., None] / 127.5 - 1.0, "edges") == 1.0
    assert pair_agreement(stroke, -np.ones_like(stroke), "edges") == pytest.approx((36 - 12) / 36)
    with pytest.raises(ConfigError, match="relation"):
        pair_agreement(stroke, stroke, "blur")


# --- Configs --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("variant, domain, relation", [("edges", "builtin:mnist/grey_edges", "grey_edges"),
                                                       ("negative", "builtin:mnist/negative", "negative")])
def test_configs_are_the_papers_digit_tasks(variant, domain, relation):
    config = load_config("cogan_mnist", variant)
    config_lib.validate(config)
    assert config.data.source == f"domains:builtin:mnist/plain|{domain}"
    method = methods.build(config, GREY)
    assert (method.pair_relation, method.adversarial_loss, method.latent_dim) == (relation, "non_saturating", 100)
    assert (method.generator.shared_layers, method.discriminator.shared_layers) == (4, 3)
    assert config.optimizer.generator.weight_decay == 5e-4


def test_paper_size_two_real_steps(tmp_path):
    """configs/cogan_mnist.py:negative at the paper's widths, 2 real steps at batch 1 on one device."""
    config = load_config("cogan_mnist", "negative")
    config.train.update(dict(steps=2, batch_size=1, log_every=1, sample_every=2, checkpoint_every=2))
    config.sample.examples = 1
    trainer = train_lib.Trainer(config, str(tmp_path), mesh=one_device_mesh())
    metrics = jax.device_get(trainer.train_steps(2))
    assert int(trainer.state.step) == 2 and all(np.isfinite(m) for m in jax.tree.leaves(metrics))


def test_agreement_baselines_by_hand():
    """'negative': T(x) = 255 - x. Image 1 is white | black, so T is on at its second pixel; image 2 is white |
    white, T on nowhere. Each against the other agrees on 1 of 2 pixels; T is on at 1 of 4 pixels, so the
    best constant second image (all off) agrees on 3 of 4."""
    from jaxgan.methods.cogan import agreement_baselines

    first = np.array([[1.0, -1.0], [1.0, 1.0]]).reshape(2, 1, 2, 1)
    assert agreement_baselines(first, "negative") == {"unrelated": 0.5, "constant": 0.75}
    assert agreement_baselines(np.concatenate([first[:1]] * 3), "negative")["unrelated"] == 1.0
    with pytest.raises(ConfigError, match="pair relation"):
        agreement_baselines(first, "rotated")
    # Same class: digits 0 are two copies of image 1 (agree everywhere); the 1 of image 2 is alone, left out.
    # Two 0s of images 1 and 2 agree on half their pixels.
    three = np.concatenate([first[:1], first[:1], first[1:]])
    assert agreement_baselines(three, "negative", labels=np.array([0, 0, 1]))["same_class"] == 1.0
    assert agreement_baselines(first, "negative", labels=np.array([0, 0]))["same_class"] == 0.5
    with pytest.raises(ConfigError, match="two real images of one class"):
        agreement_baselines(first, "negative", labels=np.array([0, 1]))


def test_apply_relation_maps_images_in_the_engines_range():
    """T(x) as an image in [-1, 1]: the negative of white | black | mid-grey (uint8 255, 0, 128) is
    0, 255, 127; the edges of a 2x2 stroke are its 12 neighbours."""
    from jaxgan.methods.cogan import apply_relation

    first = np.array([1.0, -1.0, 0.0]).reshape(1, 1, 3, 1)
    np.testing.assert_allclose(apply_relation(first, "negative")[0, 0, :, 0], [-1.0, 1.0, 127 / 127.5 - 1.0])
    stroke = -np.ones((1, 6, 6, 1), np.float32)
    stroke[0, 2:4, 2:4, 0] = 1.0
    related = apply_relation(stroke, "edges")
    assert related.dtype == np.float32 and int((related > 0).sum()) == 12 and set(np.unique(related)) == {-1.0, 1.0}
    with pytest.raises(ConfigError, match="relation"):
        apply_relation(stroke, "blur")


def test_label_agreement_by_hand():
    """Pairs read (0, 0), (1, 1), (1, 2), (2, 2): 3 of 4 agree. A reads 0, 1, 1, 2 (p_a = 1/4, 1/2, 1/4), B
    reads 0, 1, 2, 2 (1/4, 1/4, 1/2): independent pairs agree on 1/16 + 1/8 + 1/8 = 5/16. A dropped class
    shows as a 0 count."""
    from jaxgan.methods.cogan import label_agreement

    result = label_agreement(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), num_classes=4)
    assert result == {"agreement": 0.75, "independent": 5 / 16, "counts_a": [1, 2, 1, 0], "counts_b": [1, 1, 2, 0]}
    assert label_agreement(np.array([3, 3]), np.array([3, 3]), 4)["independent"] == 1.0
    with pytest.raises(ConfigError, match="label vectors"):
        label_agreement(np.array([0, 1]), np.array([0]), 4)


def test_evaluation_table_prints_each_measure_beside_what_it_reads_against():
    from jaxgan.evaluate import format_table

    table = format_table({"family": "coupled", "step": 5, "num_pairs": 10, "ema": False, "pair_relation": "edges",
                          "pair_agreement": 0.8142, "real_baselines": {"unrelated": 0.8047, "constant": 0.8695,
                                                                          "same_class": 0.8166},
                          "label_agreement": {"agreement": 0.4371, "independent": 0.1137, "real_pairs": 0.9835,
                                              "counts_a": [6, 4], "counts_b": [9, 1],
                                              "classifier_test_accuracy": {"a": 0.99, "b": 0.98}},
                          "fcd": {"a": {"generated": 12.5, "real_train": 0.5},
                                  "b": {"generated": 40.25, "real_train": 1}}})
    assert "0.8142" in table and "unrelated pairs 0.8047" in table and "constant second image 0.8695" in table
    assert "another hand 0.8166" in table
    assert "label agreement: 0.4371" in table and "frequencies 0.1137" in table and "(x, T(x)) 0.9835" in table
    assert "A 12.50 (real training images 0.50), B 40.25 (real training images 1.00)" in table
    assert table.splitlines()[-1].split() == ["B", "read", "9", "1"]
    labels_only = format_table({"family": "coupled", "step": 5, "num_pairs": 10, "ema": False, "pair_relation": "",
                                "label_agreement": {"agreement": 0.5, "independent": 0.25, "counts_a": [1],
                                                    "counts_b": [1], "classifier_test_accuracy": {"a": 1, "b": 1}},
                                "fcd": {k: {"generated": 1, "real_train": 0} for k in "ab"}})
    assert "pixel" not in labels_only and "T(x)" not in labels_only and "label agreement: 0.5000" in labels_only
