"""Feature keys, shapes and signature names shared by every part of envsound.

The AudioSet release layout (cf. VGGish's ``vggish_params.py``): each clip is a
``tf.train.SequenceExample`` with context features ``video_id``, ``start_time_seconds``,
``end_time_seconds`` and ``labels`` and a feature list ``audio_embedding`` holding one
128-byte string per second of audio (8-bit quantised, PCA-whitened VGGish output).
Client, server, GUI and pipeline import these names; nobody retypes them.
"""

import sys

import numpy as np

# Raw (ingestion) features, as Google ships them.
VIDEO_ID_KEY = 'video_id'
START_TIME_KEY = 'start_time_seconds'
END_TIME_KEY = 'end_time_seconds'
LABELS_KEY = 'labels'
AUDIO_EMBEDDING_KEY = 'audio_embedding'

EMBEDDING_DIM = 128
NUM_FRAMES = 10  # AudioSet clips are 10 s; shorter ones are padded, longer ones cut.
CLIP_SECONDS = 10.0

# VGGish post-processing clips to [-2, 2] and maps that range linearly onto 0..255.
QUANTIZE_MIN = -2.0
QUANTIZE_MAX = 2.0
QUANTIZE_SCALE = (QUANTIZE_MAX - QUANTIZE_MIN) / 255.0
_QUANTIZE_STEPS = 255.0 / (QUANTIZE_MAX - QUANTIZE_MIN)  # 63.75, exact in float32

# Added at ingestion from the taxonomy in schemas/ (index into the environment list).
ENVIRONMENT_KEY = 'environment'

# Release layout.
SPLITS = ('bal_train', 'unbal_train', 'eval')
CLASS_CSV = 'class_labels_indices.csv'

# Model signatures and their tensors.
SERVING_SIGNATURE = 'serving_default'       # serialized SequenceExamples -> outputs
TRANSFORM_SIGNATURE = 'transform_features'  # for TFMA preprocessing
UINT8_SIGNATURE = 'predict_embeddings'  # uint8 [batch, frames, 128] -> outputs
FLOAT_SIGNATURE = 'predict_float_embeddings'  # float32 [batch, frames, 128]
CLASSIFY_SIGNATURE = 'classify'          # serialized tf.Examples -> classes, scores
SERIALIZED_INPUT = 'examples'
EMBEDDING_INPUT = 'embedding'  # VGGish frames, uint8 or float32 [batch, frames, 128]
# TF Serving's Classify API: the method name and tensor keys it requires of a signature.
# Its tf.Examples carry ``audio_embedding`` as a bytes_list, one 128-byte value per frame.
CLASSIFY_METHOD = 'tensorflow/serving/classify'
CLASSIFY_INPUT = 'inputs'
CLASSIFY_CLASSES = 'classes'         # string [batch, num_classes]: the class names
CLASSIFY_SCORES = 'scores'           # float32 [batch, num_classes]: their probabilities

# Output keys of every prediction signature.
PROBABILITIES = 'probabilities'      # float32 [batch, num_classes]: softmax (rows sum to 1), or
                                     # per-class sigmoids for a multi-label target (core/targets.py)
TOP_CLASS = 'top_class'              # string [batch]
TOP_SCORE = 'top_score'              # float32 [batch]
CLASS_NAMES = 'class_names'          # string [batch, num_classes] (same row for each clip)
PENULTIMATE = 'penultimate'          # float32 [batch, d]: the model's penultimate layer, for maps
MAP_XY = 'map_xy'                       # float32 [batch, 2]: a clip's position on the model's map
REFERENCE_MAP_SIGNATURE = 'reference_map'
REFERENCE_INDEX_INPUT = 'index'         # int64 [batch]: rows of the reference set to return
REFERENCE_COUNT = 'count'               # int64 [batch]: size of the reference set (every row)
REFERENCE_CLIP_ID = 'clip_id'           # string [batch]: "<video_id>:<start seconds>"
REFERENCE_ENVIRONMENT = 'environment_name'  # string [batch]: true environment of the clip
LABELS_FILE = 'labels.txt'  # <SavedModel>/assets.extra/: the class names, one a line, in index order
PREDICTION_OUTPUTS = (PROBABILITIES, TOP_CLASS, TOP_SCORE, CLASS_NAMES, PENULTIMATE, MAP_XY)


def transformed_name(key: str) -> str:
  """Returns the name tf.Transform gives a feature derived from ``key``."""
  return f'{key}_xf'


def dequantize(values):
  """Maps AudioSet's uint8 bytes back to VGGish's [-2, 2] float range (numpy or tf)."""
  return values * QUANTIZE_SCALE + QUANTIZE_MIN


def quantize(values):
  """VGGish's post-processing rule (numpy or tf): clip to [-2, 2], map linearly onto
  0..255 and truncate to uint8, as ``vggish_postprocess.py`` made AudioSet's bytes."""
  tf = sys.modules.get('tensorflow')  # a tf tensor implies TensorFlow is already imported
  if tf is not None and tf.is_tensor(values):
    steps = (tf.clip_by_value(tf.cast(values, tf.float32), QUANTIZE_MIN, QUANTIZE_MAX)
             - QUANTIZE_MIN) * _QUANTIZE_STEPS
    return tf.cast(tf.clip_by_value(tf.floor(steps), 0.0, 255.0), tf.uint8)
  steps = (np.clip(np.asarray(values, np.float32), QUANTIZE_MIN, QUANTIZE_MAX)
           - QUANTIZE_MIN) * np.float32(_QUANTIZE_STEPS)
  return np.clip(np.floor(steps), 0, 255).astype(np.uint8)


def requantize(values):
  """The bytes dequantised values came from: the inverse of ``dequantize``, rounding to the
  nearest step (``quantize``'s truncation would lose a step to float32 rounding for about
  one byte in five). numpy or tf."""
  tf = sys.modules.get('tensorflow')
  if tf is not None and tf.is_tensor(values):
    steps = tf.round((tf.cast(values, tf.float32) - QUANTIZE_MIN) / QUANTIZE_SCALE)
    return tf.cast(tf.clip_by_value(steps, 0.0, 255.0), tf.uint8)
  steps = np.round((np.asarray(values, np.float64) - QUANTIZE_MIN) / QUANTIZE_SCALE)
  return np.clip(steps, 0, 255).astype(np.uint8)


# Transformed features (Transform's tf.Example output, what the Trainers read).
AUDIO_EMBEDDING_XF = transformed_name(AUDIO_EMBEDDING_KEY)  # float32 [NUM_FRAMES * EMBEDDING_DIM], normalised
MASK_XF = transformed_name('mask')              # float32 [NUM_FRAMES]: 1 for real frames, 0 for pad
LABEL_XF = transformed_name(ENVIRONMENT_KEY)    # int64 []: environment index, -1 when absent
TAGS_XF = transformed_name(LABELS_KEY)  # float32 [num AudioSet classes]: multi-hot ``labels``
CLIP_ID_XF = transformed_name('clip_id')  # string []: "<video_id>:<start seconds>"

# The VGGish SavedModel (``envsound vggish export``): 16 kHz mono float32 waveforms in [-1, 1]
# in, AudioSet-compatible embeddings out (one frame per non-overlapping 0.96 s).
VGGISH_MODEL_NAME = 'vggish'
VGGISH_SAMPLE_RATE = 16000
WAVEFORM_INPUT = 'waveform'
# serving_default: waveform float32 [batch, samples] (equal lengths) -> [batch, frames, 128];
# batches like any model under TF Serving's batching.
VGGISH_SIGNATURE = SERVING_SIGNATURE
# One waveform float32 [samples] -> [frames, 128]: dimension 0 is not a batch, so serve a
# model whose clients call it with batching off.
WAVEFORM_SIGNATURE = 'embed_waveform'
VGGISH_EMBEDDING = 'embedding'              # uint8: AudioSet's bytes, feeds UINT8_SIGNATURE
VGGISH_FLOAT_EMBEDDING = 'float_embedding'  # float32: dequantised, feeds FLOAT_SIGNATURE
