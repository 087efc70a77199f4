"""Sample panels, chosen by the method, fixed across steps so that panels from different steps
(or checkpoints) are comparable:

* label-conditional methods: one row per class, the same noise in each column;
* image-to-image methods (those with ``panel_columns(variables, batch)`` returning one image array per
  name of their ``panel_column_names``): one row per held-out example, with the method's columns
  (e.g. input | output | target), the same examples at every step.
"""

from __future__ import annotations

from typing import Callable, Dict, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan import images
from jaxgan.data.pipeline import Pipeline
from jaxgan.data.sources import build_source
from jaxgan.data.transforms import ResizeAndCrop
from jaxgan.errors import DataSourceError

GridFn = Callable[[dict], jax.Array]


class Panel(NamedTuple):
    """``images(variables)`` -> the panel's images, row by row, ``columns`` per row."""

    images: GridFn
    columns: int


def class_grid_fn(method, labels: Sequence[int], per_class: int, seed: int) -> GridFn:
    """A jitted ``variables -> images [len(labels) * per_class, H, W, C]`` with fixed noise."""
    z = method.sample_noise(jax.random.PRNGKey(seed), per_class)
    z = jnp.tile(z, (len(labels), 1))
    y = jnp.repeat(jnp.asarray(labels, jnp.int32), per_class)
    return jax.jit(lambda variables: method.generate(variables, z, y))


def write_grid(path: str, samples: jax.Array, per_class: int) -> np.ndarray:
    """Writes samples in [-1, 1] as a PNG grid with ``per_class`` columns; returns the grid."""
    grid = images.make_grid(images.to_uint8(np.asarray(jax.device_get(samples))), ncol=per_class)
    images.write_png(path, grid)
    return grid


def compose_columns(columns: Sequence[jax.Array]) -> jax.Array:
    """Columns of images [N, h_j, w_j, c_j] -> [N * len(columns), H, W, C], row by row: each column
    upsampled (nearest, by an integer factor) to the largest height and grey ones repeated to colour
    when any is, so a 7x7 input sits beside its 28x28 output."""
    height = max(c.shape[1] for c in columns)
    channels = max(c.shape[-1] for c in columns)
    resized = []
    for column in columns:
        factor = height // column.shape[1]
        column = jnp.repeat(jnp.repeat(column, factor, axis=1), factor, axis=2)
        resized.append(jnp.broadcast_to(column, column.shape[:-1] + (channels,)) if column.shape[-1] == 1
                       else column)
    return jnp.stack(resized, axis=1).reshape((-1,) + resized[0].shape[1:])


def held_out_examples(config, n: int) -> Dict[str, np.ndarray]:
    """``n`` fixed examples of the config's data for panels: from its 'test' split when the source has
    one, else the first examples of its training order (said once on stdout)."""
    options = dict(on_corrupt=config.data.on_corrupt, direction=config.data.direction)
    try:
        source = build_source(config.data.source, "test", **options)
    except DataSourceError:
        source = build_source(config.data.source, config.data.split, **options)
        if jax.process_index() == 0:
            print(f"{config.data.source} has no 'test' split: the sample panels show training examples")
    return Pipeline(source, global_batch_size=min(n, len(source)), seed=config.seed,
                    transform=ResizeAndCrop.from_config(config.data).for_evaluation()).local_batch(0)


def training_panel(method, data, config) -> Panel:
    """The panel the training loop writes every ``train.sample_every`` steps, chosen by the method."""
    if hasattr(method, "panel_columns"):
        batch = {k: jnp.asarray(v) for k, v in held_out_examples(config, config.sample.examples).items()}
        fn = jax.jit(lambda variables: compose_columns(method.panel_columns(variables, batch)))
        return Panel(fn, len(method.panel_column_names))
    return Panel(class_grid_fn(method, range(data.num_classes), config.sample.per_class, config.seed + 1),
                 config.sample.per_class)
