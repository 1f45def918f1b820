"""The names the command lines offer, in a module that imports nothing.

A command builds its parser, and so answers ``--help`` or a bad flag, before
TensorFlow is imported; the modules these names belong to import it. Each
of them takes its list from here, so the names live in one place.
"""

# What a network predicts (`colorkeras.color`).
COLOR_SPACES = ("rgb", "lab", "yuv")

# Pixel losses by name (`colorkeras.losses`).
LOSSES = ("mae", "mse", "huber")

# The architectures `colorkeras.models.build_model` ships with, in `list_models` order.
MODELS = ("cae", "dcnn", "unet", "resnet", "densenet", "pix2pix")
