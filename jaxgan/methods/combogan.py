"""ComboGAN (Anoosheh et al. 2018): unpaired translation among N domains with one encoder E_i, one decoder
G_i and one discriminator D_i per domain; any G_j(E_i(x)) translates domain i to domain j, so N domains
need N encoder-decoder pairs, not the N(N-1) generators of pairwise CycleGANs (sec. 3).

Each step draws two distinct domains (a, b) (the authors' data loader samples two domains per
iteration) and trains only their networks with CycleGAN's objective (sec. 3-4), with x_a, x_b the
step's images of the two domains:

    fake_b = G_b(E_a(x_a)),  rec_a = G_a(E_b(fake_b));   fake_a = G_a(E_b(x_b)),  rec_b = G_b(E_a(fake_a))
    loss_G = w [g(D_b(fake_b)) + g(D_a(fake_a))] + lambda_cycle (||rec_a - x_a||_1 + ||rec_b - x_b||_1)
    loss_D = w/2 [f_real(D_b(x_b)) + f_fake(D_b(pool_b(fake_b)))] + w/2 [f_real(D_a(x_a)) + f_fake(D_a(pool_a(fake_a)))]

least squares (the code's ``GANLoss`` with MSE; w = ``config.loss.adversarial_weight`` = 2 against
jaxgan's halved least-squares terms, as the CycleGAN configs), lambda_cycle = 10 (``config.loss.
lambda_cycle``; the code's ``--lambda_cycle 10``), an image history pool of 50 per domain
(``config.model.pool_size``; ``jaxgan.methods.image_pool``) in ``state.method_state`` as
``pool_<i>``. G updates first, then D on the same images through the pools (the code's
``optimize_parameters``). The code's optional identity, latent and forward terms (all 0 by default) are
left out; its cycle loss is SmoothL1 where the paper's (CycleGAN's) is L1: we follow the paper.

The pair is a pure function of the run's key and the step (``domain_pair``), so resume and 1 vs 8 devices
are exact. The networks live in the generator side's params as ``encoder_<i>`` and ``decoder_<i>``, the
discriminators as ``discriminator_<i>``; a step picks the pair's parameters with ``lax.select_n`` (no
``lax.cond`` around convolutions, which XLA:CPU runs far slower), so the other domains' networks take no
part in the losses and their gradients are exactly zero. ``wrap_optimizers`` gives each network its own
optimizer state (the code's one Adam per domain: Adam's step count, hence its bias correction, counts that
network's own updates) and leaves a network whose gradient is zero everywhere untouched: no update, its
optimizer state kept bit for bit (a ``lax.cond`` per network around the optimizer's arithmetic only). A learning-rate schedule runs on the global step for all networks
(the code's ``update_hyperparams`` sets every optimizer's rate by epoch).

Batches hold ``image_a``, ``image_b``, ... from ``domains:SPEC_1|SPEC_2|...`` (one per domain; all of one
shape), e.g. 4 built-in digit domains; every step reads all of them and uses the pair's.
``translate(variables, x, rng, *, source=i, target=j)`` = G_j(E_i(x)).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, NamedTuple, Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgan import losses, networks, optim
from jaxgan.data.domains import LETTERS
from jaxgan.errors import ConfigError
from jaxgan.methods import image_pool
from jaxgan.methods.base import Batch, DataInfo, Variables, loss_weight, require_both_sides_every_step

PAIR_STREAM = 0x436F6D62  # Folded into the step's key for the pair draw: a stream of its own.


def domain_pair(rng: jax.Array, step: jax.Array, num_domains: int) -> Tuple[jax.Array, jax.Array]:
    """(a, b), two distinct domains drawn uniformly for step ``step``: a ~ U{0..N-1}, b = (a + 1 + k) mod N with
    k ~ U{0..N-2}, from fold_in(fold_in(rng, step), PAIR_STREAM)."""
    key_a, key_k = jax.random.split(jax.random.fold_in(jax.random.fold_in(rng, step), PAIR_STREAM))
    a = jax.random.randint(key_a, (), 0, num_domains)
    return a, (a + 1 + jax.random.randint(key_k, (), 0, num_domains - 1)) % num_domains


def pick(tree: Dict[str, Any], prefix: str, index: jax.Array, count: int) -> Any:
    """The subtree ``{prefix}_{index}`` of ``tree`` for a traced ``index`` (``lax.select_n`` leaf by leaf)."""
    return jax.tree.map(lambda *leaves: jax.lax.select_n(index, *leaves),
                        *[tree[f"{prefix}_{i}"] for i in range(count)])


class PerNetworkState(NamedTuple):
    count: jax.Array  # Updates of the side so far (the schedules' position).
    networks: Dict[str, Any]  # Each network's own optimizer state.


def per_network(tx: optax.GradientTransformation) -> optax.GradientTransformation:
    """``tx`` run separately on each top-level entry (network) of the params; a network whose gradient is
    zero everywhere gets a zero update and keeps its state; schedules run on the side's update count."""

    def init(params):
        return PerNetworkState(jnp.zeros((), jnp.int32), {k: tx.init(v) for k, v in params.items()})

    def update(grads, state, params=None):
        updates, states = {}, {}
        for name, grad in grads.items():
            old, network_params = state.networks[name], None if params is None else params[name]
            active = jnp.any(jnp.stack([jnp.any(g != 0) for g in jax.tree.leaves(grad)]))
            updates[name], states[name] = jax.lax.cond(
                active, lambda g, s, p: tx.update(g, optim.at_schedule_position(s, state.count), p),
                lambda g, s, p: (jax.tree.map(jnp.zeros_like, g), s), grad, old, network_params)
        return updates, PerNetworkState(state.count + 1, states)

    return optax.GradientTransformation(init, update)



def _write_back(is_a: jax.Array, is_b: jax.Array, pool_a: Any, pool_b: Any, old: Any) -> Any:
    """A domain's pool after the step: pool a's new value if it is domain a, pool b's if b, else ``old``."""
    return jax.tree.map(lambda new_a, new_b, o: jnp.where(is_a, new_a, jnp.where(is_b, new_b, o)), pool_a, pool_b, old)


@dataclasses.dataclass(frozen=True)
class ComboGAN:
    encoder: nn.Module
    decoder: nn.Module
    discriminator: nn.Module
    num_domains: int
    adversarial_loss: str = "least_squares"
    adversarial_weight: float = 2.0
    lambda_cycle: float = 10.0
    pool_size: int = 50
    update_order: str = "generator_first"

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, data: DataInfo) -> "ComboGAN":
        keys = [f"image_{l}" for l in LETTERS if f"image_{l}" in data.batch]
        if len(keys) < 2:
            raise ConfigError(f"method 'combogan' needs 2+ unpaired domains (image_a, image_b, ...: e.g. domains:"
                              f"builtin:mnist/plain|builtin:mnist/negative|builtin:mnist/edges); the data gives "
                              f"{sorted(data.batch)}")
        shapes = {data.shape(k) for k in keys}
        if len(shapes) > 1:
            raise ConfigError(f"method 'combogan': the domains' images differ in shape {sorted(shapes)}; any decoder "
                              "follows any encoder, so they need one shape (pair coloured with plain_rgb)")
        if config.loss.adversarial not in losses.ADVERSARIAL_LOSSES:
            raise ConfigError(f"config.loss.adversarial={config.loss.adversarial!r} is not one of "
                              f"{losses.ADVERSARIAL_LOSSES}")
        pool_size = config.model.get("pool_size", 50)
        if not isinstance(pool_size, int) or isinstance(pool_size, bool) or pool_size < 0:
            raise ConfigError(f"config.model.pool_size={pool_size!r} must be an integer >= 0 (ComboGAN: 50; 0 = none)")
        require_both_sides_every_step(config, "updates both sides of the step's two domains on every step")
        return cls(
            encoder=networks.build_from_config(config.model.encoder),
            decoder=networks.build_from_config(config.model.decoder, output_channels=shapes.pop()[-1]),
            discriminator=networks.build_from_config(config.model.discriminator),
            num_domains=len(keys),
            adversarial_loss=config.loss.adversarial,
            adversarial_weight=loss_weight(config, "adversarial_weight", "2 with least_squares for the code's MSE"),
            lambda_cycle=loss_weight(config, "lambda_cycle", "Anoosheh et al. 2018: 10"),
            pool_size=pool_size,
        )

    @property
    def image_keys(self) -> Tuple[str, ...]:
        return tuple(f"image_{LETTERS[i]}" for i in range(self.num_domains))

    def wrap_optimizers(self, g_tx: optax.GradientTransformation, d_tx: optax.GradientTransformation
                        ) -> Tuple[optax.GradientTransformation, optax.GradientTransformation]:
        """One optimizer state per network; only the step's pair updates (module docstring)."""
        return per_network(g_tx), per_network(d_tx)

    # --- Networks ----------------------------------------------------------------------------------

    def init(self, rng: jax.Array, batch: Batch) -> Tuple[Variables, Variables, Dict[str, Any]]:
        x = batch[self.image_keys[0]]
        keys = jax.random.split(rng, 3 * self.num_domains + 1)
        z = jax.eval_shape(lambda k: self.encoder.init_with_output(k, x, train=False)[0], keys[0])
        # One compiled initialiser per kind of network, run once per domain with its own key.
        inits = [jax.jit(lambda k, net=net, arg=arg: net.init(k, arg, train=False))
                 for net, arg in ((self.encoder, x), (self.decoder, jnp.zeros(z.shape, z.dtype)), (self.discriminator, x))]
        g_params, d_params = {}, {}
        for i in range(self.num_domains):
            encoder, decoder, discriminator = (init(keys[3 * i + n]) for n, init in enumerate(inits))
            if any(set(v) != {"params"} for v in (encoder, decoder, discriminator)):
                raise ConfigError("method 'combogan': its networks must keep no running statistics (each step "
                                  "runs two domains' networks of N); use norm 'instance' (ComboGAN's) or 'none'")
            g_params.update({f"encoder_{i}": encoder["params"], f"decoder_{i}": decoder["params"]})
            d_params[f"discriminator_{i}"] = discriminator["params"]
        pool_keys = jax.random.split(keys[-1], self.num_domains)
        method_state = {} if self.pool_size == 0 else {
            f"pool_{i}": image_pool.init(self.pool_size, x.shape[1:], pool_keys[i]) for i in range(self.num_domains)}
        return {"params": g_params}, {"params": d_params}, method_state

    def _translate(self, params, x: jax.Array, source, target, train: bool, rng: jax.Array) -> jax.Array:
        """G_target(E_source(x)); ``source`` / ``target`` Python ints or traced indices."""
        def network(prefix, i):
            return params[f"{prefix}_{i}"] if isinstance(i, int) else pick(params, prefix, i, self.num_domains)

        rngs = {} if rng is None else {"dropout": rng}  # For encoders or decoders with dropout.
        z = self.encoder.apply({"params": network("encoder", source)}, x, train=train, rngs=rngs)
        return self.decoder.apply({"params": network("decoder", target)}, z, train=train, rngs=rngs)

    def translate(self, variables: Variables, x: jax.Array, rng: jax.Array, *, source: int = 0,
                  target: int = 1) -> jax.Array:
        """G_target(E_source(x)) at test time for x from domain ``source`` (0 = image_a, 1 = image_b, ...)."""
        for name, value in (("source", source), ("target", target)):
            if not isinstance(value, int) or not 0 <= value < self.num_domains:
                raise ConfigError(f"{name}={value!r} is not a domain of this run: 0 .. {self.num_domains - 1} "
                                  f"({', '.join(self.image_keys)})")
        return self._translate(variables["params"], x, source, target, False, rng)

    @property
    def panel_column_names(self) -> Tuple[str, ...]:
        n = self.num_domains
        return tuple(name for i in range(n) for name in (LETTERS[i],) + tuple(f"{LETTERS[i]}->{LETTERS[j]}"
                                                                              for j in range(n) if j != i))

    def panel_columns(self, variables: Variables, batch: Batch) -> Sequence[jax.Array]:
        """For each domain i: x_i | G_j(E_i(x_i)) for every other domain j."""
        rng, columns = jax.random.PRNGKey(0), []
        for i, key in enumerate(self.image_keys):
            columns.append(batch[key])
            columns += [self.translate(variables, batch[key], rng, source=i, target=j)
                        for j in range(self.num_domains) if j != i]
        return columns

    # --- Losses ------------------------------------------------------------------------------------

    def pair(self, state) -> Tuple[jax.Array, jax.Array]:
        return domain_pair(state.rng, state.step, self.num_domains)

    def _real(self, batch: Batch, i: jax.Array) -> jax.Array:
        return jax.lax.select_n(i, *[batch[k] for k in self.image_keys])

    def generator_forward(self, params, state, batch: Batch, rng: jax.Array):
        """fake_b, rec_a, fake_a, rec_b for the step's pair (a, b), training mode: the step's one forward."""
        a, b = self.pair(state)
        x_a, x_b = self._real(batch, a), self._real(batch, b)
        keys = jax.random.split(rng, 4)
        fake_b = self._translate(params, x_a, a, b, True, keys[0])
        fake_a = self._translate(params, x_b, b, a, True, keys[1])
        return {"fake_b": fake_b, "rec_a": self._translate(params, fake_b, b, a, True, keys[2]),
                "fake_a": fake_a, "rec_b": self._translate(params, fake_a, a, b, True, keys[3])}, {}

    def _judge(self, params, i: jax.Array, x: jax.Array) -> jax.Array:
        return self.discriminator.apply({"params": pick(params, "discriminator", i, self.num_domains)}, x, train=True)

    def discriminator_loss(self, params, state, batch: Batch, generated: Dict[str, jax.Array], rng: jax.Array):
        """w/2 [f_real(D_b(x_b)) + f_fake(D_b(pool_b(fake_b)))] + w/2 [the same for domain a]; the pools after
        their queries are the new method state."""
        del rng  # PatchGAN Ds without dropout.
        a, b = self.pair(state)
        fake_a, fake_b, method_state = generated["fake_a"], generated["fake_b"], state.method_state
        if self.pool_size:
            pool_a, pool_b = (pick(method_state, "pool", i, self.num_domains) for i in (a, b))
            fake_a, pool_a = image_pool.query(pool_a, fake_a)
            fake_b, pool_b = image_pool.query(pool_b, fake_b)
            method_state = {**method_state, **{f"pool_{i}": _write_back(i == a, i == b, pool_a, pool_b,
                                                                        method_state[f"pool_{i}"])
                                                for i in range(self.num_domains)}}
        terms = {}
        for name, i, real, fake in (("d_a", a, self._real(batch, a), fake_a), ("d_b", b, self._real(batch, b), fake_b)):
            real_logits, fake_logits = self._judge(params, i, real), self._judge(params, i, fake)
            terms[name] = 0.5 * losses.discriminator_loss(self.adversarial_loss, real_logits=real_logits,
                                                          fake_logits=fake_logits)
            terms[f"{name}_real_logit"], terms[f"{name}_fake_logit"] = real_logits.mean(), fake_logits.mean()
        metrics = {**terms, "domain_a": a.astype(jnp.float32), "domain_b": b.astype(jnp.float32)}
        return self.adversarial_weight * (terms["d_a"] + terms["d_b"]), (metrics, {}, method_state)

    def generator_loss(self, generated: Dict[str, jax.Array], state, batch: Batch, rng: jax.Array):
        """w [g(D_b(fake_b)) + g(D_a(fake_a))] + lambda_cycle (||rec_a - x_a||_1 + ||rec_b - x_b||_1), D as at
        the start of the step."""
        del rng
        a, b = self.pair(state)
        params = state.discriminator.params
        fake_b_logits, fake_a_logits = self._judge(params, b, generated["fake_b"]), self._judge(params, a, generated["fake_a"])
        g_b = losses.generator_loss(self.adversarial_loss, fake_logits=fake_b_logits)
        g_a = losses.generator_loss(self.adversarial_loss, fake_logits=fake_a_logits)
        cycle_a = self.lambda_cycle * losses.l1_loss(prediction=generated["rec_a"], target=self._real(batch, a))
        cycle_b = self.lambda_cycle * losses.l1_loss(prediction=generated["rec_b"], target=self._real(batch, b))
        loss = self.adversarial_weight * (g_a + g_b) + cycle_a + cycle_b
        metrics = {"g_a": g_a, "g_b": g_b, "cycle_a": cycle_a, "cycle_b": cycle_b,
                   "d_b_fake_logit": fake_b_logits.mean(), "d_a_fake_logit": fake_a_logits.mean()}
        return loss, (metrics, {})

