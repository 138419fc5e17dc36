"""Metered energy in: meter files (CSV, Parquet, XLSX; wide or long; kWh, kW or registers) read
into clean energy per interval, with a data-quality pass that counts every left-out reading.

Used by ``twin calibrate`` (ASHRAE Guideline 14) to compare the model with the plant's meters::

    spec = MeterSpec.model_validate(yaml_dict["meter"])
    data = load_meters(spec, base_dir, tz="Asia/Shanghai", interval_s=900)
    data.energy, data.quality, data.excluded, data.hourly()
"""

from twin.measured.errors import MeterDataError
from twin.measured.load import MeasuredData, load_meters
from twin.measured.quality import REASONS
from twin.measured.spec import MeterColumn, MeterSpec, MeterTarget, QualitySpec, meter_spec
from twin.measured.targets import check_targets

__all__ = [
    "REASONS",
    "MeasuredData",
    "MeterColumn",
    "MeterDataError",
    "MeterSpec",
    "MeterTarget",
    "QualitySpec",
    "check_targets",
    "load_meters",
    "meter_spec",
]
