"""Data: MNIST from its official IDX files (verified, cached, downloaded once), the
preprocessing that turns images into network input, and the replay of the tutorial's
random stream."""
