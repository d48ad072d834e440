"""The math of a network: activations, output layers and their losses, initializers,
parameters, forward and backward propagation, optimizers, schedules and dropout.

Nothing here imports the rest of scratchnet but its error family (``scratchnet.errors``).
"""
