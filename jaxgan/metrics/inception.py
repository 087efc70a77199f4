"""Inception-score analogue in the MNIST classifier's label space (Salimans et al. 2016).

Salimans et al. (2016, Sec. 4) score a sample set by

    IS = exp(E_x KL(p(y|x) || p(y))),   p(y) = E_x p(y|x),

with p(y|x) the softmax of an Inception network; here it is the softmax of any classifier's
logits (the shipped MNIST classifier in ``jaxgan.evaluate``). It is high when each sample is
classified confidently (low entropy of p(y|x)) and the classes are used evenly (high entropy of
p(y)): 1 <= IS <= K for K classes, K only for confident predictions spread uniformly over the
classes. As in the paper's code, the set is cut into 10 splits, p(y) is estimated per split and
the mean and standard deviation of the per-split scores are reported.
"""

from __future__ import annotations

import functools
from typing import Dict

import jax
import jax.numpy as jnp
import numpy as np

NUM_SPLITS = 10  # Salimans et al. (2016)


@functools.partial(jax.jit, static_argnames="num_splits")
def _split_scores(logits: jax.Array, split_ids: jax.Array, num_splits: int) -> jax.Array:
    """exp(mean_{x in s} KL(p(y|x) || p_s(y))) for every split s; p_s(y) = mean_{x in s} p(y|x)."""
    log_p = jax.nn.log_softmax(logits.astype(jnp.float32), axis=1)
    counts = jax.ops.segment_sum(jnp.ones(logits.shape[0]), split_ids, num_splits)
    marginal = jax.ops.segment_sum(jnp.exp(log_p), split_ids, num_splits) / counts[:, None]
    kl = jnp.sum(jnp.exp(log_p) * (log_p - jnp.log(marginal)[split_ids]), axis=1)
    return jnp.exp(jax.ops.segment_sum(kl, split_ids, num_splits) / counts)


def inception_score(logits: np.ndarray, num_splits: int = NUM_SPLITS) -> Dict[str, float]:
    """Inception score of a sample set from classifier ``logits [N, K]``: dict(mean, std).

    The N samples, in the given order, are cut into ``num_splits`` contiguous splits whose sizes
    differ by at most one; std is the population standard deviation over splits (ddof=0), as in
    Salimans et al.'s code.
    """
    logits = np.asarray(logits, np.float32)
    if logits.ndim != 2 or len(logits) < num_splits or num_splits < 1:
        raise ValueError(f"expected logits [N >= num_splits, K] and num_splits >= 1, got {logits.shape} "
                         f"and {num_splits} splits")
    split_ids = np.arange(len(logits)) * num_splits // len(logits)
    scores = np.asarray(_split_scores(logits, split_ids, num_splits), np.float64)
    return {"mean": float(scores.mean()), "std": float(scores.std())}
