"""Per-environment average precision of an exported model on raw records."""

import numpy as np
import pytest
import tensorflow as tf
from sklearn import metrics as sk_metrics

from envsound.core import features
from envsound.components import model_scoring
from tests.components.conftest import CLASS_NAMES, make_clips, serialize, write_records


def test_scores_every_labelled_clip_with_the_serving_signature(trained_cnn1d, transformed,
                                                               tmp_path):
  clips = transformed['clips']['eval']
  path = tmp_path / 'eval.tfrecord'
  write_records(path, clips)
  with tf.io.TFRecordWriter(str(tmp_path / 'unlabelled.tfrecord')) as w:
    w.write(serialize(make_clips(1, seed=9)[0][0]))  # no environment: left out
  labels, probs = model_scoring.predict_split(trained_cnn1d.serving_model_dir,
                                              str(tmp_path / '*.tfrecord'))
  np.testing.assert_array_equal(labels, [env for _, env in clips])
  assert probs.shape == (len(clips), len(CLASS_NAMES))
  serve = tf.saved_model.load(trained_cnn1d.serving_model_dir).signatures[
      features.SERVING_SIGNATURE]
  first = serve(**{features.SERIALIZED_INPUT: tf.constant([serialize(*clips[0])])})
  np.testing.assert_allclose(probs[0], first[features.PROBABILITIES].numpy()[0], rtol=1e-5)
  ap = model_scoring.environment_average_precision(trained_cnn1d.serving_model_dir, str(path),
                                                   CLASS_NAMES)
  assert list(ap) == list(CLASS_NAMES)
  for c, name in enumerate(CLASS_NAMES):
    assert ap[name] == pytest.approx(sk_metrics.average_precision_score(labels == c,
                                                                        probs[:, c]))
  assert min(ap.values()) > 0.8  # the fixture's classes are easy


def test_missing_or_unlabelled_records_raise(trained_cnn1d, tmp_path):
  with pytest.raises(FileNotFoundError, match='no records match'):
    model_scoring.predict_split(trained_cnn1d.serving_model_dir, str(tmp_path / '*.none'))
  with tf.io.TFRecordWriter(str(tmp_path / 'u.tfrecord')) as w:
    w.write(serialize(make_clips(1)[0][0]))
  with pytest.raises(ValueError, match="no record has an 'environment'"):
    model_scoring.predict_split(trained_cnn1d.serving_model_dir, str(tmp_path / 'u.tfrecord'))
