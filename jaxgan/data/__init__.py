"""Data: sources (built-in MNIST, IDX folders, TFDS) and the deterministic pipeline."""
