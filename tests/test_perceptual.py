"""jaxgan.perceptual: VGG19 weights from a torchvision-named .npz (layout, missing and mis-shaped arrays),
the feature extractor on hand-made weights, the config switch, the distances by hand, the MNIST phi."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from jaxgan import perceptual
from jaxgan.errors import ConfigError

# relu2_1 needs conv1_1 (features.0), conv1_2 (features.2) and conv2_1 (features.5): a tiny file.
SHAPES = {"features.0.weight": (64, 3, 3, 3), "features.0.bias": (64,), "features.2.weight": (64, 64, 3, 3),
          "features.2.bias": (64,), "features.5.weight": (128, 64, 3, 3), "features.5.bias": (128,)}


def _write(path, **overrides):
    rng = np.random.default_rng(0)
    arrays = {k: rng.normal(size=s).astype(np.float32) for k, s in SHAPES.items()}
    arrays["classifier.0.weight"] = np.zeros((2, 2), np.float32)  # Other arrays are ignored.
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return arrays


def test_load_converts_torch_layout_and_checks_arrays(tmp_path):
    path = tmp_path / "vgg19.npz"
    arrays = _write(path)
    params = perceptual.load_vgg19(str(path), "relu2_1")["params"]
    assert sorted(params) == ["conv1_1", "conv1_2", "conv2_1"]
    kernel = params["conv2_1"]["kernel"]
    assert kernel.shape == (3, 3, 64, 128)  # HWIO.
    np.testing.assert_array_equal(kernel[0, 2, 5, 7], arrays["features.5.weight"][7, 5, 0, 2])  # [o, i, h, w].
    np.testing.assert_array_equal(params["conv1_1"]["bias"], arrays["features.0.bias"])
    _write(path, **{"features.5.weight": None})
    with pytest.raises(ConfigError, match=r"'features.5.weight'.*\(128, 64, 3, 3\)"):
        perceptual.load_vgg19(str(path), "relu2_1")
    _write(path, **{"features.2.bias": np.zeros((63,), np.float32)})
    with pytest.raises(ConfigError, match=r"'features.2.bias'.*\(63,\).*\(64,\)"):
        perceptual.load_vgg19(str(path), "relu2_1")
    with pytest.raises(ConfigError, match="no such file"):
        perceptual.load_vgg19(str(tmp_path / "missing.npz"))


def test_features_on_hand_made_weights(tmp_path):
    """conv1_1 with one tap: output channel 0 = input channel 0 (R) at (y - 1, x + 1), channel 1 = 2 x
    channel 2 (B) at (y, x), + bias; relu1_1 = ReLU of that on the ImageNet-normalised input."""
    w = np.zeros((64, 3, 3, 3), np.float32)
    w[0, 0, 0, 2] = 1.0  # Tap (dy, dx) = (0, 2): input pixel (y - 1, x + 1).
    w[1, 2, 1, 1] = 2.0
    bias = np.zeros(64, np.float32)
    bias[1] = 0.5
    path = tmp_path / "vgg19.npz"
    _write(path, **{"features.0.weight": w, "features.0.bias": bias})
    variables = perceptual.load_vgg19(str(path), "relu2_1")
    x = jnp.asarray(np.random.default_rng(1).uniform(-1, 1, (2, 6, 6, 3)), jnp.float32)
    relu11, relu21 = perceptual.vgg19_features(variables, x, ("relu1_1", "relu2_1"))
    normalised = ((np.asarray(x) + 1) / 2 - np.array(perceptual.IMAGENET_MEAN)) / np.array(perceptual.IMAGENET_STD)
    expected0 = np.zeros((2, 6, 6))
    expected0[:, 1:, :-1] = np.maximum(normalised[:, :-1, 1:, 0], 0)
    np.testing.assert_allclose(relu11[..., 0], expected0, atol=1e-5)
    np.testing.assert_allclose(relu11[..., 1], np.maximum(2 * normalised[..., 2] + 0.5, 0), atol=1e-5)
    np.testing.assert_allclose(relu11[..., 2:], 0.0)
    assert relu21.shape == (2, 3, 3, 128)  # Pooled once.
    grey = perceptual.vgg19_features(variables, x[..., :1], ("relu1_1",))[0]  # Grey -> 3 equal channels.
    np.testing.assert_allclose(grey, perceptual.vgg19_features(variables, jnp.repeat(x[..., :1], 3, -1),
                                                                ("relu1_1",))[0], atol=1e-6)


def test_layer_shapes_up_to_relu5_4():
    module = perceptual.VGG19Features("relu5_4")
    shapes = jax.eval_shape(lambda x: module.init_with_output(jax.random.PRNGKey(0), x)[0],
                            jax.ShapeDtypeStruct((1, 96, 96, 3), jnp.float32))
    assert shapes["relu5_4"].shape == (1, 6, 6, 512)  # 96 / 2^4: phi_5,4 comes before the 5th pooling.
    assert [shapes[k].shape[1:] for k in perceptual.PIX2PIXHD_LAYERS] == [
        (96, 96, 64), (48, 48, 128), (24, 24, 256), (12, 12, 512), (6, 6, 512)]
    assert len(perceptual.LAYERS) == 16
    with pytest.raises(ConfigError, match="unknown VGG19 layer 'relu6_1'"):
        perceptual.deepest(["relu6_1"])


def test_config_without_weights(tmp_path):
    loss = ml_collections.ConfigDict(dict(vgg_weight=10.0, vgg_weights=""))
    with pytest.raises(ConfigError, match=r"loss.vgg_weights=/path/to/vgg19.npz.*loss.vgg_weight=0.*torchvision"):
        perceptual.vgg19_from_config(loss, perceptual.PIX2PIXHD_LAYERS)
    loss.vgg_weight = 0.0
    assert perceptual.vgg19_from_config(loss, perceptual.PIX2PIXHD_LAYERS) is None
    with pytest.raises(ConfigError, match=r"loss.vgg_weights.*loss.content='mse'"):
        perceptual.content_network(ml_collections.ConfigDict(dict(content="vgg", vgg_weights="")), (96, 96, 3))
    with pytest.raises(ConfigError, match="not one of"):
        perceptual.content_network(ml_collections.ConfigDict(dict(content="lpips")), (96, 96, 3))


def test_distances_by_hand():
    """feature_mse = sum_i mean((s (a_i - b_i))^2); weighted_feature_l1 = sum_i w_i mean|a_i - b_i|."""
    a = (jnp.array([[1.0, 2.0]]), jnp.array([[3.0]]))
    b = (jnp.array([[0.0, 0.0]]), jnp.array([[1.0]]))
    np.testing.assert_allclose(perceptual.feature_mse(prediction=a, target=b, rescale=0.5),
                               (0.25 * 1 + 0.25 * 4) / 2 + 0.25 * 4, rtol=1e-6)
    np.testing.assert_allclose(perceptual.weighted_feature_l1(prediction=a, target=b, weights=(0.5, 2.0)),
                               0.5 * 1.5 + 2.0 * 2.0, rtol=1e-6)
    assert perceptual.SRGAN_RESCALE ** 2 == pytest.approx(0.00615, abs=1e-5)  # The paper's "~0.006".
    assert perceptual.PIX2PIXHD_WEIGHTS == (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)


def test_mnist_classifier_phi():
    net = perceptual.content_network(ml_collections.ConfigDict(dict(content="mnist_classifier")), (28, 28, 1))
    x = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (2, 28, 28, 1)), jnp.float32)
    (features,) = net.features(net.variables, x)
    assert features.shape == (2, 128) and net.rescale == 1.0
    from jaxgan.metrics.classifier import load_classifier
    np.testing.assert_allclose(features, load_classifier()(x)[1], rtol=1e-5, atol=1e-5)
    with pytest.raises(ConfigError, match="28x28x1"):
        perceptual.content_network(ml_collections.ConfigDict(dict(content="mnist_classifier")), (32, 32, 3))
