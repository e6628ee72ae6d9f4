"""The science of paper 000: compressed computation is (probably) not computation in
superposition. Imports only ``cclib.engine``.

``mixing``, ``models``, ``tasks``, ``sparse_training`` (the fast CPU step of the CC
model), ``evaluation``, ``baselines``, ``experiments`` (the cached sweeps the chapters ask
for), ``equivalence``, ``analysis``, ``snmf``, ``mechanism``, ``regimes``.
"""
