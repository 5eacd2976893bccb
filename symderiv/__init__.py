"""symderiv: checks hand-written backpropagation derivations."""
