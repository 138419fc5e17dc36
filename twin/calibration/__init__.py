"""Calibration: the twin against its plant's meters (ASHRAE Guideline 14)."""
