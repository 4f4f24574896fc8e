"""The network and its functions: activations, softmax and cross-entropy, the numpy MLP with
its forward and backward pass (slides "Backpropagation"), and the initialisers (Glorot and
Bengio)."""
