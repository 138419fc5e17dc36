"""Calibration of a plant against its metered energy (ASHRAE Guideline 14-2014): goodness of fit,
fitting of uncertain parameters, identifiability, the calibrated plant out."""
