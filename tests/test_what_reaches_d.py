"""What each label-conditional method feeds its discriminator, on each side of the game.

The hand-value loss tests elsewhere replace D; here D (and G) are spies. The spy G draws, for label y,
an image whose every pixel is ``fake_pixel(y)``, so a generated image names the label it was
conditioned on; the real batch is random noise, unlike any generated image. The spy D records every
(images, labels) it is called with (``jax.debug.callback``) and returns a logit that is a known
function of them, so the method's loss can be recomputed by hand (numpy) from what D saw. Each test
checks that D saw exactly the expected pairs (real images with their own labels, generated images
with the conditioning labels, real images with wrong labels for the matching-aware terms, 2x2
average-pooled real images for StackGAN's stage I) and that the loss combines D's outputs on them
as the paper's equation says.

Also: the actor loss of Latent Constraints, L_G = adv_G(D(G(z, c), c)) + lambda_dist * L_dist,
against numpy evaluations of the networks.
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from jaxgan.methods.acgan import AuxiliaryClassifierGAN
from jaxgan.methods.cgan import ConditionalGAN
from jaxgan.methods.latent_constraints import LatentConstraints
from jaxgan.methods.matching import MatchingAwareGAN, RealismAndMatch
from jaxgan.methods.stackgan import StackGAN
from jaxgan.networks.vae import LatentCritics, VAEActor
from jaxgan.train import init_state

K = 5  # Classes.
SHAPE = (4, 4, 1)
LABELS = np.array([0, 3, 4, 1, 3, 2], np.int32)
REAL = np.random.default_rng(0).uniform(-1, 1, (len(LABELS),) + SHAPE).astype(np.float32)
BATCH = {"image": jnp.asarray(REAL), "label": jnp.asarray(LABELS)}
CALLS = []  # (tag, images, labels) of every call of a spy D, in call order.


def softplus(x):
    return np.log1p(np.exp(x))


def cross_entropy(logits, labels):
    log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return -np.mean(log_softmax[np.arange(len(labels)), labels])


def fake_pixel(labels, stage: int = 1):
    """The spy G's pixel value for label y (stage 0: StackGAN's low-resolution image)."""
    return (-0.04 if stage else 0.03) + 0.1 * np.asarray(labels, np.float32)


def fake_images(labels, shape=SHAPE, stage: int = 1):
    return np.broadcast_to(fake_pixel(labels, stage)[:, None, None, None], (len(labels),) + shape)


def average_pool_2x2(x):
    """Stage I's real images, by hand: each 2x2 block's mean."""
    return (x[:, 0::2, 0::2] + x[:, 1::2, 0::2] + x[:, 0::2, 1::2] + x[:, 1::2, 1::2]) / 4


def spy_logit(x, labels, image_weight, label_weight):
    """The spy D's logit: image_weight * mean(x) + label_weight * y, per example."""
    x = np.asarray(x, np.float64)
    return image_weight * x.reshape(len(x), -1).mean(1) + label_weight * np.asarray(labels, np.float64)


def spy_class_logits(x):
    """The spy AC-GAN D's class logits: -(k - 10 mean(x))^2 for class k, so that a generated image of
    label y (mean 0.1 y - 0.04) is classified as y."""
    m = np.asarray(x, np.float64).reshape(len(x), -1).mean(1)
    return -np.square(np.arange(K) - 10 * m[:, None])


def _record(tag, images, labels):
    CALLS.append((tag, jax.tree.map(np.asarray, images), None if labels is None else np.asarray(labels)))


class SpyGenerator(nn.Module):
    """G(z, y) = an image filled with fake_pixel(y); StackGAN's form returns (s_0, s_1, CA statistics)
    with mu_i = (i + 1) * 0.1 * y and log sigma_i^2 = -0.5 i in each of 2 dimensions."""

    stackgan: bool = False

    def noise_dim(self, latent_dim: int) -> int:  # StackGAN: [z, eps_0, eps_1].
        return latent_dim + 4

    @nn.compact
    def __call__(self, z, labels, *, train):
        scale = self.param("scale", nn.initializers.ones, ())  # Something for G's optimizer and gradient.
        y = labels.astype(jnp.float32)

        def image(shape, stage):
            value = scale * jnp.asarray(fake_pixel(0, stage)) + 0.1 * y
            return jnp.broadcast_to(value[:, None, None, None], (len(y),) + shape)

        if not self.stackgan:
            return image(SHAPE, 1)
        stats = tuple((jnp.broadcast_to(((i + 1) * 0.1 * y)[:, None], (len(y), 2)),
                       jnp.full((len(y), 2), -0.5 * i)) for i in range(2))
        return image((2, 2, 1), 0), image(SHAPE, 1), stats


class SpyDiscriminator(nn.Module):
    """Records its inputs; returns spy_logit (and AC-GAN's class logits, or StackGAN's two stages'
    logits with the weights of stage 0 and of stage 1)."""

    tag: str = "D"
    image_weight: float = 1.0
    label_weight: float = 0.3
    aux_classes: int = 0
    stackgan: bool = False

    @nn.compact
    def __call__(self, x, labels, *, train):
        scale = self.param("scale", nn.initializers.ones, ())
        jax.debug.callback(functools.partial(_record, self.tag), x, labels)
        y = labels.astype(jnp.float32)

        def logit(images, image_weight, label_weight):
            return scale * image_weight * images.reshape(len(images), -1).mean(1) + label_weight * y

        if self.stackgan:
            return logit(x[0], 1.0, 0.3), logit(x[1], 2.0, -0.2)
        out = logit(x, self.image_weight, self.label_weight)
        if self.aux_classes:
            m = x.reshape(len(x), -1).mean(1)
            return out, -jnp.square(jnp.arange(K) - 10 * m[:, None])
        return out


def _state(method):
    config = ml_collections.ConfigDict(dict(seed=0, train=dict(ema_decay=0.0)))
    state = init_state(method, config, optax.sgd(0.1), optax.sgd(0.1), BATCH)
    CALLS.clear()  # Forget the calls made by init.
    return state


def _losses(method, state):
    """D's loss then G's loss with the spies; returns ((d_loss, d_metrics, d_calls), (g_loss, ...))."""
    out = []
    losses = (("discriminator", method.discriminator_loss), ("generator", method.generator_loss))
    if hasattr(method, "generator_forward"):  # The shared form (jaxgan.train_step): G runs once, outside the losses.
        generated, _ = method.generator_forward(state.generator.params, state, BATCH, jax.random.PRNGKey(4))
        losses = (("discriminator", lambda params, state, batch, rng: method.discriminator_loss(
                      params, state, batch, generated, rng)),
                  ("generator", lambda _, state, batch, rng: method.generator_loss(generated, state, batch, rng)))
    for side, loss_fn in losses:
        CALLS.clear()
        loss, (metrics, *_) = loss_fn(getattr(state, side).params, state, BATCH, jax.random.PRNGKey(3))
        jax.effects_barrier()
        out.append((float(loss), {k: float(v) for k, v in metrics.items()}, list(CALLS)))
    return out


def image_kind(images) -> str:
    """'real', 'fake' (G's images for the batch's labels), for StackGAN's pairs the same names, or '?'."""
    if isinstance(images, tuple):
        low, high = images
        if np.allclose(low, average_pool_2x2(REAL), atol=1e-6) and np.array_equal(high, REAL):
            return "real"
        if np.allclose(low, fake_images(LABELS, (2, 2, 1), 0)) and np.allclose(high, fake_images(LABELS)):
            return "fake"
        return "?"
    if images.shape == REAL.shape and np.array_equal(images, REAL):
        return "real"
    if images.shape == REAL.shape and np.allclose(images, fake_images(LABELS)):
        return "fake"
    return "?"


def label_kind(labels) -> str:
    """'own' (the batch's labels), 'wrong' (a valid label differing from every example's own) or '?'."""
    if np.array_equal(labels, LABELS):
        return "own"
    if labels.shape == LABELS.shape and np.all(labels != LABELS) and np.all((0 <= labels) & (labels < K)):
        return "wrong"
    return "?"


def _kinds(calls):
    return sorted((tag, image_kind(x), label_kind(y)) for tag, x, y in calls)


def _one(calls, tag, images, labels):
    """The (images, labels) of the one call of ``tag`` on that kind of pair."""
    found = [(x, y) for t, x, y in calls if (t, image_kind(x), label_kind(y)) == (tag, images, labels)]
    assert len(found) == 1, _kinds(calls)
    return found[0]


def _cgan(cls=ConditionalGAN, **kwargs):
    return cls(generator=SpyGenerator(), discriminator=kwargs.pop("discriminator", SpyDiscriminator()),
               num_classes=K, latent_dim=3, noise="normal", adversarial_loss="non_saturating", **kwargs)


def test_cgan_real_with_own_labels_and_fakes_with_the_conditioning_labels():
    method = _cgan()
    (d_loss, _, d_calls), (g_loss, _, g_calls) = _losses(method, _state(method))
    assert _kinds(d_calls) == [("D", "fake", "own"), ("D", "real", "own")]
    assert _kinds(g_calls) == [("D", "fake", "own")]
    real = spy_logit(REAL, LABELS, 1.0, 0.3)
    fake = spy_logit(fake_images(LABELS), LABELS, 1.0, 0.3)
    # -E[log D(x|y)] - E[log(1 - D(G(z|y)|y))]; G: -E[log D(G(z|y)|y)] (non-saturating).
    assert d_loss == pytest.approx(np.mean(softplus(-real)) + np.mean(softplus(fake)), rel=1e-5)
    assert g_loss == pytest.approx(np.mean(softplus(-fake)), rel=1e-5)


def test_acgan_class_loss_uses_the_conditioning_labels_on_real_and_generated_images():
    method = _cgan(AuxiliaryClassifierGAN, discriminator=SpyDiscriminator(aux_classes=K), classification_weight=0.7)
    (d_loss, d_metrics, d_calls), (g_loss, _, g_calls) = _losses(method, _state(method))
    assert [k[:2] for k in _kinds(d_calls)] == [("D", "fake"), ("D", "real")]
    assert [k[:2] for k in _kinds(g_calls)] == [("D", "fake")]
    real, fake = spy_logit(REAL, LABELS, 1.0, 0.3), spy_logit(fake_images(LABELS), LABELS, 1.0, 0.3)
    ce_real = cross_entropy(spy_class_logits(REAL), LABELS)
    ce_fake = cross_entropy(spy_class_logits(fake_images(LABELS)), LABELS)
    # loss_D = adv_D + lambda_C (CE(real) + CE(fake)); loss_G = adv_G + lambda_C CE(fake).
    source = np.mean(softplus(-real)) + np.mean(softplus(fake))
    assert d_metrics["class_loss"] == pytest.approx(ce_real + ce_fake, rel=1e-5)
    # The class accuracies: generated images are all classified as their label; real ones as computed.
    real_accuracy = np.mean(spy_class_logits(REAL).argmax(-1) == LABELS)
    assert 0 < real_accuracy < 1
    assert d_metrics["real_class_accuracy"] == pytest.approx(real_accuracy)
    assert d_metrics["fake_class_accuracy"] == 1.0
    assert d_loss == pytest.approx(source + 0.7 * (ce_real + ce_fake), rel=1e-5)
    assert g_loss == pytest.approx(np.mean(softplus(-fake)) + 0.7 * ce_fake, rel=1e-5)


def test_matching_aware_joint_score_sees_mismatched_real_pairs():
    method = _cgan(MatchingAwareGAN, structure="joint")
    (d_loss, _, d_calls), (g_loss, _, g_calls) = _losses(method, _state(method))
    assert _kinds(d_calls) == [("D", "fake", "own"), ("D", "real", "own"), ("D", "real", "wrong")]
    assert _kinds(g_calls) == [("D", "fake", "own")]
    _, wrong = _one(d_calls, "D", "real", "wrong")
    real = spy_logit(REAL, LABELS, 1.0, 0.3)
    fake = spy_logit(fake_images(LABELS), LABELS, 1.0, 0.3)
    mismatched = spy_logit(REAL, wrong, 1.0, 0.3)
    # f_real(s(x, y)) + (f_fake(s(G(z, y), y)) + f_fake(s(x, y'))) / 2.
    expected = np.mean(softplus(-real)) + (np.mean(softplus(fake)) + np.mean(softplus(mismatched))) / 2
    assert d_loss == pytest.approx(expected, rel=1e-5)
    assert g_loss == pytest.approx(np.mean(softplus(-fake)), rel=1e-5)


def test_matching_aware_mismatch_weight_shares_the_fake_term():
    """loss_D = f_real(s(x, y)) + (1 - w) f_fake(s(G(z, y), y)) + w f_fake(s(x, y')), here w = 0.2."""
    method = _cgan(MatchingAwareGAN, structure="joint", mismatch_weight=0.2)
    (d_loss, _, d_calls), _ = _losses(method, _state(method))
    _, wrong = _one(d_calls, "D", "real", "wrong")
    real = spy_logit(REAL, LABELS, 1.0, 0.3)
    fake = spy_logit(fake_images(LABELS), LABELS, 1.0, 0.3)
    mismatched = spy_logit(REAL, wrong, 1.0, 0.3)
    expected = np.mean(softplus(-real)) + 0.8 * np.mean(softplus(fake)) + 0.2 * np.mean(softplus(mismatched))
    assert d_loss == pytest.approx(expected, rel=1e-5)


def test_matching_aware_separate_realism_is_real_vs_fake_and_match_is_matched_vs_mismatched():
    spies = RealismAndMatch(realism=SpyDiscriminator(tag="r", image_weight=2.0, label_weight=0.0),
                            match=SpyDiscriminator(tag="m", image_weight=1.0, label_weight=0.3))
    method = _cgan(MatchingAwareGAN, discriminator=spies, structure="separate")
    (d_loss, d_metrics, d_calls), (g_loss, g_metrics, g_calls) = _losses(method, _state(method))
    pairs = [("fake", "own"), ("real", "own"), ("real", "wrong")]
    assert _kinds(d_calls) == sorted([("m",) + p for p in pairs] + [("r",) + p for p in pairs])
    assert _kinds(g_calls) == [("m", "fake", "own"), ("r", "fake", "own")]
    _, wrong = _one(d_calls, "m", "real", "wrong")
    r_real, r_fake = spy_logit(REAL, LABELS, 2.0, 0.0), spy_logit(fake_images(LABELS), LABELS, 2.0, 0.0)
    m_real, m_fake = spy_logit(REAL, LABELS, 1.0, 0.3), spy_logit(fake_images(LABELS), LABELS, 1.0, 0.3)
    m_wrong = spy_logit(REAL, wrong, 1.0, 0.3)
    realism = np.mean(softplus(-r_real)) + np.mean(softplus(r_fake))
    match = np.mean(softplus(-m_real)) + np.mean(softplus(m_wrong))
    assert d_metrics["realism_loss"] == pytest.approx(realism, rel=1e-5)
    assert d_metrics["match_loss"] == pytest.approx(match, rel=1e-5)
    assert d_loss == pytest.approx(realism + match, rel=1e-5)
    assert g_loss == pytest.approx(np.mean(softplus(-r_fake)) + np.mean(softplus(-m_fake)), rel=1e-5)


def test_stackgan_both_stages_see_pooled_real_fake_and_mismatched_pairs():
    method = StackGAN(generator=SpyGenerator(stackgan=True), discriminator=SpyDiscriminator(stackgan=True),
                      num_classes=K, latent_dim=3, adversarial_loss="non_saturating", kl_weight=0.5)
    (d_loss, d_metrics, d_calls), (g_loss, g_metrics, g_calls) = _losses(method, _state(method))
    assert _kinds(d_calls) == [("D", "fake", "own"), ("D", "real", "own"), ("D", "real", "wrong")]
    assert _kinds(g_calls) == [("D", "fake", "own")]
    _, wrong = _one(d_calls, "D", "real", "wrong")
    weights = ((1.0, 0.3), (2.0, -0.2))  # The spy's (image, label) weights of D_0 and D_1.
    reals = (average_pool_2x2(REAL), REAL)
    fakes = (fake_images(LABELS, (2, 2, 1), 0), fake_images(LABELS))
    expected_g = 0.0
    for i, (w, real, fake) in enumerate(zip(weights, reals, fakes)):
        r, f, m = spy_logit(real, LABELS, *w), spy_logit(fake, LABELS, *w), spy_logit(real, wrong, *w)
        stage = np.mean(softplus(-r)) + (np.mean(softplus(f)) + np.mean(softplus(m))) / 2
        assert d_metrics[f"stage{i}_loss"] == pytest.approx(stage, rel=1e-5), i
        expected_g += np.mean(softplus(-f))
    assert d_loss == pytest.approx(d_metrics["stage0_loss"] + d_metrics["stage1_loss"], rel=1e-6)
    # KL(N(mu, sigma^2) || N(0, I)) = 1/2 sum(mu^2 + sigma^2 - 1 - log sigma^2), mu_i = (i + 1) 0.1 y.
    kl = sum(np.mean(0.5 * 2 * (((i + 1) * 0.1 * LABELS) ** 2 + np.exp(-0.5 * i) - 1 + 0.5 * i)) for i in range(2))
    assert g_metrics["kl"] == pytest.approx(kl, rel=1e-5)
    assert g_loss == pytest.approx(expected_g + 0.5 * kl, rel=1e-5)


# --- Latent Constraints: the critic sees latents -------------------------------------------------------

LATENT = 3


class SpyEncoder(nn.Module):
    """q(z | x): mean 10 + mean(x) + 0.1 d in dimension d, log variance -60 (a point mass)."""

    @nn.compact
    def __call__(self, x):
        m = x.reshape(len(x), -1).mean(1)
        return 10.0 + m[:, None] + 0.1 * jnp.arange(LATENT), jnp.full((len(x), LATENT), -60.0)


class SpyActor(nn.Module):
    """G(z, c) = -20 - c in every dimension, gate 1/2."""

    @nn.compact
    def __call__(self, z, labels):
        return jnp.broadcast_to(-20.0 - labels[:, None].astype(jnp.float32), z.shape), jnp.full(z.shape, 0.5)


class SpyVAEActor(nn.Module):
    def setup(self):
        self.encoder, self.actor = SpyEncoder(), SpyActor()


class SpyCritics(nn.Module):
    """D(z, c) = mean(z) + 0.3 c and D_attr(z) = mean(z) (k + 1) / 10, both recorded."""

    def setup(self):
        self.attribute = SpyAttribute()

    def __call__(self, z, labels):
        jax.debug.callback(functools.partial(_record, "critic"), z, labels)
        return z.mean(1) + 0.3 * labels

    def classify(self, z):
        return self.attribute(z)


class SpyAttribute(nn.Module):
    def __call__(self, z):
        jax.debug.callback(functools.partial(_record, "attribute"), z, None)
        return z.mean(1)[:, None] * (jnp.arange(K) + 1) / 10


def latent_kind(z) -> str:
    """'posterior' (of the batch's images), 'actor' (G(., c) for the batch's labels), 'prior' (N(0, I)
    draws: all within 6 of 0) or '?'."""
    posterior = 10 + REAL.reshape(len(REAL), -1).mean(1)[:, None] + 0.1 * np.arange(LATENT)
    if np.allclose(z, posterior, atol=1e-5):
        return "posterior"
    if np.allclose(z, -20.0 - LABELS[:, None]):
        return "actor"
    return "prior" if z.shape == (len(LABELS), LATENT) and np.all(np.abs(z) < 6) else "?"


def test_latent_constraints_critic_sees_posterior_prior_and_actor_latents_with_own_labels():
    method = LatentConstraints(model=SpyVAEActor(), critic=SpyCritics(), num_classes=K, latent_dim=LATENT,
                               vae_steps=1, sigma_x=1.0, kl_weight=1.0, lambda_dist=0.1,
                               adversarial_loss="non_saturating")
    CALLS.clear()
    loss, _ = method.critic_loss({}, {}, BATCH, jax.random.PRNGKey(2))
    jax.effects_barrier()
    kinds = sorted((tag, latent_kind(z), None if y is None else label_kind(y)) for tag, z, y in CALLS)
    assert kinds == [("attribute", "posterior", None), ("critic", "actor", "own"), ("critic", "posterior", "own"),
                     ("critic", "prior", "own")]
    logit = {latent_kind(z): np.mean(z, 1) + 0.3 * y for tag, z, y in CALLS if tag == "critic"}
    posterior = next(z for tag, z, _ in CALLS if tag == "attribute")
    expected = (np.mean(softplus(-logit["posterior"])) + np.mean(softplus(logit["prior"]))
                + np.mean(softplus(logit["actor"]))
                + cross_entropy(posterior.mean(1)[:, None] * (np.arange(K) + 1) / 10, LABELS))
    assert float(loss) == pytest.approx(expected, rel=1e-5)

    CALLS.clear()
    method.actor_loss({}, {}, BATCH, jax.random.PRNGKey(2))
    jax.effects_barrier()
    assert [(tag, latent_kind(z), label_kind(y)) for tag, z, y in CALLS] == [("critic", "actor", "own")]


def _dense(p, x):
    return x @ np.asarray(p["kernel"], np.float64) + np.asarray(p["bias"], np.float64)


def _mlp(params, x, hidden: int):
    """Dense_0 .. Dense_{hidden-1} with ReLU, then 'output'."""
    for i in range(hidden):
        x = np.maximum(_dense(params[f"Dense_{i}"], x), 0)
    return _dense(params["output"], x)


def test_latent_constraints_actor_loss_by_hand():
    """L_G = adv_G(D(G(z, c), c)) + lambda_dist * mean (1 / sigma_z_bar^2) log(1 + (G(z, c) - z)^2), with
    G(z, c) = (1 - sigmoid(g)) z + sigmoid(g) dz, every network evaluated here in numpy."""
    latent, units = 3, (6, 5)
    method = LatentConstraints(
        model=VAEActor(num_classes=K, latent_dim=latent, image_shape=SHAPE, encoder_units=(6,), decoder_units=(6,),
                       actor_units=units, label_units=4),
        critic=LatentCritics(num_classes=K, units=units, label_units=4, attribute_units=(6,)),
        num_classes=K, latent_dim=latent, vae_steps=1, sigma_x=1.0, kl_weight=1.0, lambda_dist=0.7,
        adversarial_loss="non_saturating")
    g_vars, d_vars, _ = method.init(jax.random.PRNGKey(0), BATCH)
    # Scale the actor's weights so that its move, and the label's effect on it, are far from 0.
    g_vars = {"params": {**g_vars["params"], "actor": jax.tree.map(lambda x: 3 * x, g_vars["params"]["actor"])}}
    rng = jax.random.PRNGKey(5)
    loss, metrics = method.actor_loss(g_vars, d_vars, BATCH, rng)

    g, d = g_vars["params"], d_vars["params"]
    onehot = np.eye(K)[LABELS]
    z = np.asarray(jax.random.normal(rng, (len(LABELS), latent)), np.float64)  # z ~ N(0, I) from the loss's rng.
    out = _mlp(g["actor"], np.concatenate([z, _dense(g["actor"]["label_embedding"], onehot)], -1), len(units))
    dz, gate = out[:, :latent], 1 / (1 + np.exp(-out[:, latent:]))
    z_new = (1 - gate) * z + gate * dz
    critic = d["critic"]
    logits = _mlp(critic, np.concatenate([z_new, _dense(critic["label_embedding"], onehot)], -1), len(units))[:, 0]
    log_variance = _mlp(g["encoder"], REAL.reshape(len(REAL), -1).astype(np.float64), 1)[:, latent:]
    sigma_z_bar = np.mean(np.exp(0.5 * log_variance))
    adversarial = np.mean(softplus(-logits))  # Non-saturating: -log sigmoid(D).
    distance = np.mean(np.log1p((z_new - z) ** 2)) / sigma_z_bar ** 2
    assert float(metrics["adversarial"]) == pytest.approx(adversarial, rel=1e-4)
    assert float(metrics["distance"]) == pytest.approx(distance, rel=1e-4)
    assert float(metrics["gate"]) == pytest.approx(np.mean(gate), rel=1e-5)
    assert float(loss) == pytest.approx(adversarial + 0.7 * distance, rel=1e-4)
    assert distance > 0.05 and 0.7 * distance > 0.05 * adversarial  # Both terms matter in the sum.
