"""Keras 3 (any backend) reports every batch and epoch of `fit` to lossgap."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
from lossgap_client.keras import LossgapCallback

rng = np.random.default_rng(0)
x = rng.normal(size=(1200, 20)).astype("float32")
y = (x[:, :5].sum(1) + rng.normal(size=1200) > 0).astype("int64")
model = keras.Sequential(
    [
        keras.Input((20,)),
        keras.layers.Dense(64, "relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(2),
    ]
)
loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
model.fit(
    x[:1000],
    y[:1000],
    validation_data=(x[1000:], y[1000:]),
    batch_size=50,
    epochs=20,
    verbose=0,
    callbacks=[LossgapCallback("keras-example", task="classification")],  # prints the diagnosis
)
