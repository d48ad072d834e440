"""Training: the loop of epochs and gradient steps, how rows are batched, what a run
records, and the callbacks that hook into it."""
