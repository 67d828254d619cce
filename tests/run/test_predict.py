"""Stored test predictions: logits kept at the model's output stride, upsampled on read exactly as the model
upsamples its own."""
import os

import jax
import numpy as np

from transel_jax.config import load_config
from transel_jax.models import build, random_variables
from transel_jax.run import datasets
from transel_jax.data import pipeline
from transel_jax.run import predict

CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_config.py")


def test_stored_stride_logits_upsample_to_the_models_own_predictions():
    config = load_config(CONFIG)
    name = "syn_underwater_murky"
    info = datasets.info(config, name)
    model = build("resnet_tiny", info.num_classes)
    variables = random_variables(model, (1, *info.resolution, 3), seed=3)
    source = datasets.split(config, name, "test", 5)
    logits, labels = predict.test_logits(model, variables, source, info, batch_size=4)
    h, w = info.resolution
    assert labels.shape == (5, h, w) and logits.dtype == np.float16
    assert logits.shape[0] == 5 and logits.shape[1] < h and logits.shape[2] < w  # stored at the stride
    batch = next(iter(pipeline.eval_batches(source, info, batch_size=8)))
    images = jax.numpy.asarray(batch["image"][batch["mask"]])
    full = np.asarray(model.apply(variables, images, train=False))
    low = np.asarray(model.apply(variables, images, train=False, upsample=False))
    np.testing.assert_allclose(np.asarray(predict.upsample(low, (h, w))), full, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(logits.astype(np.float32), low, rtol=1e-3, atol=1e-3)  # float16 rounding only
    # float16 storage: the stored stride logits round the float32 ones, and their upsampled argmax is the
    # model's almost everywhere (ties broken by the rounding aside)
    agree = np.mean(predict.predictions(logits, (h, w), images_per_chunk=2) == np.argmax(full, -1))
    assert agree > 0.99
