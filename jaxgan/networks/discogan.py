"""DiscoGAN's generator (Kim et al. 2017; the authors' code, SKTBrain/DiscoGAN ``Generator``): an
encoder-decoder without skip connections, which is the Fader Networks' encoder and decoder
(``jaxgan.networks.fader``) with no attributes and no biases:

    h_{i+1} = LeakyReLU_0.2(BN(conv4x4_s2(h_i)))       i = 0 .. L - 1 (no BN at i = 0)
    g_L = h_L;   g_i = ReLU(BN(convT4x4_s2(g_{i+1})))   i = L - 1 .. 1
    G(x) = tanh(convT4x4_s2(g_1))

widths c_i = min(features 2^i, max_features): 64x64x3 -> 4x4x512 with C64-C128-C256-C512 (features 64,
L = 4, the code's), then back to 64x64x3 through 256, 128 and 64 channels. The code ends in a sigmoid
on [0, 1] images; jaxgan's images are in [-1, 1] and tanh(x) = 2 sigmoid(2x) - 1, the same network up to
that rescaling. Its discriminator is ``patchgan_discriminator`` with variant 'dcgan'.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgan.errors import ConfigError
from jaxgan.networks.fader import FaderDecoder, FaderEncoder
from jaxgan.networks.unet import check_norm


class EncoderDecoderTranslator(nn.Module):
    """DiscoGAN's G (module docstring): [B, H, W, C_in] -> [B, H, W, output_channels] in [-1, 1]; H and W
    divisible by 2^layers."""

    output_channels: int  # Set by the method from the data.
    features: int = 64  # c_0 (the code: 64).
    layers: int = 4  # L (the code: 4 at 64x64, to a 4x4 code).
    max_features: int = 512
    norm: str = "batch"  # The code: batch norm.

    @nn.compact
    def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
        check_norm("encoder_decoder_translator", self.norm)
        if self.layers < 1:
            raise ConfigError(f"encoder_decoder_translator: layers={self.layers} must be >= 1 (DiscoGAN: 4)")
        widths = tuple(min(self.features * 2 ** i, self.max_features) for i in range(self.layers))
        code = FaderEncoder(widths, self.norm, use_bias=False, network="encoder_decoder_translator")(x, train=train)
        no_attributes = jnp.zeros((x.shape[0], 0), x.dtype)
        return FaderDecoder((self.output_channels,) + widths[:-1], self.norm)(code, no_attributes, train=train)
