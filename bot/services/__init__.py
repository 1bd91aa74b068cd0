"""Domain services: plain values in, plain results out, one transaction per call."""
