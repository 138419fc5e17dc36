"""Time distributions of plant files (processing, setup, inter-arrival, failure and repair times).

Every distribution is a mapping with a ``dist`` tag and a ``unit`` (``s``, ``min`` or ``h``; default
``s``), for example ``{dist: exponential, mean: 8, unit: h}``. Parameters are in that unit; the
simulation works in seconds. Each distribution knows how to draw a batch of values from a numpy
``Generator`` (vectorised; the simulation consumes the batch one value at a time).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from twin.config.strict import MAX_DURATION_S, check_scalars

TimeUnit = Literal["s", "min", "h"]
SECONDS_PER_UNIT: dict[str, float] = {"s": 1.0, "min": 60.0, "h": 3600.0}


MAX_MEAN_S = MAX_DURATION_S
"""Largest mean time a distribution may have [s] (about 32 years, far beyond any horizon)."""
MAX_CV = 100.0
"""Largest coefficient of variation (std / mean) of a normal or log-normal time [-]."""


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    unit: TimeUnit = Field("s", description="Unit of every parameter of this distribution.")

    _scalars = model_validator(mode="before")(check_scalars)

    @model_validator(mode="after")
    def _finite_mean(self) -> _Dist:
        # Huge but finite parameters (lognormal cv 1e200, weibull shape 0.001) would overflow
        # to inf/NaN in the draws or raise OverflowError in the run: refuse them here.
        try:
            mean = self.mean_s()
        except (OverflowError, ValueError):
            mean = math.inf
        if not math.isfinite(mean) or mean > MAX_MEAN_S:
            raise ValueError(f"the mean of this distribution is {mean:.3g} s; expected at most "
                             f"{MAX_MEAN_S:g} s (about 32 years)")
        return self

    @property
    def scale_s(self) -> float:
        return SECONDS_PER_UNIT[self.unit]

    def mean_s(self) -> float:  # pragma: no cover - overridden
        """Expected value [s]."""
        raise NotImplementedError

    def draw_s(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover
        """``n`` independent draws [s], all >= 0."""
        raise NotImplementedError


class Constant(_Dist):
    """Always the same value."""

    dist: Literal["constant"]
    value: float = Field(ge=0, description="The value [unit].")

    def mean_s(self) -> float:
        return self.value * self.scale_s

    def draw_s(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.value * self.scale_s)


class Exponential(_Dist):
    """Exponential (memoryless) with the given mean."""

    dist: Literal["exponential"]
    mean: float = Field(gt=0, description="Mean [unit].")

    def mean_s(self) -> float:
        return self.mean * self.scale_s

    def draw_s(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.mean * self.scale_s, n)


class _MeanSpread(_Dist):
    mean: float = Field(gt=0, description="Mean [unit].")
    std: float | None = Field(None, ge=0, description="Standard deviation [unit].")
    cv: float | None = Field(None, ge=0, description="Coefficient of variation std/mean [-].")

    @model_validator(mode="after")
    def _one_spread(self) -> _MeanSpread:
        if (self.std is None) == (self.cv is None):
            raise ValueError("expected exactly one of 'std' or 'cv' for the spread")
        if self.std_value > MAX_CV * self.mean:
            raise ValueError(f"the spread is {self.std_value / self.mean:.3g} times the mean; "
                             f"expected a coefficient of variation <= {MAX_CV:g}")
        return self

    @property
    def std_value(self) -> float:
        return self.std if self.std is not None else self.cv * self.mean  # type: ignore[operator]

    def mean_s(self) -> float:
        return self.mean * self.scale_s


class Normal(_MeanSpread):
    """Normal, truncated at zero by redrawing negative values (fine when std << mean)."""

    dist: Literal["normal"]

    def draw_s(self, rng: np.random.Generator, n: int) -> np.ndarray:
        mu, sd = self.mean * self.scale_s, self.std_value * self.scale_s
        x = rng.normal(mu, sd, n)
        bad = x < 0
        while bad.any():
            x[bad] = rng.normal(mu, sd, int(bad.sum()))
            bad = x < 0
        return x


class LogNormal(_MeanSpread):
    """Log-normal given by the mean and spread of the variable itself (not of its logarithm).

    sigma^2 = ln(1 + cv^2), mu = ln(mean) - sigma^2 / 2  (Law, *Simulation Modeling and Analysis*,
    5th ed., 2015, sec. 6.2.2).
    """

    dist: Literal["lognormal"]

    def draw_s(self, rng: np.random.Generator, n: int) -> np.ndarray:
        cv = self.std_value / self.mean
        sigma2 = math.log1p(cv * cv)
        mu = math.log(self.mean * self.scale_s) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), n)


class Triangular(_Dist):
    """Triangular between ``min`` and ``max`` with the given ``mode``."""

    dist: Literal["triangular"]
    min: float = Field(ge=0, description="Lower limit [unit].")
    mode: float = Field(ge=0, description="Most likely value [unit].")
    max: float = Field(gt=0, description="Upper limit [unit].")

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.min <= self.mode <= self.max) or self.min == self.max:
            raise ValueError(
                f"expected min <= mode <= max and min < max (got min={self.min:g}, "
                f"mode={self.mode:g}, max={self.max:g})"
            )
        return self

    def mean_s(self) -> float:
        return (self.min + self.mode + self.max) / 3 * self.scale_s

    def draw_s(self, rng: np.random.Generator, n: int) -> np.ndarray:
        s = self.scale_s
        return rng.triangular(self.min * s, self.mode * s, self.max * s, n)


class Uniform(_Dist):
    """Uniform between ``min`` and ``max``."""

    dist: Literal["uniform"]
    min: float = Field(ge=0, description="Lower limit [unit].")
    max: float = Field(gt=0, description="Upper limit [unit].")

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.min >= self.max:
            raise ValueError(f"expected min < max (got min={self.min:g}, max={self.max:g})")
        return self

    def mean_s(self) -> float:
        return (self.min + self.max) / 2 * self.scale_s

    def draw_s(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.min * self.scale_s, self.max * self.scale_s, n)


class Weibull(_Dist):
    """Weibull with shape k and scale lambda; mean = lambda * Gamma(1 + 1/k). Common for times to
    failure (k > 1: wear-out, k < 1: infant mortality)."""

    dist: Literal["weibull"]
    shape: float = Field(gt=0, description="Shape k [-].")
    scale: float = Field(gt=0, description="Scale lambda [unit].")

    def mean_s(self) -> float:
        return self.scale * math.gamma(1 + 1 / self.shape) * self.scale_s

    def draw_s(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.scale * self.scale_s * rng.weibull(self.shape, n)


class Empirical(_Dist):
    """Resamples observed values, optionally with weights (e.g. measured cycle times)."""

    dist: Literal["empirical"]
    values: list[Annotated[float, Field(ge=0)]] = Field(
        min_length=1, description="Observed values [unit]."
    )
    weights: list[Annotated[float, Field(ge=0)]] | None = Field(
        None, description="Relative frequency of each value [-]; equal when omitted."
    )

    @model_validator(mode="after")
    def _weights_match(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"'weights' has {len(self.weights)} entries but 'values' has "
                    f"{len(self.values)}; expected one weight per value"
                )
            if sum(self.weights) <= 0:
                raise ValueError("expected at least one weight > 0 (all are 0)")
        return self

    def _p(self) -> np.ndarray | None:
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def mean_s(self) -> float:
        v = np.asarray(self.values, dtype=float)
        p = self._p()
        return float(v.mean() if p is None else (v * p).sum()) * self.scale_s

    def draw_s(self, rng: np.random.Generator, n: int) -> np.ndarray:
        v = np.asarray(self.values, dtype=float) * self.scale_s
        return rng.choice(v, size=n, p=self._p())


Distribution = Annotated[
    Constant | Exponential | Normal | LogNormal | Triangular | Uniform | Weibull | Empirical,
    Field(discriminator="dist"),
]
"""Any time distribution, chosen by its ``dist`` tag."""


def require_progress(dist: _Dist, field: str) -> None:
    """Refuse a time between repeated events whose mean is 0: every draw is then 0 (draws are
    >= 0), and a loop over such times never advances the clock (constant 0, empirical all 0,
    all weight on 0). Raises ValueError naming ``field``."""
    if dist.mean_s() <= 0:
        raise ValueError(f"{field}: every draw of this distribution is 0, so the events would "
                         f"repeat forever at one instant; expected a mean > 0")
