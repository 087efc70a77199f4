"""One process of a simulated multi-host run, started by tests/test_multihost.py.

    python tests/multihost_worker.py CONFIG_JSON WORKDIR OUT_JSON

Joins the others as ``jaxgan.main --distributed`` does (from JAX_COORDINATOR_ADDRESS,
JAX_NUM_PROCESSES and JAX_PROCESS_ID; each process sees the CPU devices XLA_FLAGS gives
it), trains the config with ``Trainer.run``, reporting errors and preemption as the
command does, and writes to OUT_JSON the dataset indices this process read, so the test
can check that each reads only its share.
"""

import json
import sys

import jax
import ml_collections

from jaxgan import errors, main, train


class RecordingSource:
    """A data source that records the indices of every read."""

    def __init__(self, source):
        self.source, self.reads = source, []

    def __getattr__(self, name):
        return getattr(self.source, name)

    def __len__(self):
        return len(self.source)

    def get(self, indices):
        self.reads.append(sorted(int(i) for i in indices))
        return self.source.get(indices)


def run(config_json, workdir, out_json):
    main.initialize_distributed()
    sources = []
    build_source = train.build_source
    train.build_source = lambda *args, **kwargs: (
        sources.append(RecordingSource(build_source(*args, **kwargs))) or sources[-1])
    with open(config_json) as f:
        config = ml_collections.ConfigDict(json.load(f))
    with errors.reported():
        train.Trainer(config, workdir).run()
    with open(out_json, "w") as f:
        json.dump(dict(process_index=jax.process_index(), process_count=jax.process_count(),
                       local_devices=jax.local_device_count(), devices=jax.device_count(),
                       reads=sources[0].reads), f)


if __name__ == "__main__":
    run(*sys.argv[1:])
