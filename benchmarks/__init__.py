"""The repository's benchmarks: ``python -m benchmarks`` and standalone scripts.

They live beside the package, not in it, so that measuring this machine is
the checkout's business and ``pip install`` ships only what colorizes.
``python -m colorkeras.bench`` runs this package from a source checkout.
"""
