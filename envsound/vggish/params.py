"""VGGish's published parameters: front end, example framing, network shapes, PCA files.

Values follow Google's ``vggish_params.py`` and ``mel_features.py`` (AudioSet's VGGish).
"""

from envsound.core import features
# The framing (shared with the TF-free client side): 16 kHz; 25 ms periodic Hann windows
# every 10 ms; 96 of them (0.96 s) per example, examples not overlapping.
from envsound.core.audio import (EXAMPLE_FRAMES, EXAMPLE_SAMPLES, EXAMPLE_SPAN, SAMPLE_RATE,  # pylint: disable=unused-import
                                 STFT_HOP, STFT_WINDOW)

FFT_LENGTH = 512           # the next power of two above the window
NUM_BANDS = 64
MEL_MIN_HZ = 125.0
MEL_MAX_HZ = 7500.0
LOG_OFFSET = 0.01          # log(mel + 0.01)
EXAMPLE_SECONDS = EXAMPLE_SAMPLES / SAMPLE_RATE       # 0.96
EMBEDDING_DIM = features.EMBEDDING_DIM

# Checkpoint variables of Google's ``vggish_model.ckpt``, in network order: (scope, shape of
# ``<scope>/weights``); each also has ``<scope>/biases`` of the last dimension.
CONV_LAYERS = (
    ('vggish/conv1', (3, 3, 1, 64)),
    ('vggish/conv2', (3, 3, 64, 128)),
    ('vggish/conv3/conv3_1', (3, 3, 128, 256)),
    ('vggish/conv3/conv3_2', (3, 3, 256, 256)),
    ('vggish/conv4/conv4_1', (3, 3, 256, 512)),
    ('vggish/conv4/conv4_2', (3, 3, 512, 512)),
)
POOL_AFTER = ('vggish/conv1', 'vggish/conv2', 'vggish/conv3/conv3_2', 'vggish/conv4/conv4_2')
FLAT_DIM = 6 * 4 * 512     # 96 x 64 after four 2x2 pools
DENSE_LAYERS = (
    ('vggish/fc1/fc1_1', (FLAT_DIM, 4096)),
    ('vggish/fc1/fc1_2', (4096, 4096)),
    ('vggish/fc2', (4096, EMBEDDING_DIM)),
)


def variable_shapes():
  """``{name: shape}`` of every checkpoint variable, in network order."""
  shapes = {}
  for scope, shape in CONV_LAYERS + DENSE_LAYERS:
    shapes[f'{scope}/weights'] = shape
    shapes[f'{scope}/biases'] = shape[-1:]
  return shapes


# ``vggish_pca_params.npz``.
PCA_EIGEN_VECTORS = 'pca_eigen_vectors'   # [128, 128]: rows are the principal directions
PCA_MEANS = 'pca_means'                   # [128]
