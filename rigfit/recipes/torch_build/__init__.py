"""`rigfit build-torch`: PyTorch from source for a CPU no published GPU wheel runs on, checked to stay within it."""
