"""Plant configuration: pydantic models, YAML loading and precise errors."""

from twin.config.errors import ConfigError, ConfigIssue
from twin.config.loader import load_plant, plant_from_data, read_yaml
from twin.config.plant import CARRIERS, Plant

__all__ = ["CARRIERS", "ConfigError", "ConfigIssue", "Plant", "load_plant", "plant_from_data",
           "read_yaml"]
