"""The compressed-computation task: inputs, labels and loss, batched over K instances.

- ``ReluMixingTask`` (paper 000): sparse inputs at a per-instance feature probability
  ``p`` (or, per instance, exactly ``k`` active features), labels
  ``y = ReLU(x) + scale * M x``, plain MSE averaged over batch and features.
  ``scale`` may be learned jointly with the weights, as in the paper's appendix B.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..engine.batching import per_instance
from ..engine.sampling import (
    PackedEntries,
    bernoulli_dense,
    bernoulli_entries,
    exactly_k_entries,
    exactly_k_uniform,
)


class ReluMixingTask(nn.Module):
    """Labels ``ReLU(x) + scale_k M_k x`` for sparse inputs with probability ``p_k``.

    ``mixing: (K, n, n)``; ``p`` and ``scale`` are one value per instance (or one for all).
    ``learn_scale`` (one flag, or one per instance) makes ``scale`` a trained parameter;
    entries of instances that do not learn it get no gradient and stay fixed.
    ``active`` (one value, or one per instance): ``None`` draws Bernoulli-``p`` inputs;
    an int ``k`` draws exactly ``k`` active features per sample (values U[-1, 1]), and that
    instance's ``p`` is then only a label.
    """

    def __init__(
        self,
        mixing: torch.Tensor,
        p: float | Sequence[float],
        scale: float | Sequence[float] = 1.0,
        learn_scale: bool | Sequence[bool] = False,
        active: int | None | Sequence[int | None] = None,
    ):
        super().__init__()
        instances = mixing.shape[0]
        self.register_buffer("mixing", mixing)
        self.p_values = per_instance(p, instances, "p")
        for value in self.p_values:
            if not 0.0 < value <= 1.0:
                raise ValueError(f"p must be in (0, 1], got {value}")
        if active is None or isinstance(active, int):
            self.active_values = [active] * instances
        else:
            self.active_values = [None if a is None else int(a) for a in active]
            if len(self.active_values) != instances:
                raise ValueError(
                    f"active needs one value per instance ({instances}), "
                    f"got {len(self.active_values)}"
                )
        for value in self.active_values:
            if value is not None and not 0 <= value <= mixing.shape[-1]:
                raise ValueError(f"active must be in [0, n={mixing.shape[-1]}], got {value}")
        scale_tensor = torch.tensor(per_instance(scale, instances, "scale"), dtype=mixing.dtype)
        if isinstance(learn_scale, bool):
            learned = [learn_scale] * instances
        else:
            learned = [bool(v) for v in learn_scale]
            if len(learned) != instances:
                raise ValueError(
                    f"learn_scale needs one value per instance ({instances}), got {len(learned)}"
                )
        # Instances whose scale is not learned get no gradient (and the scale gets no weight
        # decay), so AdamW leaves their entry exactly unchanged.
        self.learn_values = learned
        self.register_buffer("learned", torch.tensor(learned), persistent=False)
        if any(learned):
            self.scale = nn.Parameter(scale_tensor)
        else:
            self.register_buffer("scale", scale_tensor)

    @property
    def n_features(self) -> int:
        return self.mixing.shape[-1]

    def expected_active(self) -> list[float]:
        """Mean number of active features per sample, per instance."""
        return [
            self.n_features * p if a is None else float(a)
            for p, a in zip(self.p_values, self.active_values, strict=True)
        ]

    def _bernoulli(self) -> tuple[list[int], list[int]]:
        """Instances with Bernoulli-``p`` inputs and with exactly-``k`` inputs."""
        bernoulli = [k for k, a in enumerate(self.active_values) if a is None]
        return bernoulli, [k for k, a in enumerate(self.active_values) if a is not None]

    def sample(self, generators: Sequence[torch.Generator], batch: int) -> torch.Tensor:
        """``(K, batch, n)`` training inputs, instance ``k`` from ``generators[k]``."""
        n, (bernoulli, exact) = self.n_features, self._bernoulli()
        if not exact:
            return bernoulli_dense(batch, n, self.p_values, generators).to(self.mixing.device)
        x = torch.stack(
            [exactly_k_uniform(batch, n, self.active_values[k], generators[k]) for k in exact]
        )
        if bernoulli:
            ps = [self.p_values[k] for k in bernoulli]
            drawn = bernoulli_dense(batch, n, ps, [generators[k] for k in bernoulli])
            x = torch.cat([drawn, x])[torch.argsort(torch.tensor(bernoulli + exact))]
        return x.to(self.mixing.device)

    def sample_entries(self, generators: Sequence[torch.Generator], batch: int) -> PackedEntries:
        """The batches of :meth:`sample` (same generator draws) in sparse form."""
        n, (bernoulli, exact) = self.n_features, self._bernoulli()
        parts = []
        if bernoulli:
            ps = [self.p_values[k] for k in bernoulli]
            parts.append(bernoulli_entries(batch, n, ps, [generators[k] for k in bernoulli]))
        for k in exact:
            drawn = exactly_k_entries(batch, n, self.active_values[k], generators[k])
            parts.append(PackedEntries.single(drawn))
        return parts[0] if len(parts) == 1 else PackedEntries.join(parts, bernoulli + exact)

    def sparse_step_applies(
        self, model: nn.Module, device: torch.device, any_sparsity: bool = False
    ) -> bool:
        """Whether training takes the sparse step (``cclib.engine.training.SparseStepTask``)."""
        from .sparse_training import sparse_step_applies

        return sparse_step_applies(model, self, device, any_sparsity)

    def sparse_step(self, model: nn.Module, batch: int):
        """The hand-written training step of ``cclib.compressed.sparse_training``."""
        from .models import ResidualCC
        from .sparse_training import ResidualSparseStep, SparseStep

        if isinstance(model, ResidualCC):
            return ResidualSparseStep(model, self, batch)
        return SparseStep(model, self, batch)

    def labels(self, x: torch.Tensor) -> torch.Tensor:
        """``ReLU(x) + scale * M x`` for ``x: (K, B, n)``."""
        mixed = torch.bmm(x, self.mixing.transpose(1, 2))
        scale = self.scale
        if isinstance(scale, nn.Parameter) and not all(self.learn_values):
            scale = torch.where(self.learned, scale, scale.detach())
        return torch.relu(x) + scale[:, None, None] * mixed

    def sample_losses(self, prediction: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``(K, B)`` squared error of each sample, averaged over features."""
        return (prediction - self.labels(x)).square().mean(dim=2)

    def loss(self, prediction: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Per-instance MSE ``(K,)``, averaged over batch and features."""
        return self.sample_losses(prediction, x).mean(dim=1)
