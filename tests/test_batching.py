"""jaxgan.metrics.batching.map_in_batches: fixed batch shapes, padding dropped, tuples of outputs."""

import numpy as np

from jaxgan.metrics.batching import map_in_batches


def test_every_call_gets_the_batch_size_and_the_padding_is_dropped():
    images = np.arange(5 * 2 * 2 * 1, dtype=np.float32).reshape(5, 2, 2, 1)
    shapes = []

    def fn(batch):
        shapes.append(batch.shape)
        return batch.sum(axis=(1, 2, 3)), batch[:, 0, 0, 0] * 2

    sums, doubled = map_in_batches(fn, images, 2)
    assert shapes == [(2, 2, 2, 1)] * 3  # The fifth image's batch is padded with a zero image.
    np.testing.assert_array_equal(sums, images.sum(axis=(1, 2, 3)))
    np.testing.assert_array_equal(doubled, images[:, 0, 0, 0] * 2)
    shapes.clear()
    map_in_batches(fn, images[:3], 8)  # Fewer images than a batch: one batch of all of them.
    assert shapes == [(3, 2, 2, 1)]
