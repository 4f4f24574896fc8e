"""Optimisers and their schedules, trajectories on the lecture's cost surfaces, and the training
loops (numpy and torch) of the slides "Gradient descent", "Momentum", "Mini-batch training"."""
