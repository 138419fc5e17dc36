"""Equipment: power states and machines."""
