"""Lead-time and due-date figures of the finished lots, gathered one chunk of lots at a time.

The KPIs over finished lots (``mean_lead_time_h``, per product too, and the due-date block) are
means, maxima and counts. They are gathered here chunk by chunk
(:meth:`~twin.production.flow.Flow.completion_chunks`), so the lots need never be in memory at
once. A mean is the exact sum of its values, rounded once, divided by their count
(:class:`ExactSum`): the same figure whatever the chunks and whatever the order of the lots, so a
run split into parts, or spilled to disk, gives the same ``kpis.json`` as one held in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

_SCALE = 1130  # 2**-1130 is below the smallest float's last bit (2**-1074 / 2**53)


class ExactSum:
    """The exact sum of float64 values added in any grouping and order.

    Each value is split into its 53-bit integer mantissa and its exponent (``numpy.frexp``); the
    mantissas are summed per exponent in two 26/27-bit halves, exactly in float64 (a chunk of
    fewer than 2**25 values cannot carry past 2**53), and the partial sums are gathered in one
    Python integer in units of 2**-1130. :meth:`value` and :meth:`mean` round once (Python's
    integer division is correctly rounded), as ``math.fsum`` does for a list held in memory."""

    __slots__ = ("n", "total")

    def __init__(self) -> None:
        self.total = 0  # the sum in units of 2**-_SCALE
        self.n = 0

    def add(self, x: np.ndarray) -> None:
        """Add finite values ``x`` (fewer than 2**25 at a time)."""
        x = np.asarray(x, dtype=np.float64).ravel()
        if not x.size:
            return
        if x.size >= 1 << 25:
            for k in range(0, x.size, 1 << 24):
                self.add(x[k : k + (1 << 24)])
            return
        m, e = np.frexp(x)
        mant = (m * 2.0**53).astype(np.int64)  # exact: |mant| < 2**53
        e = e.astype(np.int64) - 53 + _SCALE  # value = mant * 2**(e - _SCALE), e >= 0
        lo = mant & ((1 << 26) - 1)  # 0 <= lo < 2**26, also for negative mantissas
        hi = mant >> 26  # floor division: mant = hi * 2**26 + lo
        e0 = int(e.min())
        k = e - e0
        s_hi = np.bincount(k, weights=hi.astype(np.float64))
        s_lo = np.bincount(k, weights=lo.astype(np.float64))
        part = 0
        for j in np.flatnonzero((s_hi != 0) | (s_lo != 0)).tolist():
            part += ((int(s_hi[j]) << 26) + int(s_lo[j])) << j
        self.total += part << e0
        self.n += x.size

    def value(self) -> float:
        """The sum, correctly rounded."""
        return float(Fraction(self.total, 1 << _SCALE))

    def mean(self) -> float:
        """The mean of the values added, correctly rounded (NaN when none)."""
        if not self.n:
            return float("nan")
        return float(Fraction(self.total, self.n << _SCALE))


@dataclass
class _Tardiness:
    sum: ExactSum = field(default_factory=ExactSum)
    late: int = 0
    open_late: int = 0
    max: float = -np.inf

    def add(self, t: np.ndarray, is_open: bool = False) -> None:
        if not t.size:
            return
        self.sum.add(t)
        late = int((t > 0).sum())
        self.late += late
        if is_open:
            self.open_late += int(t.size)
        self.max = max(self.max, float(t.max()))


class LotStats:
    """Lead times, tardiness and the last completion of the finished lots, by chunk.

    ``n_products`` product indices; feed each chunk of :meth:`Flow.completion_chunks` to
    :meth:`add`, then the lots still in the plant past their due date to :meth:`add_open_late`.
    """

    def __init__(self, n_products: int):
        self.lead = [ExactSum() for _ in range(n_products)]
        """Lead time [h] of each product's finished lots (completed - released)."""
        self.lead_all = ExactSum()
        self.tardy = [_Tardiness() for _ in range(n_products)]
        """Tardiness [h] of each product's lots with a due date (finished, then open past due)."""
        self.last_completed_s: float | None = None
        """When the last lot finished [s] (None: none)."""

    def add(self, c: dict[str, np.ndarray]) -> None:
        """Add one chunk of finished lots (columns as :meth:`Flow.completions`)."""
        if not c["completed_s"].size:
            return
        lead = (c["completed_s"] - c["released_s"]) / 3600.0
        codes = c["product"]
        self.lead_all.add(lead)
        due = c["due_s"]
        has_due = np.isfinite(due)
        tard = np.maximum(c["completed_s"] - due, 0.0) / 3600.0
        for k in np.unique(codes).tolist():
            sel = codes == k
            self.lead[k].add(lead[sel])
            self.tardy[k].add(tard[sel & has_due])
        last = float(c["completed_s"].max())
        self.last_completed_s = last if self.last_completed_s is None else max(
            self.last_completed_s, last)

    def add_open_late(self, product: np.ndarray, tardiness_h: np.ndarray) -> None:
        """Add the lots still in the plant whose due date has passed: product index and
        tardiness so far [h]."""
        for k in np.unique(product).tolist():
            self.tardy[k].add(tardiness_h[product == k], is_open=True)
