"""Compatibility layers: other libraries' schedules as optax_scheds schedules."""
