"""Production strategies: ways of running the plant that act inside the simulation.

A strategy is a small class registered by name; a plant file (or a study scenario) selects it::

    strategies:
      - type: smart_standby          # the registered name
        timeout: break_even          # the strategy's own parameters, validated by its Params

Each strategy declares its parameters as a pydantic model (``Params``, unknown keys are errors)
and hooks into the built model in :meth:`Strategy.install`, after :func:`twin.engine.build` and
before the run: it may set hooks on station runtimes and machines, and start SimPy processes.
Strategies read the signals the EMS publishes (``model.ems``: state of charge, site demand,
price, TOU period, grid carbon intensity) and the plant's calendar; they never change the
config. Battery dispatch policies are a separate, smaller interface:
:class:`twin.energy.ems.DispatchPolicy`.

Plug in your own from Python::

    from twin.strategies import Strategy, register_strategy

    @register_strategy("my_rule")
    class MyRule(Strategy):
        class Params(StrategyParams):
            limit_kw: float

        def install(self, model):
            ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from twin.config.base import _Model
from twin.config.errors import ConfigIssue

if TYPE_CHECKING:
    from twin.config.plant import Plant
    from twin.engine import Model


class StrategyParams(_Model):
    """Base of every strategy's parameter model (frozen, unknown keys are errors)."""


class Strategy:
    """A way of running the plant. Subclass, give ``Params`` and :meth:`install`, and register
    it with :func:`register_strategy`."""

    name: ClassVar[str] = "base"
    Params: ClassVar[type[StrategyParams]] = StrategyParams
    reads_storage: ClassVar[bool] = True
    """Whether the strategy reads the batteries' state of charge while the plant runs
    (``model.signals.soc_frac()``); then the EMS balances every interval in the loop, else it
    settles them after the run (faster, same result). Say False when you do not read it."""

    needs_production: ClassVar[bool] = True
    """Whether the strategy acts on production (stations, machines, lots); a plant without
    production (:attr:`twin.config.plant.Plant.has_production`) refuses it when loaded. Say
    False for a strategy that acts only on base loads or the energy supply."""

    def __init__(self, params: StrategyParams):
        self.params = params

    def install(self, model: Model) -> None:
        """Hook into the built model before it runs (set hooks, start processes)."""
        raise NotImplementedError

    @classmethod
    def check(cls, plant: Plant, params: StrategyParams) -> list[ConfigIssue]:
        """What the parameters get wrong about this plant (e.g. a station id that does not
        exist), with field paths relative to the strategy's entry; run when the file is loaded."""
        return []

    def report(self, model: Model) -> dict[str, Any]:
        """What the strategy did, for the run's KPIs (``kpis['strategies'][name]``); JSON-safe."""
        return {}


STRATEGIES: dict[str, type[Strategy]] = {}
"""Registered strategies by name."""


def register_strategy(name: str) -> Callable[[type[Strategy]], type[Strategy]]:
    """Class decorator: make a strategy selectable by ``name`` in plant and study files."""

    def add(cls: type[Strategy]) -> type[Strategy]:
        STRATEGIES[name] = cls
        cls.name = name
        return cls

    return add


def _load_builtin() -> None:
    """Import the modules that register the built-in strategies."""
    # Each built-in strategy module registers itself on import; add new modules here.
    import importlib
    import pkgutil

    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")


def get_strategy(name: str) -> type[Strategy]:
    """The strategy class registered as ``name`` (KeyError if none)."""
    if name not in STRATEGIES:
        _load_builtin()
    return STRATEGIES[name]


def known_strategies() -> list[str]:
    """Names of all registered strategies, built-in ones included."""
    _load_builtin()
    return sorted(STRATEGIES)
