"""FID and KID (jaxgan.metrics.fid): the Inception network's layers against their definitions computed by
hand from PyTorch-layout weights, the preprocessing against PyTorch's sampling, KID by hand, the weight
file's checks. (Its features against pytorch-fid's own: benchmarks/check_fid_inception.py.)"""

import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.errors import ConfigError, DataSourceError
from jaxgan.metrics import fid


def random_state_dict(seed: int = 0):
    """A state dict of the FID Inception network in PyTorch's layout (OIHW kernels, BN weight / bias /
    running_mean / running_var), random, with the classifier head the real file also holds."""
    rng = np.random.default_rng(seed)
    state = {"fc.weight": np.zeros((1008, 2048), np.float32), "fc.bias": np.zeros(1008, np.float32)}
    for key, shape in fid.variable_shapes().items():
        name = fid._torch_name(key)
        if key[-1] == "kernel":
            h, w, i, o = shape
            state[name] = rng.normal(0, (2 / (h * w * i)) ** 0.5, (o, i, h, w)).astype(np.float32)
        elif key[-1] in ("scale", "var"):  # Near 1, so that activations keep their scale through 47 layers.
            state[name] = rng.uniform(0.8, 1.25, shape).astype(np.float32)
        else:
            state[name] = rng.normal(0, 0.1, shape).astype(np.float32)
        if name.endswith(".bn.running_mean"):
            state[name.replace("running_mean", "num_batches_tracked")] = np.array(3)
    return state


@pytest.fixture(scope="module")
def state():
    return random_state_dict()


def _by_hand(x, state, prefix, stride, padding):
    """relu((conv(x, W) - mean) / sqrt(var + 1e-3) * gamma + beta), the convolution as a sum over taps of
    the OIHW kernel W."""
    w = state[f"{prefix}.conv.weight"]
    o, i, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (padding[0],) * 2, (padding[1],) * 2, (0, 0)))
    oh, ow = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    y = np.zeros((x.shape[0], oh, ow, o))
    for a in range(kh):
        for b in range(kw):
            patch = x[:, a:a + stride * (oh - 1) + 1:stride, b:b + stride * (ow - 1) + 1:stride, :]
            y += patch @ w[:, :, a, b].T
    bn = {k: state[f"{prefix}.bn.{k}"] for k in ("weight", "bias", "running_mean", "running_var")}
    y = (y - bn["running_mean"]) / np.sqrt(bn["running_var"] + 1e-3) * bn["weight"] + bn["bias"]
    return np.maximum(y, 0)


@pytest.mark.parametrize("path, spec", [
    (("Conv2d_1a_3x3",), fid.STEM[0]),  # 3x3 stride 2.
    (("Mixed_6b", "branch7x7_2"), dict(fid.MIXED)["Mixed_6b"][1][1]),  # 1x7 with (0, 3) padding.
    (("Mixed_7b", "branch3x3_2b"), dict(fid.MIXED)["Mixed_7b"][1][1][1]),  # 3x1 with (1, 0) padding.
])
def test_a_layer_computes_conv_bn_relu_of_the_pytorch_weights(state, path, spec):
    variables = fid.variables_from_state_dict(state)
    layer = {c: variables[c] for c in ("params", "batch_stats")}
    for part in path:
        layer = {c: layer[c][part] for c in layer}
    channels = state[f"{'.'.join(path)}.conv.weight"].shape[1]
    x = np.random.default_rng(1).normal(size=(2, 9, 11, channels)).astype(np.float32)
    y = fid.BasicConv(spec).apply(layer, x)
    np.testing.assert_allclose(y, _by_hand(x, state, ".".join(path), spec.stride, spec.padding), rtol=1e-4, atol=1e-4)


def test_pools_as_tensorflows():
    x = -np.arange(1, 17, dtype=np.float32).reshape(1, 4, 4, 1)  # All negative: a zero pad would win a max.
    avg = np.asarray(fid._pool("avg", x))
    assert avg[0, 0, 0, 0] == pytest.approx(-(1 + 2 + 5 + 6) / 4)  # Padded zeros not counted.
    assert avg[0, 1, 1, 0] == pytest.approx(-(1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11) / 9)
    assert np.asarray(fid._pool("max", x))[0, 0, 0, 0] == -1.0 and fid._pool("max", x).shape == (1, 4, 4, 1)
    s2 = np.asarray(fid._pool("max_s2", -x))
    assert s2.shape == (1, 1, 1, 1) and s2[0, 0, 0, 0] == 11.0  # 3x3 stride 2, unpadded: rows and columns 0-2.


def test_resize_samples_as_pytorch_bilinear_without_antialiasing():
    x = jnp.array([0.0, 1.0, 4.0, 9.0])[None, :, None, None] * jnp.ones((1, 1, 4, 1))
    # Down 4 -> 2: source positions (j + 0.5) * 2 - 0.5 = 0.5, 2.5: the means of neighbours (an antialiased
    # filter would mix in the outer pixels too).
    down = np.asarray(fid.resize_bilinear(x, 2))
    np.testing.assert_allclose(down[0, :, 0, 0], [0.5, 6.5])
    # Up 2 -> 4: positions -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
    up = np.asarray(fid.resize_bilinear(jnp.array([2.0, 6.0])[None, :, None, None] * jnp.ones((1, 1, 2, 1)), 4))
    np.testing.assert_allclose(up[0, :, 0, 0], [2.0, 3.0, 5.0, 6.0])


def test_network_input_quantises_repeats_grey_and_resizes():
    x = np.full((1, 5, 5, 1), 0.3, np.float32)  # (0.3 + 1) * 127.5 = 165.75 -> level 166.
    y = np.asarray(fid.network_input(jnp.asarray(x)))
    assert y.shape == (1, fid.INPUT_SIZE, fid.INPUT_SIZE, 3)
    np.testing.assert_allclose(y, 166 / 255 * 2 - 1, rtol=1e-6)
    with pytest.raises(ConfigError, match="grey or RGB images; these have 2 channels"):
        fid.network_input(jnp.zeros((1, 5, 5, 2)))


def test_kid_by_hand():
    # d = 1: k(x, y) = (x y + 1)^3. Within A = {0, 1}: k(0, 1) = 1; within B = {1, 2}: k(1, 2) = 27; across:
    # k(0, 1) = k(0, 2) = 1, k(1, 1) = 8, k(1, 2) = 27, mean 37 / 4. KID = 1 + 27 - 2 * 9.25 = 9.5.
    kid = fid.kernel_inception_distance(np.array([[0.0], [1.0]]), np.array([[1.0], [2.0]]), num_subsets=3)
    assert kid["mean"] == pytest.approx(9.5) and kid["std"] == pytest.approx(0.0) and kid["subset_size"] == 2
    same = np.random.default_rng(0).normal(size=(400, 4))
    other = same + 1.0
    assert abs(fid.kernel_inception_distance(same[:200], same[200:], subset_size=100)["mean"]) < 0.05
    assert fid.kernel_inception_distance(same[:200], other[200:], subset_size=100)["mean"] > 0.5
    with pytest.raises(ValueError, match="KID needs two feature sets"):
        fid.kernel_inception_distance(np.zeros((1, 4)), np.zeros((5, 4)))


def test_the_weight_file_round_trip_and_features_in_batches(state, tmp_path):
    path = tmp_path / "fid_inception.npz"
    np.savez(path, **state)
    variables = fid.load_fid_inception(str(path))
    np.testing.assert_array_equal(variables["params"]["Mixed_5b"]["branch5x5_2"]["conv"]["kernel"],
                                  state["Mixed_5b.branch5x5_2.conv.weight"].transpose(2, 3, 1, 0))
    np.testing.assert_array_equal(variables["batch_stats"]["Mixed_7c"]["branch_pool"]["bn"]["var"],
                                  state["Mixed_7c.branch_pool.bn.running_var"])
    images = np.random.default_rng(2).uniform(-1, 1, (3, 16, 16, 1)).astype(np.float32)
    features = fid.features_fn(variables, batch_size=2)(images)  # Batches of 2, the last one padded.
    assert features.shape == (3, fid.FEATURES) and np.all(np.isfinite(features)) and features.std() > 0
    one = np.asarray(fid.FIDInception().apply(variables, fid.network_input(jnp.asarray(images[2:]))))
    np.testing.assert_allclose(features[2:], one, rtol=1e-4, atol=1e-4)


def test_weight_file_errors_name_the_array_and_the_fix(state, tmp_path):
    with pytest.raises(ConfigError, match="no such file.*pytorch-fid"):
        fid.load_fid_inception(str(tmp_path / "missing.npz"))
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ConfigError, match="not a readable .npz"):
        fid.load_fid_inception(str(tmp_path / "bad.npz"))
    missing = dict(state)
    del missing["Mixed_6c.branch7x7dbl_3.bn.running_mean"]
    with pytest.raises(ConfigError, match="no array 'Mixed_6c.branch7x7dbl_3.bn.running_mean'"):
        fid.variables_from_state_dict(missing)
    wrong = dict(state, **{"Conv2d_1a_3x3.conv.weight": np.zeros((32, 3, 5, 5), np.float32)})
    with pytest.raises(ConfigError, match=r"'Conv2d_1a_3x3.conv.weight' has shape \(32, 3, 5, 5\).*\(32, 3, 3, 3\)"):
        fid.variables_from_state_dict(wrong)


def test_format_rows():
    text = fid.format_rows({"translated": {"fid": 12.345, "kid": 0.0123, "kid_std": 0.001}, "real": {"fid": 1.5},
                            "no fid": {"psnr": 20.0}})
    lines = text.splitlines()
    assert len(lines) == 3 and "12.35" in lines[1] and "0.01230 +/- 0.00100" in lines[1]
    assert lines[2].split() == ["real", "1.50", "-"]


def test_fid_of_two_folders_reads_each_image_as_8_bit_rgb(state, tmp_path):
    """``python -m jaxgan.metrics.fid A B``: every image of each folder (two sizes in A; grey in B, read as RGB)
    through the network, FID and KID as computed from the same pixels directly; clear errors for a missing
    folder and one without images."""
    from jaxgan import images

    rng = np.random.default_rng(3)
    a = [rng.integers(0, 256, (16, 16, 3), np.uint8) for _ in range(3)] + [rng.integers(0, 256, (12, 20, 3), np.uint8)]
    b = [rng.integers(0, 256, (16, 16, 1), np.uint8) for _ in range(3)]
    for name, pictures in (("a", a), ("b", b)):
        (tmp_path / name).mkdir()
        for i, picture in enumerate(pictures):
            images.write_png(str(tmp_path / name / f"{i}.png"), picture)
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    weights = tmp_path / "fid_inception.npz"
    np.savez(weights, **state)
    result = fid.compare_folders(str(tmp_path / "a"), str(tmp_path / "b"), str(weights), batch_size=2)
    features = fid.features_fn(fid.load_fid_inception(str(weights)), batch_size=2)
    unit = lambda x: np.stack(x).astype(np.float32) / 127.5 - 1  # noqa: E731
    expected_a = np.concatenate([features(unit(a[:3])), features(unit(a[3:]))])
    expected = fid.fid_and_kid(expected_a, features(np.repeat(unit(b), 3, axis=-1)))
    assert (result["images_a"], result["images_b"]) == (4, 3)
    for key in ("fid", "kid"):
        assert result[key] == pytest.approx(expected[key], rel=1e-4)
    with pytest.raises(DataSourceError, match="no such folder"):
        fid.compare_folders(str(tmp_path / "a"), str(tmp_path / "missing"), str(weights))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataSourceError, match="no image files"):
        fid.folder_features(str(tmp_path / "empty"), features)
