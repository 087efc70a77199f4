"""Latent Constraints (Engel, Hoffman & Roberts 2017): conditional generation from an unconditional VAE.

One run, two phases, counted in updates of each side (``config.model.vae_steps`` = V):

1. Updates 0 .. V-1 train an unconditional VAE (generator side), the critic is idle. The loss is the
   negative ELBO with a Gaussian decoder p(x | z) = N(mu(z), sigma_x^2 I) and q(z | x) =
   N(m(x), diag(s(x)^2)), per image (D pixels), with z = m + s * eps:

       -ELBO = sum_d [ (x_d - mu_d(z))^2 / (2 sigma_x^2) + log sigma_x + log(2 pi) / 2 ]
               + beta * KL(q(z | x) || N(0, I)),

   beta = ``config.loss.kl_weight`` (1: the ELBO itself), mean over the batch.

2. Updates V .. train the actor G(z, c) and the critic D(z, c) in latent space; the VAE is frozen.
   With the batch's labels c, posterior latents z ~ q(z | x) of real images are real, prior samples
   z ~ N(0, I) and actor outputs G(z, c) are fake:

       L_D = adv_real(D(z_q, c)) + adv_fake(D(z_p, c)) + adv_fake(D(G(z_p', c), c))
             - log softmax(D_attr(z_q))_c
       L_G = adv_G(D(G(z, c), c)) + lambda_dist * L_dist(G(z, c), z)

   The last term of L_D trains the attribute classifier D_attr(z) (its own parameters, the same side
   and optimizer) on the posterior latents; only the transformation below uses it.

   with the actor's gated update z' = (1 - sigma(g)) z + sigma(g) dz (``jaxgan.networks.vae``) and the
   distance penalty, which keeps z' near the prior sample it came from:

       L_dist(z', z) = mean_{batch, latent dims} (1 / sigma_z_bar^2) log(1 + (z' - z)^2),

   sigma_z_bar = the encoder's standard deviation s(x) averaged over the batch's images and the latent
   dimensions (the paper's average encoder scale, here estimated on each batch, without gradient).
   adv_* is the adversarial loss chosen by name (``config.loss.adversarial``), lambda_dist =
   ``config.loss.lambda_dist``.

Sampling: ``generate(z, c)`` = decode(G(z, c)) with z ~ N(0, I), so sample grids, ``jaxgan.sample``
and ``jaxgan.evaluate`` work unchanged.

Phases, exactly: each side's optimizer is wrapped (``wrap_optimizers``, called by
``jaxgan.optim.build_pair``) in ``optax.transforms.conditionally_mask``: the VAE's parameters get
zero updates and keep their optimizer state from update V on, the actor's and the critic's before
it. Each loss picks its phase with ``lax.cond`` on the update counter of its own side's mask, so the
loss and the mask never disagree (with ``train.on_nonfinite='skip'`` a skipped update does not count);
with ``train.n_critic = 1`` (required) the counter is the engine's step. The inactive phase's metrics
are reported as 0; ``phase`` is 0 during the VAE phase and 1 after.

Identity-preserving transformation (``transform``): from a real image's posterior mean z0, gradient
ascent in latent space on the critics' values (Engel et al. 2017: the attribute critic and the
realism critic, the latent optimised against both)

    J(z) = sum_k w_k [log softmax(D_attr(z))_k + rho log sigmoid(D(z, k))] - lambda * L_dist(z, z0)

(w = one-hot of the target class by default, a weighted sum over classes when ``weights`` is given;
rho = ``sample.transform_realism_weight``), then decode. D_attr pulls z towards the class everywhere in
latent space; D(z, k) keeps it where real latents of class k lie. The distance term, with sigma_z_bar
from the images' own posteriors, keeps what the critics do not care about: the identity (style) of the
digit.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Optional, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgan import losses, networks
from jaxgan.errors import ConfigError
from jaxgan.methods.base import Batch, DataInfo, Variables, class_accuracy
from jaxgan.networks.vae import LatentCritics, VAEActor

ACTOR = "actor"  # Top-level key of the actor's parameters in VAEActor; the others belong to the VAE.
PHASE_METRICS_G = ("neg_elbo", "reconstruction", "kl", "adversarial", "distance", "gate", "fake_logit")
PHASE_METRICS_D = ("real_logit", "prior_logit", "actor_logit", "attribute_loss", "attribute_accuracy")


def distance_penalty(z_new: jax.Array, z: jax.Array, sigma_z_bar: jax.Array) -> jax.Array:
    """(1 / sigma_z_bar^2) log(1 + (z' - z)^2), averaged over the latent dimensions: one value per example."""
    return jnp.mean(jnp.log1p(jnp.square(z_new - z)), axis=-1) / jnp.square(sigma_z_bar)


def phase_counter(opt_state: Any) -> jax.Array:
    """The update counter of the phase masks in one side's optimizer state (see ``wrap_optimizers``)."""
    is_mask = lambda s: isinstance(s, optax.transforms.ConditionallyMaskState)  # noqa: E731
    masks = [s for s in jax.tree.leaves(opt_state, is_leaf=is_mask) if is_mask(s)]
    if not masks:
        raise ValueError("method 'latent_constraints' needs its optimizers wrapped by its wrap_optimizers "
                         "(jaxgan.optim.build_pair does it)")
    return masks[0].step


@dataclasses.dataclass(frozen=True)
class LatentConstraints:
    model: VAEActor  # Encoder, decoder and actor: the generator side.
    critic: nn.Module  # D(z, c) and D_attr(z) (LatentCritics): the discriminator side.
    num_classes: int
    latent_dim: int
    vae_steps: int
    sigma_x: float
    kl_weight: float
    lambda_dist: float
    adversarial_loss: str
    transform_steps: int = 100
    transform_step_size: float = 0.05
    transform_lambda_dist: float = 0.1
    transform_realism_weight: float = 1.0

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "LatentConstraints":
        if not data.num_classes:
            raise ConfigError(f"method 'latent_constraints' needs labelled data; source {config.data.source!r} "
                              "has no class labels")
        model, loss, sample = config.model, config.loss, config.get("sample", {})
        number = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)  # noqa: E731
        integer = lambda v: isinstance(v, int) and not isinstance(v, bool)  # noqa: E731
        vae_steps = model.get("vae_steps")
        checks = [
            (integer(vae_steps) and 1 <= vae_steps < config.train.steps,
             f"config.model.vae_steps={vae_steps!r}: the VAE phase needs 1 <= vae_steps < train.steps="
             f"{config.train.steps} (updates after it train the actor and the critic)"),
            (config.train.n_critic == 1,
             f"config.train.n_critic={config.train.n_critic}: method 'latent_constraints' updates the critic "
             "and the actor once each per step; set it to 1"),
            (config.train.get("n_generator", 1) == 1,
             f"config.train.n_generator={config.train.get('n_generator')}: method 'latent_constraints' updates the "
             "critic and the actor once each per step; set it to 1"),
            (number(model.get("sigma_x")) and model.get("sigma_x") > 0,
             f"config.model.sigma_x={model.get('sigma_x')!r}: the decoder's standard deviation must be > 0"),
            (number(loss.get("kl_weight")) and loss.get("kl_weight") >= 0,
             f"config.loss.kl_weight={loss.get('kl_weight')!r} must be >= 0 (1: the ELBO)"),
            (number(loss.get("lambda_dist")) and loss.get("lambda_dist") >= 0,
             f"config.loss.lambda_dist={loss.get('lambda_dist')!r} must be >= 0"),
            (loss.adversarial in losses.ADVERSARIAL_LOSSES,
             f"config.loss.adversarial={loss.adversarial!r} is not one of {losses.ADVERSARIAL_LOSSES}"),
            (model.noise == "normal",
             f"config.model.noise={model.noise!r}: the prior of the VAE is N(0, I); set it to 'normal'"),
            (not loss.get("diffaugment"),
             f"config.loss.diffaugment={loss.get('diffaugment')!r}: the critic sees latents, not images; "
             "set it to ''"),
            *((not loss.get(key, 0.0),
               f"config.loss.{key}={loss.get(key)!r}: method 'latent_constraints' has no {what}; set it to 0 "
               "(and use a loss other than 'wasserstein', which needs one of them)")
              for key, what in (("gradient_penalty", "gradient penalty on its latent critic"),
                                ("r1", "R1 penalty on its latent critic"),
                                ("weight_clip", "weight clipping (its critic side also trains the attribute "
                                                "classifier D_attr, which clipping would cripple)"))),
            (integer(sample.get("transform_steps", 1)) and sample.get("transform_steps", 1) >= 1,
             f"config.sample.transform_steps={sample.get('transform_steps')!r} must be a positive integer"),
            (number(sample.get("transform_step_size", 1.0)) and sample.get("transform_step_size", 1.0) > 0,
             f"config.sample.transform_step_size={sample.get('transform_step_size')!r} must be > 0"),
            (number(sample.get("transform_lambda_dist", 0.0)) and sample.get("transform_lambda_dist", 0.0) >= 0,
             f"config.sample.transform_lambda_dist={sample.get('transform_lambda_dist')!r} must be >= 0"),
            (number(sample.get("transform_realism_weight", 0.0)) and sample.get("transform_realism_weight", 0.0) >= 0,
             f"config.sample.transform_realism_weight={sample.get('transform_realism_weight')!r} must be >= 0"),
            (model.generator.get("name") == "vae_actor",
             f"config.model.generator.name={model.generator.get('name')!r}: method 'latent_constraints' needs "
             "model.generator.name='vae_actor' (encoder, decoder and actor)"),
            (model.discriminator.get("name") == "latent_critic",
             f"config.model.discriminator.name={model.discriminator.get('name')!r}: method 'latent_constraints' "
             "needs model.discriminator.name='latent_critic' (critics of latents, not images)"),
        ]
        problems = [message for ok, message in checks if not ok]
        if problems:
            raise ConfigError("invalid config for method 'latent_constraints':\n  " + "\n  ".join(problems))
        generator = networks.build_from_config(model.generator, num_classes=data.num_classes,
                                               latent_dim=model.latent_dim, image_shape=data.image_shape)
        defaults = {f.name: f.default for f in dataclasses.fields(cls) if f.name.startswith("transform_")}
        return cls(
            model=generator,
            critic=networks.build_from_config(model.discriminator, num_classes=data.num_classes),
            num_classes=data.num_classes,
            latent_dim=model.latent_dim,
            vae_steps=vae_steps,
            sigma_x=float(model.sigma_x),
            kl_weight=float(loss.kl_weight),
            lambda_dist=float(loss.lambda_dist),
            adversarial_loss=loss.adversarial,
            **{k: type(v)(sample.get(k, v)) for k, v in defaults.items()},
        )

    # --- Optimizers: exact phases -------------------------------------------------------------------

    def in_vae_phase(self, count: jax.Array) -> jax.Array:
        return count < self.vae_steps

    def wrap_optimizers(self, g_tx: optax.GradientTransformation, d_tx: optax.GradientTransformation
                        ) -> Tuple[optax.GradientTransformation, optax.GradientTransformation]:
        """The VAE's parameters train in phase 1 only, the actor's and the critic's in phase 2 only;
        outside its phase a group gets zero updates and its optimizer state (Adam moments, schedule
        position) is left untouched."""
        in_actor_phase = lambda count: jnp.logical_not(self.in_vae_phase(count))  # noqa: E731
        g_tx = optax.multi_transform(
            {"vae": optax.transforms.conditionally_mask(g_tx, self.in_vae_phase),
             ACTOR: optax.transforms.conditionally_mask(g_tx, in_actor_phase)},
            param_labels=lambda params: {k: jax.tree.map(lambda _: ACTOR if k == ACTOR else "vae", v)
                                         for k, v in params.items()})
        return g_tx, optax.transforms.conditionally_mask(d_tx, in_actor_phase)

    # --- Networks -----------------------------------------------------------------------------------

    def sample_noise(self, rng: jax.Array, n: int) -> jax.Array:
        """z ~ p(z) = N(0, I), the VAE's prior."""
        return jax.random.normal(rng, (n, self.latent_dim))

    def generate(self, variables: Variables, z: jax.Array, labels: jax.Array) -> jax.Array:
        """decode(G(z, c)): the decoder's mean for the actor's output."""
        return self.model.apply(variables, z, labels)

    def init(self, rng: jax.Array, batch: Batch) -> Tuple[Variables, Variables, Dict[str, Any]]:
        g_rng, d_rng, z_rng = jax.random.split(rng, 3)
        labels = batch["label"]
        z = self.sample_noise(z_rng, labels.shape[0])
        g_vars = self.model.init(g_rng, batch["image"], z, labels, method=VAEActor.init_all)
        d_vars = self.critic.init(d_rng, z, labels, method=LatentCritics.init_all)
        return dict(g_vars), dict(d_vars), {}

    def encode(self, variables: Variables, images: jax.Array) -> Tuple[jax.Array, jax.Array]:
        return self.model.apply(variables, images, method=VAEActor.encode)

    def decode(self, variables: Variables, z: jax.Array) -> jax.Array:
        return self.model.apply(variables, z, method=VAEActor.decode)

    def move(self, variables: Variables, z: jax.Array, labels: jax.Array) -> Tuple[jax.Array, jax.Array]:
        return self.model.apply(variables, z, labels, method=VAEActor.move)

    # --- Losses -------------------------------------------------------------------------------------

    def negative_elbo(self, variables: Variables, images: jax.Array, rng: jax.Array
                      ) -> Tuple[jax.Array, Dict[str, jax.Array]]:
        """-ELBO with the KL term weighed by kl_weight; metrics: the unweighted -ELBO and both terms."""
        mean, log_variance = self.encode(variables, images)
        z = mean + jnp.exp(0.5 * log_variance) * jax.random.normal(rng, mean.shape)
        reconstruction = losses.gaussian_nll(x=images, mean=self.decode(variables, z), sigma=self.sigma_x)
        kl = losses.kl_standard_normal(mean=mean, log_variance=log_variance)
        return reconstruction + self.kl_weight * kl, {"neg_elbo": reconstruction + kl,
                                                      "reconstruction": reconstruction, "kl": kl}

    def sigma_z_bar(self, variables: Variables, images: jax.Array) -> jax.Array:
        """The encoder's standard deviation averaged over ``images`` and latent dimensions (no gradient)."""
        _, log_variance = self.encode(variables, images)
        return jax.lax.stop_gradient(jnp.mean(jnp.exp(0.5 * log_variance)))

    def actor_loss(self, variables: Variables, critic_variables: Variables, batch: Batch, rng: jax.Array
                   ) -> Tuple[jax.Array, Dict[str, jax.Array]]:
        """adv_G(D(G(z, c), c)) + lambda_dist * L_dist(G(z, c), z), z ~ N(0, I), c the batch's labels."""
        labels = batch["label"]
        z = self.sample_noise(rng, labels.shape[0])
        z_new, gate = self.move(variables, z, labels)
        logits = self.critic.apply(critic_variables, z_new, labels)
        adversarial = losses.generator_loss(self.adversarial_loss, fake_logits=logits)
        distance = jnp.mean(distance_penalty(z_new, z, self.sigma_z_bar(variables, batch["image"])))
        return adversarial + self.lambda_dist * distance, {
            "adversarial": adversarial, "distance": distance, "gate": gate.mean(), "fake_logit": logits.mean()}

    def critic_loss(self, critic_variables: Variables, variables: Variables, batch: Batch, rng: jax.Array
                    ) -> Tuple[jax.Array, Dict[str, jax.Array]]:
        """Posterior latents of the batch's images with their labels are real; prior samples and the
        actor's outputs (held fixed) with the same labels are fake; plus D_attr's cross-entropy on the
        posterior latents."""
        labels, n = batch["label"], batch["label"].shape[0]
        eps_rng, prior_rng, actor_rng = jax.random.split(rng, 3)
        mean, log_variance = self.encode(variables, batch["image"])
        z_real = jax.lax.stop_gradient(mean + jnp.exp(0.5 * log_variance) * jax.random.normal(eps_rng, mean.shape))
        z_prior = self.sample_noise(prior_rng, n)
        z_actor = jax.lax.stop_gradient(self.move(variables, self.sample_noise(actor_rng, n), labels)[0])
        real, prior, actor = (self.critic.apply(critic_variables, z, labels) for z in (z_real, z_prior, z_actor))
        class_logits = self.critic.apply(critic_variables, z_real, method=LatentCritics.classify)
        attribute = losses.classification_loss(logits=class_logits, labels=labels)
        loss = (losses.discriminator_real_loss(self.adversarial_loss, logits=real)
                + losses.discriminator_fake_loss(self.adversarial_loss, logits=prior)
                + losses.discriminator_fake_loss(self.adversarial_loss, logits=actor)
                + attribute)
        return loss, {"real_logit": real.mean(), "prior_logit": prior.mean(), "actor_logit": actor.mean(),
                      "attribute_loss": attribute,
                      "attribute_accuracy": class_accuracy(class_logits, labels)}

    def generator_loss(self, params, state, batch: Batch, rng: jax.Array):
        """-ELBO while the generator side's update counter is below vae_steps, the actor's loss after."""
        variables = state.generator.variables(params)
        zeros = lambda names: {k: jnp.zeros((), jnp.float32) for k in names}  # noqa: E731

        def vae_phase(_):
            loss, metrics = self.negative_elbo(variables, batch["image"], rng)
            return loss, {**zeros(PHASE_METRICS_G), **metrics, "phase": jnp.zeros((), jnp.float32)}

        def actor_phase(_):
            loss, metrics = self.actor_loss(variables, state.discriminator.variables(), batch, rng)
            return loss, {**zeros(PHASE_METRICS_G), **metrics, "phase": jnp.ones((), jnp.float32)}

        in_vae = self.in_vae_phase(phase_counter(state.generator.opt_state))
        loss, metrics = jax.lax.cond(in_vae, vae_phase, actor_phase, None)
        return loss, (metrics, {})

    def discriminator_loss(self, params, state, batch: Batch, rng: jax.Array):
        """0 (the critic is idle) while the critic's update counter is below vae_steps, then the critic's loss."""
        zeros = {k: jnp.zeros((), jnp.float32) for k in PHASE_METRICS_D}

        def idle(_):  # No gradient; the optimizer's mask keeps the critic's parameters and state as they are.
            return jnp.zeros((), jnp.float32), zeros

        def critic_phase(_):
            return self.critic_loss(state.discriminator.variables(params), state.generator.variables(),
                                    batch, rng)

        in_vae = self.in_vae_phase(phase_counter(state.discriminator.opt_state))
        loss, metrics = jax.lax.cond(in_vae, idle, critic_phase, None)
        return loss, (metrics, {})

    # --- Identity-preserving transformation ---------------------------------------------------------

    def critic_log_probs(self, critic_variables: Variables, z: jax.Array) -> jax.Array:
        """log sigmoid(D(z, k)) for every class k: [B, num_classes]."""
        def one_class(k):
            return self.critic.apply(critic_variables, z, jnp.full((z.shape[0],), k, jnp.int32))
        logits = jax.vmap(one_class, out_axes=-1)(jnp.arange(self.num_classes))
        return jax.nn.log_sigmoid(logits)

    def attribute_log_probs(self, critic_variables: Variables, z: jax.Array) -> jax.Array:
        """log softmax(D_attr(z)): [B, num_classes]."""
        return jax.nn.log_softmax(self.critic.apply(critic_variables, z, method=LatentCritics.classify))

    def transform(self, variables: Variables, critic_variables: Variables, images: jax.Array,
                  target_labels: jax.Array, *, steps: Optional[int] = None, step_size: Optional[float] = None,
                  lambda_dist: Optional[float] = None, realism_weight: Optional[float] = None,
                  weights: Optional[jax.Array] = None) -> Tuple[jax.Array, jax.Array]:
        """Identity-preserving transformation of ``images`` towards ``target_labels`` (pure, jit-able with
        ``steps`` static): ``steps`` steps of gradient ascent z <- z + step_size * grad J(z) from the
        posterior mean z0, with J of the module docstring; ``weights`` [B, K] or [K] replaces the one-hot
        target weights. Returns (decoded images, final latents). Defaults: config.sample.transform_*."""
        steps = self.transform_steps if steps is None else steps
        step_size = self.transform_step_size if step_size is None else step_size
        lambda_dist = self.transform_lambda_dist if lambda_dist is None else lambda_dist
        realism_weight = self.transform_realism_weight if realism_weight is None else realism_weight
        if weights is None:
            weights = jax.nn.one_hot(target_labels, self.num_classes)
        weights = jnp.broadcast_to(jnp.asarray(weights, jnp.float32), (images.shape[0], self.num_classes))
        z0, log_variance = self.encode(variables, images)
        sigma_z_bar = jnp.mean(jnp.exp(0.5 * log_variance))

        def objective(z):  # Sum of independent per-example objectives: its gradient is per example.
            log_probs = (self.attribute_log_probs(critic_variables, z)
                         + realism_weight * self.critic_log_probs(critic_variables, z))
            value = jnp.sum(weights * log_probs, axis=-1)
            return jnp.sum(value - lambda_dist * distance_penalty(z, z0, sigma_z_bar))

        z = jax.lax.fori_loop(0, steps, lambda _, z: z + step_size * jax.grad(objective)(z), z0)
        return self.decode(variables, z), z
