"""Shared code of the DeepSMOTE notebook series.

Modules, by concept:

- :mod:`utils.paths`: where everything is read and written.
- :mod:`utils.artifacts`: files handed from one notebook to the next.
- :mod:`utils.images`: loading image folders, writing PNG files.
- :mod:`utils.datasets`: splits and imposed imbalance.
- :mod:`utils.model`: the encoder and decoder, and the presets.
- :mod:`utils.training`: the DeepSMOTE loss and training loop.
- :mod:`utils.oversampling`: SMOTE in the latent space, with provenance.
- :mod:`utils.sampler`: :class:`DeepSMOTE`, an imbalanced-learn sampler for images.
- :mod:`utils.plots`: figures for the notebooks.
- :mod:`utils.run`: runs the notebooks in order with papermill.

Importing the package loads nothing heavy: TensorFlow is imported only by the
modules that need it.
"""

__all__ = ["DeepSMOTE"]


def __getattr__(name: str):
    # Deferred so that ``import utils`` stays cheap: the sampler pulls in imbalanced-learn.
    if name == "DeepSMOTE":
        from .sampler import DeepSMOTE

        return DeepSMOTE
    raise AttributeError(f"module 'utils' has no attribute {name!r}")
